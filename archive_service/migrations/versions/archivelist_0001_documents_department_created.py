"""index documents (department_id, created_at, id): the archivist's 待归档 list, oldest first per department

Revision ID: archivelist_0001
Revises: firsthour_0001
"""
from alembic import op

revision = 'archivelist_0001'
down_revision = 'firsthour_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain CREATE INDEX (no batch rebuild of documents on SQLite, which would drop its count triggers)
    op.create_index('ix_documents_department_created', 'documents', ['department_id', 'created_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_documents_department_created', table_name='documents')
