"""Migrations build the whole schema from empty on SQLite and PostgreSQL, and re-running is a no-op."""
from sqlalchemy import inspect

from archive_service.db import current_heads, load_models, migrate, script_heads


def test_up_from_empty_matches_the_models(rt):
    tables = set(inspect(rt.engine).get_table_names())
    assert set(load_models().tables) <= tables
    assert set(current_heads(rt.engine)) == set(script_heads(rt.engine, rt.features.migration_locations()))


def test_migrate_is_idempotent(rt):
    heads = current_heads(rt.engine)
    migrate(rt.engine, locations=rt.features.migration_locations())
    assert current_heads(rt.engine) == heads


def test_no_drift_between_models_and_migrations(rt):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    def modelled(name, type_, parent_names) -> bool:
        """The catalogue search index (custody_0001) is derived, not a model: the SQLite FTS5 table and its
        shadow tables, the PostgreSQL pg_trgm index."""
        return not (name or "").startswith(("archive_items_fts", "ix_archive_items_catalogue_trgm"))

    with rt.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"include_name": modelled}), load_models())
    assert diff == [], f"models differ from migrations: {diff}"


def test_the_core_migrates_without_any_feature(database_url):
    """The core's migrations stand alone; correspondence's tables come from its own branch."""
    from archive_service.db import make_engine

    engine = make_engine(database_url)
    try:
        migrate(engine)
        tables = set(inspect(engine).get_table_names())
        assert {"documents", "signoff_flows", "signoff_co_departments", "text_extractions"} <= tables
        assert not {"letters", "meetings", "meeting_minutes"} & tables
    finally:
        engine.dispose()


def test_co_issuers_and_minutes_subjects_are_converted_from_their_strings(database_url):
    """Rows written before uow_0001/uow_0002 keep their co-issuers and their minutes' letter."""
    from pathlib import Path

    from sqlalchemy import text

    import correspondence
    from archive_service.db import make_engine

    engine = make_engine(database_url)
    versions = Path(correspondence.__file__).parent / "migrations" / "versions"
    try:
        migrate(engine, "0100", locations=[versions])
        migrate(engine, "0200", locations=[versions])
        migrate(engine, "0300", locations=[versions])
        with engine.begin() as conn:
            for i, (code, kind) in enumerate((("SPJ", "bureau"), ("SCJG", "regulator"), ("ZJJ", "regulator")), 1):
                conn.execute(text("INSERT INTO departments (id, name, code, kind, created_at) "
                                  "VALUES (:i, :n, :c, :k, '2026-01-05')"),
                             {"i": i, "n": f"部门{i}", "c": code, "k": kind})
            conn.execute(text("INSERT INTO signoff_flows (id, subject_type, subject_id, department_id, state, "
                              "version_sha256, co_departments, created_at, updated_at) VALUES "
                              "(1, 'letter', 7, 1, 'signing', :sha, '3,2', '2026-01-05', '2026-01-05'), "
                              "(2, 'letter', 8, 1, 'drafting', :sha, '', '2026-01-05', '2026-01-05')"),
                         {"sha": "0" * 64})
        migrate(engine, locations=[versions])
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT flow_id, department_id, position FROM signoff_co_departments "
                                     "ORDER BY flow_id, position")).all()
            assert [tuple(r) for r in rows] == [(1, 3, 1), (1, 2, 2)]
            assert "co_departments" not in {c["name"] for c in inspect(conn).get_columns("signoff_flows")}
            assert "flow_subject" not in {c["name"] for c in inspect(conn).get_columns("meeting_minutes")}
    finally:
        engine.dispose()
