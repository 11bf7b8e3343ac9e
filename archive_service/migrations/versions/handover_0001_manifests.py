"""handover: manifests (移交清单), their revisions and lines, open-manifest claims

Revision ID: handover_0001
Revises: archive_0001
Create Date: 2026-12-01 10:42:29.186848
"""
import sqlalchemy as sa
from alembic import op

revision = 'handover_0001'
down_revision = 'archive_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('handovers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('from_department_id', sa.Integer(), nullable=False),
    sa.Column('to_department_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_handovers_created_by_users')),
    sa.ForeignKeyConstraint(['from_department_id'], ['departments.id'], name=op.f('fk_handovers_from_department_id_departments')),
    sa.ForeignKeyConstraint(['to_department_id'], ['departments.id'], name=op.f('fk_handovers_to_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handovers'))
    )
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handovers_from_department_id'), ['from_department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handovers_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_handovers_to_department_id'), ['to_department_id'], unique=False)

    op.create_table('handover_claims',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('handover_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'], name=op.f('fk_handover_claims_handover_id_handovers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['archive_items.id'], name=op.f('fk_handover_claims_item_id_archive_items')),
    sa.PrimaryKeyConstraint('item_id', name=op.f('pk_handover_claims'))
    )
    with op.batch_alter_table('handover_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_claims_handover_id'), ['handover_id'], unique=False)

    op.create_table('handover_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handover_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('total_bytes', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('sender_flow_id', sa.Integer(), nullable=True),
    sa.Column('receiver_flow_id', sa.Integer(), nullable=True),
    sa.Column('report', sa.Text(), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.Column('exceptions', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'], name=op.f('fk_handover_revisions_handover_id_handovers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['receiver_flow_id'], ['signoff_flows.id'], name=op.f('fk_handover_revisions_receiver_flow_id_signoff_flows')),
    sa.ForeignKeyConstraint(['sender_flow_id'], ['signoff_flows.id'], name=op.f('fk_handover_revisions_sender_flow_id_signoff_flows')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_revisions')),
    sa.UniqueConstraint('handover_id', 'number', name='uq_handover_revisions_handover_number')
    )
    with op.batch_alter_table('handover_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_revisions_handover_id'), ['handover_id'], unique=False)

    op.create_table('handover_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('archival_code', sa.String(length=40), nullable=False),
    sa.Column('doc_number', sa.String(length=80), nullable=False),
    sa.Column('responsible', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('doc_date', sa.Date(), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('retention', sa.String(length=3), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('sm3', sa.String(length=64), nullable=False),
    sa.Column('parts', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['archive_items.id'], name=op.f('fk_handover_lines_item_id_archive_items')),
    sa.ForeignKeyConstraint(['revision_id'], ['handover_revisions.id'], name=op.f('fk_handover_lines_revision_id_handover_revisions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_lines')),
    sa.UniqueConstraint('revision_id', 'item_id', name='uq_handover_lines_revision_item')
    )
    with op.batch_alter_table('handover_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_lines_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handover_lines_revision_id'), ['revision_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('handover_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_lines_revision_id'))
        batch_op.drop_index(batch_op.f('ix_handover_lines_item_id'))

    op.drop_table('handover_lines')
    with op.batch_alter_table('handover_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_revisions_handover_id'))

    op.drop_table('handover_revisions')
    with op.batch_alter_table('handover_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_claims_handover_id'))

    op.drop_table('handover_claims')
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handovers_to_department_id'))
        batch_op.drop_index(batch_op.f('ix_handovers_state'))
        batch_op.drop_index(batch_op.f('ix_handovers_from_department_id'))

    op.drop_table('handovers')
