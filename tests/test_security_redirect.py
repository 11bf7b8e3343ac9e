"""Issue 7 finding 6: after login, ?next= only leads to a path on this site."""
from urllib.parse import urlsplit

import pytest

from security_support import Client, department, make_app, user

OFFSITE = ["/%09/evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example/",
           "/%0a/evil.example", "/%0d%0a/evil.example", "%09//evil.example", "javascript:alert(1)",
           "/%E2%80%8B/evil.example", "///evil.example", " //evil.example", "http:/evil.example"]


@pytest.fixture
def app_and_user(rt):
    name = user(rt, department(rt), "drafter")
    return make_app(rt), name


@pytest.mark.parametrize("target", OFFSITE)
def test_login_never_redirects_off_site(app_and_user, target):
    app, name = app_and_user
    resp = Client(app).login(name, next_url=target)
    assert resp.status_code == 302
    location = resp.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, (target, location)
    assert location.startswith("/") and not location.startswith("//"), (target, location)
    assert not any(ord(ch) < 32 or ch == "\\" for ch in location), (target, location)


def test_login_keeps_a_same_site_path(app_and_user):
    app, name = app_and_user
    resp = Client(app).login(name, next_url="/documents%3Fpage%3D2")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/documents?page=2"
