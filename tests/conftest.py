"""Shared fixtures: a migrated database (SQLite, or PostgreSQL with ARCHIVE_TEST_DATABASE_URL),
a local object store in a temp folder, the Flask app and logged-in clients."""
from __future__ import annotations

import os
import re
import shutil
import threading
import uuid

import pytest
from sqlalchemy import create_engine, make_url, text

from archive_service.demo import DEMO_PASSWORD, load_demo
from archive_service.runtime import Runtime
from archive_service.settings import Settings
from archive_service.wiring import FEATURES
from factories import Make, small_county
from live_server import chromium, live_server  # noqa: F401  (session fixtures: real server, browser)
from s3peer import s3_endpoint  # noqa: F401  (session fixture: a moto S3 server)

PG_URL = os.environ.get("ARCHIVE_TEST_DATABASE_URL", "")


def pytest_collection_modifyitems(config, items):
    """Tests that need no database are marked `dbless`, so the PostgreSQL leg skips them."""
    for item in items:
        if not {"rt", "database_url", "migrated_database_url"} & set(getattr(item, "fixturenames", ())):
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


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """The schema, migrated once per run. Each test gets a copy of it (a file copy on SQLite, a database
    cloned from this template on PostgreSQL) instead of running every migration again (≈0.5 s of CPU
    per test on SQLite, seconds of disk waits on PostgreSQL). tests/test_migrations.py and the CLI tests
    still migrate empty databases (`database_url`)."""
    root = tmp_path_factory.mktemp("template")

    def migrate(url):
        runtime = Runtime.build(Settings.from_env(env={"ARCHIVE_INSTANCE": str(root / "instance"),
                                                       "ARCHIVE_DATABASE_URL": url}, testing=True),
                                features=FEATURES)
        runtime.migrate()
        runtime.close()

    if not PG_URL:
        path = root / "template.sqlite3"
        migrate(f"sqlite:///{path}")
        yield path
        return
    dropper = _Dropper()
    name = "tmpl_" + uuid.uuid4().hex[:12]
    dropper.execute(f"CREATE DATABASE {name}")
    migrate(_pg_database(name))
    yield name, dropper
    dropper.drop(name)
    dropper.close()


@pytest.fixture
def migrated_database_url(tmp_path, migrated_template):
    """A database already at the schema's heads, for this test alone."""
    if not PG_URL:
        target = tmp_path / "migrated.sqlite3"
        shutil.copyfile(migrated_template, target)
        wal = migrated_template.with_name(migrated_template.name + "-wal")
        if wal.exists():  # normally checkpointed away when the template's last connection closed
            shutil.copyfile(wal, target.with_name(target.name + "-wal"))
        yield f"sqlite:///{target}"
        return
    template, dropper = migrated_template
    name = "t_" + uuid.uuid4().hex[:12]
    dropper.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    yield _pg_database(name)
    dropper.drop(name)


@pytest.fixture
def settings(tmp_path, migrated_database_url):
    return Settings.from_env(env={
        "ARCHIVE_INSTANCE": str(tmp_path / "instance"),
        "ARCHIVE_DATABASE_URL": migrated_database_url,
        "ARCHIVE_MAX_UPLOAD_MB": "5",
    }, testing=True)


@pytest.fixture
def empty_settings(tmp_path, database_url):
    """Settings over an empty database, for the tests of upgrades from an older schema."""
    return Settings.from_env(env={"ARCHIVE_INSTANCE": str(tmp_path / "instance"),
                                  "ARCHIVE_DATABASE_URL": database_url}, testing=True)


@pytest.fixture
def rt(settings):
    """A runtime on this test's own database, already migrated (`migrated_database_url`)."""
    runtime = Runtime.build(settings, features=FEATURES)
    yield runtime
    runtime.close()  # the search engine, the extraction sandbox child and the connections


@pytest.fixture
def demo(rt):
    """The demo county of `init --demo`; for the demo tests and browser flows (others use `make`)."""
    with rt.transaction() as session:
        assert load_demo(session, rt.clock, rt.documents), \
            "the demo county was not loaded: the test built a county of its own first (county/make fixtures)"
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
    """The small county of the letters and meetings tests: its users by username (factories.small_county)."""
    return small_county(make)


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
