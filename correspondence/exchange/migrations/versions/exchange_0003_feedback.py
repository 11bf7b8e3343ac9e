"""regulator feedback on claimed pushes (行政处罚, 信用信息, 检查结果) with attachments

Revision ID: exchange_0003
Revises: exchange_0002
"""
import sqlalchemy as sa
from alembic import op

revision = 'exchange_0003'
down_revision = 'exchange_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'exchange_feedback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('push_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('decided_on', sa.Date(), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_exchange_feedback_created_by_users')),
        sa.ForeignKeyConstraint(['push_id'], ['exchange_pushes.id'], name=op.f('fk_exchange_feedback_push_id_exchange_pushes')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_feedback')),
    )
    op.create_index(op.f('ix_exchange_feedback_push_id'), 'exchange_feedback', ['push_id'])
    op.create_table(
        'exchange_feedback_documents',
        sa.Column('feedback_id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name=op.f('fk_exchange_feedback_documents_document_id_documents')),
        sa.ForeignKeyConstraint(['feedback_id'], ['exchange_feedback.id'], ondelete='CASCADE',
                                name=op.f('fk_exchange_feedback_documents_feedback_id_exchange_feedback')),
        sa.PrimaryKeyConstraint('feedback_id', 'document_id', name=op.f('pk_exchange_feedback_documents')),
    )


def downgrade() -> None:
    op.drop_table('exchange_feedback_documents')
    op.drop_table('exchange_feedback')
