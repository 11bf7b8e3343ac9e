"""archive lookup (档案调阅): policies, requests, items

Revision ID: lookup_0001
Revises: archive_0001
"""
import sqlalchemy as sa
from alembic import op

revision = 'lookup_0001'
down_revision = 'archive_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lookup_policies',
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('due_days', sa.Integer(), nullable=False),
    sa.Column('max_days', sa.Integer(), nullable=False),
    sa.Column('decider', sa.String(length=10), nullable=False),
    sa.Column('leader_first', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_lookup_policies_department_id_departments')),
    sa.PrimaryKeyConstraint('department_id', name=op.f('pk_lookup_policies'))
    )
    op.create_table('lookup_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('contact', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('leader_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('until', sa.DateTime(), nullable=True),
    sa.Column('extension_days', sa.Integer(), nullable=True),
    sa.Column('extension_state', sa.String(length=10), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('letter_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_lookup_requests_department_id_departments')),
    sa.ForeignKeyConstraint(['holder_id'], ['departments.id'], name=op.f('fk_lookup_requests_holder_id_departments')),
    sa.ForeignKeyConstraint(['leader_id'], ['users.id'], name=op.f('fk_lookup_requests_leader_id_users')),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_lookup_requests_requester_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lookup_requests')),
    sa.UniqueConstraint('number', name=op.f('uq_lookup_requests_number'))
    )
    with op.batch_alter_table('lookup_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lookup_requests_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lookup_requests_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_lookup_requests_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lookup_requests_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lookup_requests_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_lookup_requests_until'), ['until'], unique=False)
    op.create_table('lookup_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('form', sa.String(length=10), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_lookup_items_decided_by_users')),
    sa.ForeignKeyConstraint(['item_id'], ['archive_items.id'], name=op.f('fk_lookup_items_item_id_archive_items')),
    sa.ForeignKeyConstraint(['request_id'], ['lookup_requests.id'], name=op.f('fk_lookup_items_request_id_lookup_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lookup_items')),
    sa.UniqueConstraint('request_id', 'item_id', name='uq_lookup_items_request_item')
    )
    with op.batch_alter_table('lookup_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lookup_items_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lookup_items_request_id'), ['request_id'], unique=False)


def downgrade() -> None:
    op.drop_table('lookup_items')
    op.drop_table('lookup_requests')
    op.drop_table('lookup_policies')
