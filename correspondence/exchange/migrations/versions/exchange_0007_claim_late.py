"""pushes: a claim by hand after the due day is recorded as late (督办 counts on-time claims)

Revision ID: exchange_0007
Revises: exchange_0006
"""
import sqlalchemy as sa
from alembic import op

revision = 'exchange_0007'
down_revision = 'exchange_0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('exchange_pushes', sa.Column('claim_late', sa.Boolean(), server_default='0', nullable=False))
    op.create_index('ix_exchange_pushes_pushed_on', 'exchange_pushes', ['pushed_on'])
    op.create_index('ix_exchange_revocations_pushed_on', 'exchange_revocations', ['pushed_on'])


def downgrade() -> None:
    op.drop_index('ix_exchange_revocations_pushed_on', 'exchange_revocations')
    op.drop_index('ix_exchange_pushes_pushed_on', 'exchange_pushes')
    op.execute("ALTER TABLE exchange_pushes DROP COLUMN claim_late")
