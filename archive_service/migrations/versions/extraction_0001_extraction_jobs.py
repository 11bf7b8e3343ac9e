"""extraction: the queue of document versions waiting for sandboxed text extraction

Revision ID: extraction_0001
Revises: 0100
"""
import sqlalchemy as sa
from alembic import op

revision = 'extraction_0001'
down_revision = '0100'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('extraction_jobs',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('available_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('pages_done', sa.Integer(), nullable=False),
    sa.Column('pages_total', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['version_id'], ['document_versions.id'], name=op.f('fk_extraction_jobs_version_id_document_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', name=op.f('pk_extraction_jobs'))
    )
    op.create_index(op.f('ix_extraction_jobs_document_id'), 'extraction_jobs', ['document_id'], unique=False)
    op.create_index(op.f('ix_extraction_jobs_available_at'), 'extraction_jobs', ['available_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_extraction_jobs_available_at'), table_name='extraction_jobs')
    op.drop_index(op.f('ix_extraction_jobs_document_id'), table_name='extraction_jobs')
    op.drop_table('extraction_jobs')
