"""archive items: the 归档章 copy may be pending (derived by the worker after a bulk import)

Revision ID: archiveperf_0001
Revises: archive_0001
"""
import sqlalchemy as sa
from alembic import op

revision = 'archiveperf_0001'
down_revision = 'archive_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('archive_items') as batch:
        batch.add_column(sa.Column('stamp_pending', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('archive_items') as batch:
        batch.drop_column('stamp_pending')
