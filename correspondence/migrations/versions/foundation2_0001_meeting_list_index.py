"""meeting list index (meetings by date, then id: the keyset order of /api/v1/meetings)

Revision ID: foundation2_0001
Revises: officechain_0002
"""
from alembic import op

revision = 'foundation2_0001'
down_revision = 'officechain_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index('ix_meetings_date_id', ['meeting_date', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_meetings_date_id')
