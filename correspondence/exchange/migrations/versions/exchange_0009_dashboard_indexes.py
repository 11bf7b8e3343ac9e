"""督办: covering indexes for the counts per day, department and state (instead of the plain date ones)

Revision ID: exchange_0009
Revises: exchange_0008
"""
from alembic import op

revision = 'exchange_0009'
down_revision = 'exchange_0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_exchange_pushes_pushed_on', 'exchange_pushes')
    op.drop_index('ix_exchange_revocations_pushed_on', 'exchange_revocations')
    op.create_index('ix_exchange_pushes_dashboard', 'exchange_pushes',
                    ['pushed_on', 'regulator_id', 'state', 'claim_late'])
    op.create_index('ix_exchange_revocations_dashboard', 'exchange_revocations',
                    ['pushed_on', 'regulator_id', 'state', 'late'])


def downgrade() -> None:
    op.drop_index('ix_exchange_revocations_dashboard', 'exchange_revocations')
    op.drop_index('ix_exchange_pushes_dashboard', 'exchange_pushes')
    op.create_index('ix_exchange_pushes_pushed_on', 'exchange_pushes', ['pushed_on'])
    op.create_index('ix_exchange_revocations_pushed_on', 'exchange_revocations', ['pushed_on'])
