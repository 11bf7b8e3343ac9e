"""Engine and session factory for SQLite (embedded) or PostgreSQL, and schema migration."""
from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def load_models():
    """The shared metadata: the core's tables plus those of every feature imported so far (a
    feature's ``Feature`` declaration imports its model modules)."""
    from . import indexing_models, models, signoff  # noqa: F401  (they declare the core's tables)

    return models.Base.metadata


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         connect_args={"options": pg_connect_options(url)})


def pg_connect_options(url: str) -> str:
    """The URL's own ``options`` plus ``plan_cache_mode=force_custom_plan``: psycopg prepares a statement
    after its fifth run, and PostgreSQL may then switch to a generic plan that ignores the parameters'
    values — e.g. the capped count of documents granted to a department seq-scanned all 147,000
    documents (53 ms) where the plan for the actual department reads its two grants (0.1 ms)."""
    own = make_url(url).query.get("options") or ""
    if not isinstance(own, str):
        own = " ".join(own)
    return " ".join(filter(None, [own, "-c plan_cache_mode=force_custom_plan"]))


def make_session_factory(engine: Engine, audit_key: str = "") -> sessionmaker[Session]:
    """Sessions on ``engine``; each carries the audit chain's HMAC key in ``session.info`` (the key
    lives outside the database: ARCHIVE_AUDIT_KEY or the instance's audit_key file)."""
    return sessionmaker(bind=engine, expire_on_commit=False, info={"audit_key": audit_key})


def is_postgres(session_or_engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


def reserve_ids(session: Session, table, n: int) -> list[int]:
    """``n`` primary keys for new rows of ``table`` (integer ``id``), so a bulk insert needs no RETURNING
    and can go as one batch (SQLite cannot return the ids of a multi-row insert in order).

    PostgreSQL takes them from the column's sequence. SQLite continues after the largest id, which is
    only safe for the writer: call it after this transaction has written (SQLite then holds the
    database's write lock until the commit)."""
    if n <= 0:
        return []
    if is_postgres(session):
        return list(session.scalars(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) "
                                         "FROM generate_series(1, :n)"), {"t": table.name, "n": n}))
    top = session.scalar(select(func.max(table.c.id))) or 0
    return list(range(top + 1, top + n + 1))


@contextmanager
def transaction(factory: sessionmaker[Session]):
    """A session whose work commits on success and rolls back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(engine: Engine, locations: Sequence[Path] = ()):
    """Alembic over the core's versions plus each feature's own branch folder (``locations``)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in [MIGRATIONS / "versions", *locations]))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "heads", locations: Sequence[Path] = ()) -> None:
    """Bring the schema up to ``revision`` (idempotent); ``locations``: the features' branch folders."""
    from alembic import command

    command.upgrade(alembic_config(engine, locations), revision)


def current_heads(engine: Engine) -> tuple[str, ...]:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_heads()


def script_heads(engine: Engine, locations: Sequence[Path] = ()) -> tuple[str, ...]:
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(alembic_config(engine, locations)).get_heads())
