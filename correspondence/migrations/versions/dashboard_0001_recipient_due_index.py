"""an index on incoming letters' handling deadline: 督办 counts replies per department and due month

Revision ID: dashboard_0001
Revises: firsthour_0002
"""
from alembic import op

revision = 'dashboard_0001'
down_revision = 'firsthour_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_letter_recipients_due_on', 'letter_recipients', ['due_on'])


def downgrade() -> None:
    op.drop_index('ix_letter_recipients_due_on', 'letter_recipients')
