"""Small builders for the security tests: departments, users and logged-in clients without the demo."""
from __future__ import annotations

import itertools
import re

from archive_service.directory import Directory
from archive_service.models import Department
from factories import cheap_password_hash

PASSWORD = "secret-pass-2026"
_seq = itertools.count(1)


def department(rt, kind: str = "bureau", parent_code: str | None = None, name: str | None = None) -> str:
    """Add a department; returns its code."""
    n = next(_seq)
    code = f"D{n}"
    with rt.factory() as s:
        parent = s.query(Department).filter_by(code=parent_code).one() if parent_code else None
        Directory(s, rt.clock).add_department(name or f"测试部门{n}", code, kind, parent)
        s.commit()
    return code


def user(rt, dept_code: str, *roles: str, username: str | None = None) -> str:
    """Add a user with ``roles`` (password ``PASSWORD``); returns the user name."""
    username = username or f"u{next(_seq)}"
    with rt.factory() as s:
        dept = s.query(Department).filter_by(code=dept_code).one()
        Directory(s, rt.clock).add_user(username, username, dept, list(roles),
                                        password_hash=cheap_password_hash(PASSWORD))
        s.commit()
    return username


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "page has no CSRF token"
    return m.group(1)


class Client:
    """A Flask test client that logs in through the form and sends the CSRF token on posts."""

    def __init__(self, app):
        self.client = app.test_client()
        self.csrf = None

    def login(self, username: str, password: str = PASSWORD, next_url: str | None = None, **kw):
        self.csrf = csrf_from(self.client.get("/login").get_data(as_text=True))
        url = "/login" if next_url is None else "/login?next=" + next_url
        resp = self.client.post(url, data={"username": username, "password": password, "csrf_token": self.csrf},
                                **kw)
        if resp.status_code == 302:
            self.csrf = csrf_from(self.client.get("/documents/upload").get_data(as_text=True))
        return resp

    def post(self, url, data=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf)
        return self.client.post(url, data=data, **kw)

    def get(self, url, **kw):
        return self.client.get(url, **kw)


def make_app(rt):
    from archive_service.web import create_app

    app = create_app(rt)
    app.config["TESTING"] = True
    return app
