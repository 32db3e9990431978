"""create users and orders

Revision ID: a1
Revises:
Create Date: 2024-01-01 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "a1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("nickname", sa.String(50)),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer),
        sa.Column("status", sa.String(20)),
    )


def downgrade() -> None:
    op.drop_table("orders")
    op.drop_table("users")
