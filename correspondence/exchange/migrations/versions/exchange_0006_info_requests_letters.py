"""information requests on pushed records; revocation requests remember their two letters

Revision ID: exchange_0006
Revises: exchange_0005
"""
import sqlalchemy as sa
from alembic import op

revision = 'exchange_0006'
down_revision = 'exchange_0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'exchange_info_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('push_id', sa.Integer(), nullable=False),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('asked_by', sa.Integer(), nullable=False),
        sa.Column('asked_at', sa.DateTime(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('answered_by', sa.Integer(), nullable=True),
        sa.Column('answered_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['answered_by'], ['users.id'],
                                name=op.f('fk_exchange_info_requests_answered_by_users')),
        sa.ForeignKeyConstraint(['asked_by'], ['users.id'], name=op.f('fk_exchange_info_requests_asked_by_users')),
        sa.ForeignKeyConstraint(['push_id'], ['exchange_pushes.id'],
                                name=op.f('fk_exchange_info_requests_push_id_exchange_pushes')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_info_requests')),
    )
    op.create_index(op.f('ix_exchange_info_requests_push_id'), 'exchange_info_requests', ['push_id'])
    op.create_index('ix_exchange_info_requests_open', 'exchange_info_requests', ['answered_at', 'due_on'])
    op.create_table(
        'exchange_info_documents',
        sa.Column('info_request_id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name=op.f('fk_exchange_info_documents_document_id_documents')),
        sa.ForeignKeyConstraint(['info_request_id'], ['exchange_info_requests.id'], ondelete='CASCADE',
                                name=op.f('fk_exchange_info_documents_info_request_id_exchange_info_requests')),
        sa.PrimaryKeyConstraint('info_request_id', 'document_id', name=op.f('pk_exchange_info_documents')),
    )
    op.add_column('exchange_revocations', sa.Column('request_letter_id', sa.Integer(), nullable=True))
    op.add_column('exchange_revocations', sa.Column('result_letter_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE exchange_revocations DROP COLUMN result_letter_id")
    op.execute("ALTER TABLE exchange_revocations DROP COLUMN request_letter_id")
    op.drop_table('exchange_info_documents')
    op.drop_table('exchange_info_requests')
