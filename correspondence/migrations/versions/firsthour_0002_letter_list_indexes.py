"""letter list indexes (letters by last change, incoming letters by issue time)

Revision ID: firsthour_0002
Revises: 0200
"""
from alembic import op

revision = 'firsthour_0002'
down_revision = '0200'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.create_index('ix_letters_updated_at_id', ['updated_at', 'id'], unique=False)
        batch_op.create_index('ix_letters_issued_at_id', ['issued_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.drop_index('ix_letters_issued_at_id')
        batch_op.drop_index('ix_letters_updated_at_id')
