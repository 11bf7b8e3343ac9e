"""archive items: the import run that filed them (its page shows the text recognition of its files)

Revision ID: importocr_0002
Revises: importocr_0001
"""
import sqlalchemy as sa
from alembic import op

revision = 'importocr_0002'
down_revision = 'importocr_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('archive_items') as batch:
        batch.add_column(sa.Column('import_run_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_archive_items_import_run_id_archive_import_runs', 'archive_import_runs',
                                 ['import_run_id'], ['id'])
        batch.create_index('ix_archive_items_import_run_id', ['import_run_id'])


def downgrade() -> None:
    with op.batch_alter_table('archive_items') as batch:
        batch.drop_index('ix_archive_items_import_run_id')
        batch.drop_constraint('fk_archive_items_import_run_id_archive_import_runs', type_='foreignkey')
        batch.drop_column('import_run_id')
