"""Alembic environment: the engine is handed in by archive_service.db.migrate()."""
from alembic import context

from archive_service.db import load_models

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line: build from the settings
    from archive_service.db import make_engine
    from archive_service.settings import Settings

    engine = make_engine(Settings.from_env().database_url)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=config.attributes.get("metadata") or load_models(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
