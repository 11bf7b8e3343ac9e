"""Migrations build the whole schema from empty on SQLite and PostgreSQL, and re-running is a no-op."""
from sqlalchemy import inspect

from archive_service.db import current_revision, migrate
from archive_service.models import Base


def test_up_from_empty_matches_the_models(rt):
    tables = set(inspect(rt.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert current_revision(rt.engine) is not None


def test_migrate_is_idempotent(rt):
    head = current_revision(rt.engine)
    migrate(rt.engine)
    assert current_revision(rt.engine) == head


def test_no_drift_between_models_and_migrations(rt):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with rt.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models differ from migrations: {diff}"
