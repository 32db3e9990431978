"""merge the two branches

Revision ID: d4
Revises: b2, c3
Create Date: 2024-01-04 00:00:00
"""
revision = "d4"
down_revision = ("b2", "c3")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
