"""co-issuing departments of a sign-off flow as rows, not a comma-separated column

Revision ID: uow_0001
Revises: 0100
"""
import sqlalchemy as sa
from alembic import op

revision = 'uow_0001'
down_revision = '0100'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signoff_co_departments',
    sa.Column('flow_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_signoff_co_departments_department_id_departments')),
    sa.ForeignKeyConstraint(['flow_id'], ['signoff_flows.id'], name=op.f('fk_signoff_co_departments_flow_id_signoff_flows'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('flow_id', 'department_id', name=op.f('pk_signoff_co_departments'))
    )
    conn = op.get_bind()
    rows = []
    for flow_id, ids in conn.execute(sa.text("SELECT id, co_departments FROM signoff_flows "
                                             "WHERE co_departments <> ''")):
        seen = []
        for part in str(ids).split(","):
            if part.strip().isdigit() and int(part) not in seen:
                seen.append(int(part))
        rows += [{"flow_id": flow_id, "department_id": d, "position": i} for i, d in enumerate(seen, 1)]
    if rows:
        table = sa.table('signoff_co_departments', sa.column('flow_id', sa.Integer),
                         sa.column('department_id', sa.Integer), sa.column('position', sa.Integer))
        op.bulk_insert(table, rows)
    # A plain DROP COLUMN (SQLite >= 3.35, PostgreSQL), not a batch copy: on SQLite a batch copy drops
    # the old table, and with foreign keys on that would cascade into signoff_steps and the new rows.
    op.execute("ALTER TABLE signoff_flows DROP COLUMN co_departments")


def downgrade() -> None:
    with op.batch_alter_table('signoff_flows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('co_departments', sa.String(length=200), server_default='', nullable=False))
    conn = op.get_bind()
    joined: dict[int, list[str]] = {}
    for flow_id, dept_id in conn.execute(sa.text("SELECT flow_id, department_id FROM signoff_co_departments "
                                                 "ORDER BY flow_id, position")):
        joined.setdefault(int(str(flow_id)), []).append(str(dept_id))
    for flow_id, ids in joined.items():
        conn.execute(sa.text("UPDATE signoff_flows SET co_departments = :ids WHERE id = :id"),
                     {"ids": ",".join(ids), "id": flow_id})
    op.drop_table('signoff_co_departments')
