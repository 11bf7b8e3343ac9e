"""archive import runs: queued for the worker, with a lease (a run whose worker died is taken up again)

Revision ID: importocr_0001
Revises: archiveperf_0001
"""
import sqlalchemy as sa
from alembic import op

revision = 'importocr_0001'
down_revision = 'archiveperf_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('archive_import_runs') as batch:
        batch.add_column(sa.Column('folder', sa.String(300), server_default='', nullable=False))
        batch.add_column(sa.Column('worker', sa.String(80), nullable=True))
        batch.add_column(sa.Column('lease_until', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('archive_import_runs') as batch:
        batch.drop_column('attempts')
        batch.drop_column('lease_until')
        batch.drop_column('worker')
        batch.drop_column('folder')
