"""catalogue search index: substring search on 题名 / 档号 / 文号 without a table scan

PostgreSQL: one multicolumn pg_trgm GIN index on archive_items (title, archival_code, doc_number); the
``LIKE '%…%'`` of the catalogue search uses it (the extension is created if missing; it is a trusted
extension, so the database owner may create it). SQLite: an external-content FTS5 table with the trigram
tokenizer over the same three columns, kept by triggers on archive_items.

Note: a later ``batch_alter_table('archive_items')`` on SQLite rebuilds the table and drops these triggers;
such a migration must recreate them (``create_sqlite_index`` below) — tests/test_lookup_catalogue.py fails
otherwise.

Revision ID: custody_0001
Revises: lookup_0001
"""
from alembic import op

revision = 'custody_0001'
down_revision = 'lookup_0001'
branch_labels = None
depends_on = ('archiveperf_0001',)  # its batch_alter_table rebuilds archive_items (and would drop the triggers)

FTS = "archive_items_fts"
COLUMNS = "title, archival_code, doc_number"
PG_INDEX = "ix_archive_items_catalogue_trgm"


def trgm_schema(bind) -> str:
    """The schema holding pg_trgm (created in ``public`` when missing), so the opclass is found whatever
    the connection's search_path."""
    found = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'").scalar()
    if found:
        return found
    bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    return "public"


def create_sqlite_index() -> None:
    op.execute(f"CREATE VIRTUAL TABLE {FTS} USING fts5({COLUMNS}, content='archive_items', "
               f"content_rowid='id', tokenize='trigram')")
    op.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")
    old = f"INSERT INTO {FTS}({FTS}, rowid, {COLUMNS}) VALUES ('delete', old.id, old.title, old.archival_code, " \
          f"old.doc_number);"
    new = f"INSERT INTO {FTS}(rowid, {COLUMNS}) VALUES (new.id, new.title, new.archival_code, new.doc_number);"
    op.execute(f"CREATE TRIGGER {FTS}_insert AFTER INSERT ON archive_items BEGIN {new} END")
    op.execute(f"CREATE TRIGGER {FTS}_delete AFTER DELETE ON archive_items BEGIN {old} END")
    op.execute(f"CREATE TRIGGER {FTS}_update AFTER UPDATE OF {COLUMNS} ON archive_items BEGIN {old} {new} END")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        ops = f"{trgm_schema(bind)}.gin_trgm_ops"
        op.execute(f"CREATE INDEX {PG_INDEX} ON archive_items USING gin "
                   f"(title {ops}, archival_code {ops}, doc_number {ops})")
    else:
        create_sqlite_index()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP INDEX {PG_INDEX}")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER {FTS}_{name}")
        op.execute(f"DROP TABLE {FTS}")
