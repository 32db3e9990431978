"""a branch: a nullable column on orders

Revision ID: c3
Revises: a1
Create Date: 2024-01-03 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "c3"
down_revision = "a1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("orders", "note")
