"""Shared fixtures: a migrated database (SQLite, or PostgreSQL with ARCHIVE_TEST_DATABASE_URL),
a local object store in a temp folder, the Flask app and logged-in clients."""
from __future__ import annotations

import os
import re
import uuid

import pytest
from sqlalchemy import create_engine, text

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
        if not {"rt", "database_url"} & set(getattr(item, "fixturenames", ())):
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


@pytest.fixture
def settings(tmp_path, database_url):
    return Settings.from_env(env={
        "ARCHIVE_INSTANCE": str(tmp_path / "instance"),
        "ARCHIVE_DATABASE_URL": database_url,
        "ARCHIVE_MAX_UPLOAD_MB": "5",
    }, testing=True)


@pytest.fixture
def rt(settings):
    runtime = Runtime.build(settings, features=FEATURES)
    runtime.migrate()
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
