"""Shared fixtures: a migrated database (SQLite, or PostgreSQL with ARCHIVE_TEST_DATABASE_URL),
a local object store in a temp folder, the Flask app and logged-in clients."""
from __future__ import annotations

import os
import re
import shutil
import threading
import uuid

import pytest
from sqlalchemy import create_engine, make_url, text, update

from archive_service.demo import DEMO_PASSWORD, load_demo
from archive_service.models import User
from archive_service.runtime import Runtime
from archive_service.settings import Settings
from archive_service.wiring import FEATURES
from factories import Make, cheap_password_hash, county_users, small_county
from live_server import chromium, live_server  # noqa: F401  (session fixtures: real server, browser)
from s3peer import s3_endpoint  # noqa: F401  (session fixture: a moto S3 server)

PG_URL = os.environ.get("ARCHIVE_TEST_DATABASE_URL", "")


def pytest_collection_modifyitems(config, items):
    """Tests that need no database are marked `dbless`, so the PostgreSQL leg skips them."""
    for item in items:
        if not {"rt", "database_url", "database_templates"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.dbless)


@pytest.fixture
def database_url(tmp_path):
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _pg_database(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


class _Dropper:
    """Drops the per-test PostgreSQL databases in a background thread: a DROP DATABASE waits on the disk,
    not on the CPU, so the next test need not wait for it."""

    def __init__(self):
        self.admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        self.names: list[str] = []
        self.lock = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def execute(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def drop(self, name: str) -> None:
        with self.lock:
            self.names.append(name)
            self.lock.notify()

    def _run(self):
        while True:
            with self.lock:
                while not self.names:
                    self.lock.wait()
                name = self.names[0]
            if name:
                self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            with self.lock:
                self.names.pop(0)
                self.lock.notify_all()
            if not name:
                return

    def close(self) -> None:
        self.drop("")  # the sentinel: stop after the queued drops
        self.thread.join()
        self.admin.dispose()


INSTANCE = "instance"  # the test's instance folder under tmp_path
TEST_AUDIT_KEY = "test-audit-key"  # one audit key for the template databases and the tests that copy them


def _keyed(instance):
    """``instance`` (created) with TEST_AUDIT_KEY as its audit_key file."""
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "audit_key").write_text(TEST_AUDIT_KEY)
    (instance / "audit_key").chmod(0o600)
    return instance


def _settings(instance, url: str) -> Settings:
    """Settings over ``url`` whose instance holds TEST_AUDIT_KEY as its audit_key file, so a CLI command
    a test runs on the same instance (`verify`) checks the chain with the key the templates were built with."""
    _keyed(instance)
    return Settings.from_env(env={"ARCHIVE_INSTANCE": str(instance), "ARCHIVE_DATABASE_URL": url,
                                  "ARCHIVE_MAX_UPLOAD_MB": "5"}, testing=True)


class DatabaseTemplates:
    """Databases built once per run, copied for each test instead of being built again: "migrated" (the
    schema at its heads: migrating costs ≈0.5 s of CPU per test on SQLite and seconds of disk waits on
    PostgreSQL), "county" (that plus factories.small_county) and "demo" (migrated plus the demo county of
    `init --demo`, whose sample files are in the template's instance folder, copied with it). A copy is a
    file copy on SQLite and CREATE DATABASE … TEMPLATE on PostgreSQL. Test accounts get cheap password
    hashes (factories.cheap_password_hash). tests/test_migrations.py and the CLI tests still migrate empty
    databases (`database_url`)."""

    def __init__(self, root):
        self.root = root
        self.built: dict[str, object] = {}
        self.dropper = _Dropper() if PG_URL else None

    def _new(self, kind: str, source=None):
        """An empty database (or a copy of ``source``) named for ``kind``; (handle, url)."""
        if self.dropper is None:
            path = self.root / f"{kind}.sqlite3"
            if source is not None:
                _copy_sqlite(source, path)
            return path, f"sqlite:///{path}"
        name = f"tmpl_{kind}_" + uuid.uuid4().hex[:12]
        self.dropper.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {source}" if source else ""))
        return name, _pg_database(name)

    def template(self, kind: str):
        if kind not in self.built:
            source = self.template("migrated") if kind != "migrated" else None
            handle, url = self._new(kind, source)
            runtime = Runtime.build(_settings(self._instance(kind), url), features=FEATURES)
            if kind == "migrated":
                runtime.migrate()
            elif kind == "demo":
                with runtime.transaction() as session:
                    load_demo(session, runtime.clock, runtime.documents)
                    session.execute(update(User).values(password_hash=cheap_password_hash(DEMO_PASSWORD)))
            else:
                builder = Make(runtime)
                small_county(builder)
                builder.close()
            runtime.close()
            self.built[kind] = handle
        return self.built[kind]

    def _instance(self, kind: str):
        return self.root / f"{kind}-instance"

    def copy(self, kind: str, target_dir) -> str:
        """The URL of a new database copied from the ``kind`` template; the template's stored objects are
        copied into the test's instance folder (``target_dir``/instance), as `settings` expects them."""
        template = self.template(kind)
        if kind == "demo":
            shutil.copytree(self._instance(kind) / "objects", target_dir / INSTANCE / "objects")
        if self.dropper is None:
            target = target_dir / "migrated.sqlite3"
            _copy_sqlite(template, target)
            return f"sqlite:///{target}"
        name = "t_" + uuid.uuid4().hex[:12]
        self.dropper.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        return _pg_database(name)

    def discard(self, url: str) -> None:
        if self.dropper is not None:
            self.dropper.drop(make_url(url).database)

    def close(self) -> None:
        if self.dropper is not None:
            for name in self.built.values():
                self.dropper.drop(name)
            self.dropper.close()


def _copy_sqlite(source, target) -> None:
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + "-wal")
    if wal.exists():  # normally checkpointed away when the template's last connection closed
        shutil.copyfile(wal, target.with_name(target.name + "-wal"))


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory):
    templates = DatabaseTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.close()


@pytest.fixture
def migrated_database_url(request, tmp_path, database_templates):
    """A database already at the schema's heads, for this test alone (with the small county in it when
    the test uses the `county` fixture, the demo county when it uses `demo`)."""
    kinds = [kind for kind in ("county", "demo") if kind in request.fixturenames]
    assert len(kinds) <= 1, "a test uses either the small county (county/clients) or the demo county (demo/app)"
    url = database_templates.copy(kinds[0] if kinds else "migrated", tmp_path)
    yield url
    database_templates.discard(url)



@pytest.fixture
def county_copy(tmp_path, database_templates):
    """(instance folder, database URL): a copy of the small county's database and an instance folder that
    holds the audit key its events were signed with, for tests that build a runtime (or run the CLI) with
    settings of their own."""
    url = database_templates.copy("county", tmp_path)
    yield _keyed(tmp_path / "county-instance"), url
    database_templates.discard(url)


@pytest.fixture
def settings(tmp_path, migrated_database_url):
    return _settings(tmp_path / INSTANCE, migrated_database_url)


@pytest.fixture
def empty_settings(tmp_path, database_url):
    """Settings over an empty database, for the tests of upgrades from an older schema."""
    return Settings.from_env(env={"ARCHIVE_INSTANCE": str(tmp_path / INSTANCE),
                                  "ARCHIVE_DATABASE_URL": database_url}, testing=True)


@pytest.fixture
def rt(settings):
    """A runtime on this test's own database, already migrated (`migrated_database_url`)."""
    runtime = Runtime.build(settings, features=FEATURES)
    yield runtime
    runtime.close()  # the search engine, the extraction sandbox child and the connections


@pytest.fixture
def demo(rt):
    """The demo county of `init --demo` (copied from the "demo" template, with its sample files); for the
    demo tests and browser flows (others use `make`)."""
    return rt


@pytest.fixture
def app(demo):
    from archive_service.web import create_app

    application = create_app(demo)
    application.config["TESTING"] = True
    return application


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "page has no CSRF token"
    return m.group(1)


class Browser:
    """A test client that logs in through the real login form and keeps the CSRF token."""

    def __init__(self, client):
        self.client = client
        self.csrf = None

    def login(self, username: str, password: str = DEMO_PASSWORD):
        page = self.client.get("/login")
        self.csrf = csrf_from(page.get_data(as_text=True))
        resp = self.client.post("/login", data={"username": username, "password": password,
                                                "csrf_token": self.csrf})
        if resp.status_code == 302:
            self.csrf = csrf_from(self.client.get("/documents/upload").get_data(as_text=True))
        return resp

    def post(self, url, data=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf)
        return self.client.post(url, data=data, **kw)

    def get(self, url, **kw):
        return self.client.get(url, **kw)


@pytest.fixture
def browser(app):
    def make(username: str | None = None) -> Browser:
        b = Browser(app.test_client())
        if username:
            resp = b.login(username)
            assert resp.status_code == 302, resp.get_data(as_text=True)
        return b

    return make


@pytest.fixture
def api(app):
    """api(username) -> (client, headers) with a bearer token from POST /api/v1/auth/token."""

    def make(username: str):
        client = app.test_client()
        resp = client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
        assert resp.status_code == 201, resp.get_json()
        return client, {"Authorization": f"Bearer {resp.get_json()['token']}"}

    return make


@pytest.fixture
def make(rt):
    """A builder (tests/factories.py) of departments, users, documents, letters, meetings and clients."""
    builder = Make(rt)
    yield builder
    builder.close()


@pytest.fixture
def county(make):
    """The small county of the letters and meetings tests: its users by username (factories.small_county,
    built once into the "county" template database that this test's database was copied from)."""
    return county_users(make)


@pytest.fixture
def clients(make, county):
    """clients(username) -> (test client, bearer headers); tokens are issued directly."""
    cache = {}
    client = make.client()

    def get(username):
        if username not in cache:
            cache[username] = (client, make.token(county[username]))
        return cache[username]

    return get
