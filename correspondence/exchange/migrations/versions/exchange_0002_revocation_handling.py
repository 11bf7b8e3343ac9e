"""revocation requests: the bureau's verification note and handling outcome

Revision ID: exchange_0002
Revises: exchange_0001
"""
import sqlalchemy as sa
from alembic import op

revision = 'exchange_0002'
down_revision = 'exchange_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (no batch copy: exchange_notifications refers to this table)
    op.add_column('exchange_revocations', sa.Column('outcome', sa.String(length=20), server_default='', nullable=False))
    op.add_column('exchange_revocations', sa.Column('verify_note', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    op.execute("ALTER TABLE exchange_revocations DROP COLUMN verify_note")
    op.execute("ALTER TABLE exchange_revocations DROP COLUMN outcome")
