"""search: extracted text per document version, indexing failures

Revision ID: 0100
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0100'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('text_extractions',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('chars', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('extracted_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['document_versions.id'], name=op.f('fk_text_extractions_version_id_document_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', name=op.f('pk_text_extractions'))
    )
    op.create_index(op.f('ix_text_extractions_document_id'), 'text_extractions', ['document_id'], unique=False)
    op.create_table('index_failures',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('failed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_index_failures'))
    )


def downgrade() -> None:
    op.drop_table('index_failures')
    op.drop_index(op.f('ix_text_extractions_document_id'), table_name='text_extractions')
    op.drop_table('text_extractions')
