"""督办 lists the revocation requests pushed late, newest first: an index on (late, pushed_on)

Revision ID: exchange_0011
Revises: exchange_0010
"""
from alembic import op

revision = 'exchange_0011'
down_revision = 'exchange_0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_exchange_revocations_late', 'exchange_revocations', ['late', 'pushed_on'])


def downgrade() -> None:
    op.drop_index('ix_exchange_revocations_late', 'exchange_revocations')
