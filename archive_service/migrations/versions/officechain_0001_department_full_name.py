"""departments: 全称 (full name) beside the short display name

Revision ID: officechain_0001
Revises: security_0002
"""
import sqlalchemy as sa
from alembic import op

revision = 'officechain_0001'
down_revision = 'security_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD/DROP COLUMN, not a batch copy: on SQLite a batch copy would drop the referenced table
    op.add_column('departments', sa.Column('full_name', sa.String(length=100), server_default='', nullable=False))


def downgrade() -> None:
    op.execute("ALTER TABLE departments DROP COLUMN full_name")
