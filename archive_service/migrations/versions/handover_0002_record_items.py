"""handover: the 交接文据 filed as an item of each side; who accepted

Revision ID: handover_0002
Revises: handover_0001
Create Date: 2026-12-01 10:55:57.207478
"""
import sqlalchemy as sa
from alembic import op

revision = 'handover_0002'
down_revision = 'handover_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handover_revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepted_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_handover_revisions_accepted_by_users'), 'users', ['accepted_by'], ['id'])

    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender_record_item_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('receiver_record_item_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_handovers_sender_record_item_id_archive_items'), 'archive_items', ['sender_record_item_id'], ['id'])
        batch_op.create_foreign_key(
            batch_op.f('fk_handovers_receiver_record_item_id_archive_items'), 'archive_items', ['receiver_record_item_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_handovers_receiver_record_item_id_archive_items'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_handovers_sender_record_item_id_archive_items'), type_='foreignkey')
        batch_op.drop_column('receiver_record_item_id')
        batch_op.drop_column('sender_record_item_id')

    with op.batch_alter_table('handover_revisions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_handover_revisions_accepted_by_users'), type_='foreignkey')
        batch_op.drop_column('accepted_by')

