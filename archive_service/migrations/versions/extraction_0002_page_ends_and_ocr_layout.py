"""extraction: per-page text ends and the OCR layout of each extraction

Revision ID: extraction_0002
Revises: extraction_0001
"""
import sqlalchemy as sa
from alembic import op

revision = 'extraction_0002'
down_revision = 'extraction_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('text_extractions') as batch:
        batch.add_column(sa.Column('page_ends', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('layout', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('text_extractions') as batch:
        batch.drop_column('layout')
        batch.drop_column('page_ends')
