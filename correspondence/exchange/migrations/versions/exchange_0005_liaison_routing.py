"""pushes and revocation requests remember the filed liaison they were routed to (第二十一条)

Revision ID: exchange_0005
Revises: exchange_0004
"""
import sqlalchemy as sa
from alembic import op

revision = 'exchange_0005'
down_revision = 'exchange_0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('exchange_pushes', sa.Column('liaison_id', sa.Integer(), nullable=True))
    op.add_column('exchange_revocations', sa.Column('liaison_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE exchange_revocations DROP COLUMN liaison_id")
    op.execute("ALTER TABLE exchange_pushes DROP COLUMN liaison_id")
