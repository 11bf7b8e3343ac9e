"""policy-change notices (第二十七条) and higher-level meeting / training notices, with their letter

Revision ID: exchange_0004
Revises: exchange_0003
"""
import sqlalchemy as sa
from alembic import op

revision = 'exchange_0004'
down_revision = 'exchange_0003'
branch_labels = None
depends_on = '0200'  # the letters table (the correspondence branch)


def upgrade() -> None:
    op.create_table(
        'exchange_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('regulator_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('effective_on', sa.Date(), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('letter_id', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_exchange_notices_created_by_users')),
        sa.ForeignKeyConstraint(['letter_id'], ['letters.id'], name=op.f('fk_exchange_notices_letter_id_letters')),
        sa.ForeignKeyConstraint(['regulator_id'], ['departments.id'],
                                name=op.f('fk_exchange_notices_regulator_id_departments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_notices')),
    )
    op.create_index('ix_exchange_notices_regulator', 'exchange_notices', ['regulator_id', 'id'])
    op.create_table(
        'exchange_notice_matters',
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('matter_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['matter_id'], ['exchange_matters.id'],
                                name=op.f('fk_exchange_notice_matters_matter_id_exchange_matters')),
        sa.ForeignKeyConstraint(['notice_id'], ['exchange_notices.id'], ondelete='CASCADE',
                                name=op.f('fk_exchange_notice_matters_notice_id_exchange_notices')),
        sa.PrimaryKeyConstraint('notice_id', 'matter_id', name=op.f('pk_exchange_notice_matters')),
    )
    op.create_table(
        'exchange_notice_documents',
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name=op.f('fk_exchange_notice_documents_document_id_documents')),
        sa.ForeignKeyConstraint(['notice_id'], ['exchange_notices.id'], ondelete='CASCADE',
                                name=op.f('fk_exchange_notice_documents_notice_id_exchange_notices')),
        sa.PrimaryKeyConstraint('notice_id', 'document_id', name=op.f('pk_exchange_notice_documents')),
    )
    op.create_table(
        'exchange_notice_recipients',
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('section_id', sa.Integer(), nullable=False),
        sa.Column('acked_at', sa.DateTime(), nullable=True),
        sa.Column('acked_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['acked_by'], ['users.id'], name=op.f('fk_exchange_notice_recipients_acked_by_users')),
        sa.ForeignKeyConstraint(['notice_id'], ['exchange_notices.id'], ondelete='CASCADE',
                                name=op.f('fk_exchange_notice_recipients_notice_id_exchange_notices')),
        sa.ForeignKeyConstraint(['section_id'], ['departments.id'],
                                name=op.f('fk_exchange_notice_recipients_section_id_departments')),
        sa.PrimaryKeyConstraint('notice_id', 'section_id', name=op.f('pk_exchange_notice_recipients')),
    )
    op.create_index('ix_exchange_notice_recipients_section', 'exchange_notice_recipients',
                    ['section_id', 'acked_at'])
    op.add_column('exchange_notifications', sa.Column('notice_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE exchange_notifications DROP COLUMN notice_id")
    for table in ('exchange_notice_recipients', 'exchange_notice_documents', 'exchange_notice_matters',
                  'exchange_notices'):
        op.drop_table(table)
