"""Migrations build the whole schema from empty on SQLite and PostgreSQL, and re-running is a no-op."""
from sqlalchemy import inspect

from archive_service.db import current_heads, load_models, migrate, script_heads


def test_up_from_empty_matches_the_models(rt):
    tables = set(inspect(rt.engine).get_table_names())
    assert set(load_models().tables) <= tables
    assert set(current_heads(rt.engine)) == set(script_heads(rt.engine))


def test_migrate_is_idempotent(rt):
    heads = current_heads(rt.engine)
    migrate(rt.engine)
    assert current_heads(rt.engine) == heads


def test_no_drift_between_models_and_migrations(rt):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with rt.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), load_models())
    assert diff == [], f"models differ from migrations: {diff}"
