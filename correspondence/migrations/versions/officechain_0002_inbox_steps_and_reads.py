"""收文办理: the steps of an incoming letter (初审, 拟办, 批办, 催办, 办结 …) and the 传阅 read receipts

Revision ID: officechain_0002
Revises: uow_0002
"""
import sqlalchemy as sa
from alembic import op

revision = 'officechain_0002'
down_revision = 'uow_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('letter_inbox_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('opinion', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_letter_inbox_steps_actor_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['letter_recipients.id'],
                            name=op.f('fk_letter_inbox_steps_item_id_letter_recipients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_inbox_steps'))
    )
    op.create_index(op.f('ix_letter_inbox_steps_item_id'), 'letter_inbox_steps', ['item_id'], unique=False)
    op.create_table('letter_inbox_reads',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sent_by', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['letter_recipients.id'],
                            name=op.f('fk_letter_inbox_reads_item_id_letter_recipients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sent_by'], ['users.id'], name=op.f('fk_letter_inbox_reads_sent_by_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_letter_inbox_reads_user_id_users')),
    sa.PrimaryKeyConstraint('item_id', 'user_id', name=op.f('pk_letter_inbox_reads'))
    )


def downgrade() -> None:
    op.drop_table('letter_inbox_reads')
    op.drop_index(op.f('ix_letter_inbox_steps_item_id'), table_name='letter_inbox_steps')
    op.drop_table('letter_inbox_steps')
