"""list indexes (documents, audit) and per-department document counts kept by triggers

Revision ID: firsthour_0001
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = 'firsthour_0001'
down_revision = '0002'
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = [
    """CREATE TRIGGER document_counts_insert AFTER INSERT ON documents BEGIN
         INSERT OR IGNORE INTO document_counts (department_id, n) VALUES (NEW.department_id, 0);
         UPDATE document_counts SET n = n + 1 WHERE department_id = NEW.department_id;
       END""",
    """CREATE TRIGGER document_counts_delete AFTER DELETE ON documents BEGIN
         UPDATE document_counts SET n = n - 1 WHERE department_id = OLD.department_id;
       END""",
    """CREATE TRIGGER document_counts_move AFTER UPDATE OF department_id ON documents
       WHEN OLD.department_id IS NOT NEW.department_id BEGIN
         UPDATE document_counts SET n = n - 1 WHERE department_id = OLD.department_id;
         INSERT OR IGNORE INTO document_counts (department_id, n) VALUES (NEW.department_id, 0);
         UPDATE document_counts SET n = n + 1 WHERE department_id = NEW.department_id;
       END""",
]

_PG_FUNCTION = """
CREATE FUNCTION document_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE document_counts SET n = n - 1 WHERE department_id = OLD.department_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO document_counts (department_id, n) VALUES (NEW.department_id, 1)
    ON CONFLICT (department_id) DO UPDATE SET n = document_counts.n + 1;
  END IF;
  RETURN NULL;
END $$"""

_PG_TRIGGERS = [
    "CREATE TRIGGER document_counts_insert_delete AFTER INSERT OR DELETE ON documents "
    "FOR EACH ROW EXECUTE FUNCTION document_counts_track()",
    "CREATE TRIGGER document_counts_move AFTER UPDATE OF department_id ON documents FOR EACH ROW "
    "WHEN (OLD.department_id IS DISTINCT FROM NEW.department_id) EXECUTE FUNCTION document_counts_track()",
]


def upgrade() -> None:
    op.create_table('document_counts',
    sa.Column('department_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('department_id', name=op.f('pk_document_counts'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index('ix_documents_department_updated', ['department_id', 'updated_at', 'id'], unique=False)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_actor_name_id', ['actor_name', 'id'], unique=False)
        batch_op.create_index('ix_audit_events_target_id_id', ['target_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_events_actor_id_id', ['actor_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_events_department_id_id', ['department_id', 'id'], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for statement in _PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
    op.execute("INSERT INTO document_counts (department_id, n) "
               "SELECT department_id, count(*) FROM documents GROUP BY department_id")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER document_counts_move ON documents")
        op.execute("DROP TRIGGER document_counts_insert_delete ON documents")
        op.execute("DROP FUNCTION document_counts_track()")
    else:
        for name in ("document_counts_insert", "document_counts_delete", "document_counts_move"):
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_department_id_id')
        batch_op.drop_index('ix_audit_events_actor_id_id')
        batch_op.drop_index('ix_audit_events_target_id_id')
        batch_op.drop_index('ix_audit_events_actor_name_id')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_department_updated')
    op.drop_table('document_counts')
