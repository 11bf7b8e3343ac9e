"""审管互动: matter register, approval records and their pushes, notifications, revocation requests

Revision ID: exchange_0001
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = 'exchange_0001'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'exchange_matters',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('section_id', sa.Integer(), nullable=False),
        sa.Column('transferred_from', sa.String(length=100), nullable=False),
        sa.Column('transferred_on', sa.Date(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['section_id'], ['departments.id'], name=op.f('fk_exchange_matters_section_id_departments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_matters')),
        sa.UniqueConstraint('code', name=op.f('uq_exchange_matters_code')),
    )
    op.create_index(op.f('ix_exchange_matters_section_id'), 'exchange_matters', ['section_id'])
    op.create_table(
        'exchange_matter_regulators',
        sa.Column('matter_id', sa.Integer(), nullable=False),
        sa.Column('regulator_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['matter_id'], ['exchange_matters.id'], ondelete='CASCADE',
                                name=op.f('fk_exchange_matter_regulators_matter_id_exchange_matters')),
        sa.ForeignKeyConstraint(['regulator_id'], ['departments.id'],
                                name=op.f('fk_exchange_matter_regulators_regulator_id_departments')),
        sa.PrimaryKeyConstraint('matter_id', 'regulator_id', name=op.f('pk_exchange_matter_regulators')),
    )
    op.create_table(
        'exchange_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('matter_id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('applicant', sa.String(length=200), nullable=False),
        sa.Column('credit_code', sa.String(length=18), nullable=False),
        sa.Column('licence_no', sa.String(length=100), nullable=False),
        sa.Column('decision', sa.String(length=20), nullable=False),
        sa.Column('decided_on', sa.Date(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_exchange_records_created_by_users')),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_exchange_records_department_id_departments')),
        sa.ForeignKeyConstraint(['matter_id'], ['exchange_matters.id'], name=op.f('fk_exchange_records_matter_id_exchange_matters')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_records')),
    )
    op.create_index(op.f('ix_exchange_records_department_id'), 'exchange_records', ['department_id'])
    op.create_index(op.f('ix_exchange_records_matter_id'), 'exchange_records', ['matter_id'])
    op.create_table(
        'exchange_record_documents',
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_exchange_record_documents_document_id_documents')),
        sa.ForeignKeyConstraint(['record_id'], ['exchange_records.id'], ondelete='CASCADE',
                                name=op.f('fk_exchange_record_documents_record_id_exchange_records')),
        sa.PrimaryKeyConstraint('record_id', 'document_id', name=op.f('pk_exchange_record_documents')),
    )
    op.create_table(
        'exchange_pushes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('regulator_id', sa.Integer(), nullable=False),
        sa.Column('pushed_at', sa.DateTime(), nullable=False),
        sa.Column('pushed_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('claimed_by', sa.Integer(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['claimed_by'], ['users.id'], name=op.f('fk_exchange_pushes_claimed_by_users')),
        sa.ForeignKeyConstraint(['record_id'], ['exchange_records.id'], name=op.f('fk_exchange_pushes_record_id_exchange_records')),
        sa.ForeignKeyConstraint(['regulator_id'], ['departments.id'], name=op.f('fk_exchange_pushes_regulator_id_departments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_pushes')),
    )
    op.create_index(op.f('ix_exchange_pushes_record_id'), 'exchange_pushes', ['record_id'])
    op.create_index('ix_exchange_pushes_state_due', 'exchange_pushes', ['state', 'due_on'])
    op.create_index('ix_exchange_pushes_regulator_state', 'exchange_pushes', ['regulator_id', 'state'])
    op.create_table(
        'exchange_revocations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('regulator_id', sa.Integer(), nullable=False),
        sa.Column('matter_id', sa.Integer(), nullable=False),
        sa.Column('section_id', sa.Integer(), nullable=False),
        sa.Column('licensee', sa.String(length=200), nullable=False),
        sa.Column('discovered_on', sa.Date(), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('facts', sa.Text(), nullable=False),
        sa.Column('pushed_at', sa.DateTime(), nullable=False),
        sa.Column('pushed_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('late', sa.Boolean(), nullable=False),
        sa.Column('late_days', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('result', sa.Text(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_exchange_revocations_created_by_users')),
        sa.ForeignKeyConstraint(['matter_id'], ['exchange_matters.id'], name=op.f('fk_exchange_revocations_matter_id_exchange_matters')),
        sa.ForeignKeyConstraint(['regulator_id'], ['departments.id'], name=op.f('fk_exchange_revocations_regulator_id_departments')),
        sa.ForeignKeyConstraint(['section_id'], ['departments.id'], name=op.f('fk_exchange_revocations_section_id_departments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_revocations')),
    )
    op.create_index(op.f('ix_exchange_revocations_matter_id'), 'exchange_revocations', ['matter_id'])
    op.create_index(op.f('ix_exchange_revocations_section_id'), 'exchange_revocations', ['section_id'])
    op.create_index('ix_exchange_revocations_regulator', 'exchange_revocations', ['regulator_id', 'id'])
    op.create_table(
        'exchange_revocation_documents',
        sa.Column('revocation_id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_exchange_revocation_documents_document_id_documents')),
        sa.ForeignKeyConstraint(['revocation_id'], ['exchange_revocations.id'], ondelete='CASCADE',
                                name=op.f('fk_exchange_revocation_documents_revocation_id_exchange_revocations')),
        sa.PrimaryKeyConstraint('revocation_id', 'document_id', name=op.f('pk_exchange_revocation_documents')),
    )
    op.create_table(
        'exchange_notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('push_id', sa.Integer(), nullable=True),
        sa.Column('revocation_id', sa.Integer(), nullable=True),
        sa.Column('message', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_exchange_notifications_department_id_departments')),
        sa.ForeignKeyConstraint(['push_id'], ['exchange_pushes.id'], name=op.f('fk_exchange_notifications_push_id_exchange_pushes')),
        sa.ForeignKeyConstraint(['revocation_id'], ['exchange_revocations.id'],
                                name=op.f('fk_exchange_notifications_revocation_id_exchange_revocations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_notifications')),
    )
    op.create_index('ix_exchange_notifications_dept_read', 'exchange_notifications', ['department_id', 'read_at'])


def downgrade() -> None:
    for table in ('exchange_notifications', 'exchange_revocation_documents', 'exchange_revocations',
                  'exchange_pushes', 'exchange_record_documents', 'exchange_records', 'exchange_matter_regulators',
                  'exchange_matters'):
        op.drop_table(table)
