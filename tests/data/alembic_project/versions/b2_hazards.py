"""the four hazards

Revision ID: b2
Revises: a1
Create Date: 2024-01-02 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "b2"
down_revision = "a1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column("users", "nickname")
    op.add_column("users", sa.Column("email", sa.String(100), nullable=False))
    op.create_index("ix_orders_user_id", "orders", ["user_id"])
    op.execute("DELETE FROM orders")


def downgrade() -> None:
    op.drop_index("ix_orders_user_id", table_name="orders")
    op.drop_column("users", "email")
    op.add_column("users", sa.Column("nickname", sa.String(50)))
