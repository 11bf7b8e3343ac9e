"""督办 counters per kind, month and department (kept by the services, filled here from the rows); the
covering indexes the dashboard used to count over are dropped

Revision ID: exchange_0010
Revises: exchange_0009
"""
import sqlalchemy as sa
from alembic import op

revision = 'exchange_0010'
down_revision = 'exchange_0009'
branch_labels = None
depends_on = None

MONTH = "substr(CAST({} AS VARCHAR(10)), 1, 7)"
FILL = [  # (kind, measure, table, month column, department column, condition, join)
    ("push", "total", "exchange_pushes p", "p.pushed_on", "p.regulator_id", "1=1", ""),
    ("push", "on_time", "exchange_pushes p", "p.pushed_on", "p.regulator_id",
     "p.state = 'claimed' AND NOT p.claim_late", ""),
    ("push", "late", "exchange_pushes p", "p.pushed_on", "p.regulator_id", "p.state = 'claimed' AND p.claim_late", ""),
    ("push", "auto", "exchange_pushes p", "p.pushed_on", "p.regulator_id", "p.state = 'auto_claimed'", ""),
    ("push", "unclaimed", "exchange_pushes p", "p.pushed_on", "p.regulator_id", "p.state = 'unclaimed'", ""),
    ("revocation", "total", "exchange_revocations r", "r.pushed_on", "r.regulator_id", "1=1", ""),
    ("revocation", "late", "exchange_revocations r", "r.pushed_on", "r.regulator_id", "r.late", ""),
    ("revocation", "handled", "exchange_revocations r", "r.pushed_on", "r.regulator_id",
     "r.state IN ('done', 'not_done')", ""),
    ("revocation", "open", "exchange_revocations r", "r.pushed_on", "r.regulator_id",
     "r.state NOT IN ('done', 'not_done')", ""),
    ("info", "total", "exchange_info_requests i", "i.due_on", "p.regulator_id", "1=1",
     "JOIN exchange_pushes p ON p.id = i.push_id"),
    ("info", "answered", "exchange_info_requests i", "i.due_on", "p.regulator_id", "i.answered_at IS NOT NULL",
     "JOIN exchange_pushes p ON p.id = i.push_id"),
]


def upgrade() -> None:
    op.create_table(
        'exchange_board_counts',
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('measure', sa.String(length=20), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'month', 'department_id', 'measure', name=op.f('pk_exchange_board_counts')),
    )
    for kind, measure, table, month_col, dept_col, where, join in FILL:
        month = MONTH.format(month_col)
        op.execute(f"INSERT INTO exchange_board_counts (kind, month, department_id, measure, n) "
                   f"SELECT '{kind}', {month}, {dept_col}, '{measure}', count(*) FROM {table} {join} "
                   f"WHERE {where} GROUP BY {month}, {dept_col}")
    op.drop_index('ix_exchange_pushes_dashboard', 'exchange_pushes')
    op.drop_index('ix_exchange_revocations_dashboard', 'exchange_revocations')


def downgrade() -> None:
    op.create_index('ix_exchange_pushes_dashboard', 'exchange_pushes',
                    ['pushed_on', 'regulator_id', 'state', 'claim_late'])
    op.create_index('ix_exchange_revocations_dashboard', 'exchange_revocations',
                    ['pushed_on', 'regulator_id', 'state', 'late'])
    op.drop_table('exchange_board_counts')
