"""departments' e-mail addresses for the daily digest of unread notifications

Revision ID: exchange_0008
Revises: exchange_0007
"""
import sqlalchemy as sa
from alembic import op

revision = 'exchange_0008'
down_revision = 'exchange_0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'exchange_mailboxes',
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('last_digest_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                                name=op.f('fk_exchange_mailboxes_department_id_departments')),
        sa.PrimaryKeyConstraint('department_id', name=op.f('pk_exchange_mailboxes')),
    )


def downgrade() -> None:
    op.drop_table('exchange_mailboxes')
