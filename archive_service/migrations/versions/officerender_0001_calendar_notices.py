"""calendar_notices: years whose State Council holiday notice has been entered (ends the estimate)

Revision ID: officerender_0001
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = 'officerender_0001'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'calendar_notices',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('entered_by', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_notices')),
    )


def downgrade() -> None:
    op.drop_table('calendar_notices')
