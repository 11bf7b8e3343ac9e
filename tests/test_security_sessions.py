"""Issue 7 finding 5 and issue 8 part 9: sessions end server-side, tokens expire and die with a
password, role or department change or a deactivation; the cookie holds nothing of the password."""
from datetime import datetime

import pytest
from sqlalchemy import select

from archive_service.clock import FixedClock
from archive_service.models import User
from security_support import PASSWORD, Client, department, make_app, user


@pytest.fixture
def world(rt):
    rt.clock = FixedClock(datetime(2026, 3, 2, 2, 0))
    office, other = department(rt), department(rt)
    names = {"admin": user(rt, office, "admin"), "drafter": user(rt, office, "drafter")}
    return rt, make_app(rt), names, other


def _token(app, username):
    resp = app.test_client().post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _me(app, token):
    return app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


def _search(app, token):
    """The search API checks a token by a lighter path of its own (no user object): it must refuse alike."""
    return app.test_client().get("/api/v1/search?q=审批", headers={"Authorization": f"Bearer {token}"}).status_code


def _cookie(client) -> str:
    return client.client.get_cookie("session").value


def _signed_in(app, cookie) -> bool:
    fresh = app.test_client()
    fresh.set_cookie("session", cookie)
    resp = fresh.get("/documents")
    return resp.status_code == 200


def test_cookie_holds_no_part_of_the_password_hash(world):
    rt, app, names, _ = world
    c = Client(app)
    assert c.login(names["drafter"]).status_code == 302
    data = app.session_interface.get_signing_serializer(app).loads(_cookie(c))
    with rt.factory() as s:
        pw_hash = s.scalar(select(User.password_hash).where(User.username == names["drafter"]))
    assert "pwh" not in data
    for value in data.values():
        assert not (isinstance(value, str) and len(value) >= 6 and value in pw_hash)
    assert set(data) <= {"uid", "sv", "csrf", "_permanent", "_flashes"}


def test_logout_ends_the_session_server_side(world):
    _rt, app, names, _ = world
    c = Client(app)
    assert c.login(names["drafter"]).status_code == 302
    cookie = _cookie(c)
    assert _signed_in(app, cookie)
    assert c.post("/logout").status_code == 302
    assert not _signed_in(app, cookie)  # the replayed cookie is no longer signed in
    assert c.login(names["drafter"]).status_code == 302  # a new login works


def test_tokens_expire_and_show_their_expiry(world):
    rt, app, names, _ = world
    issued = _token(app, names["drafter"])
    assert issued["expires_at"] == "2026-04-01T02:00:00Z"  # 30 days by default
    assert _me(app, issued["token"]) == 200
    rt.clock.advance(days=29, hours=23)
    assert _me(app, issued["token"]) == 200
    rt.clock.advance(hours=1)
    assert _me(app, issued["token"]) == 401
    assert _search(app, issued["token"]) == 401
    c = Client(app)
    assert c.login(names["drafter"]).status_code == 302
    page = c.get("/account/tokens").get_data(as_text=True)
    assert "2026-04-01 10:00" in page and "已过期" in page
    created = c.post("/account/tokens").get_data(as_text=True)
    assert "2026-05-01 10:00" in created and "只显示这一次" in created  # 30 days from now, China time


def test_token_lifetime_is_a_setting(settings, rt):
    from archive_service.runtime import Runtime

    settings.token_days = 1
    runtime = Runtime(settings, rt.engine, rt.factory, rt.store, FixedClock(datetime(2026, 3, 2, 2, 0)))
    name = user(runtime, department(runtime), "drafter")
    assert _token(make_app(runtime), name)["expires_at"] == "2026-03-03T02:00:00Z"


@pytest.mark.parametrize("change", ["password", "roles", "department", "deactivate"])
def test_credential_changes_end_sessions_and_tokens(world, change):
    rt, app, names, other = world
    token = _token(app, names["drafter"])["token"]
    assert _search(app, token) == 200
    victim = Client(app)
    assert victim.login(names["drafter"]).status_code == 302
    cookie = _cookie(victim)
    admin = Client(app)
    assert admin.login(names["admin"]).status_code == 302
    with rt.factory() as s:
        uid = s.scalar(select(User.id).where(User.username == names["drafter"]))
    data = {"password": {"action": "password", "password": "another-pass-2026"},
            "roles": {"action": "roles", "roles": ["drafter", "reviewer"]},
            "department": {"action": "department", "department": other},
            "deactivate": {"action": "deactivate"}}[change]
    assert admin.post(f"/admin/users/{uid}", data=data).status_code == 302
    assert _me(app, token) == 401
    assert _search(app, token) == 401
    assert not _signed_in(app, cookie)
    assert _signed_in(app, _cookie(admin))  # the administrator's own session is untouched


def test_a_password_an_administrator_sets_is_stored_with_the_production_argon2_profile(world):
    """Test accounts carry cheap hashes (factories.cheap_password_hash); real ones must not."""
    from argon2 import extract_parameters, profiles

    rt, app, names, _ = world
    admin = Client(app)
    assert admin.login(names["admin"]).status_code == 302
    with rt.factory() as s:
        uid = s.scalar(select(User.id).where(User.username == names["drafter"]))
    data = {"action": "password", "password": "another-pass-2026"}
    assert admin.post(f"/admin/users/{uid}", data=data).status_code == 302
    with rt.factory() as s:
        stored = s.scalar(select(User.password_hash).where(User.id == uid))
    assert stored.startswith("$argon2id$")
    assert extract_parameters(stored) == profiles.RFC_9106_LOW_MEMORY
    assert Client(app).login(names["drafter"], "another-pass-2026").status_code == 302


def test_upgrade_gives_old_tokens_an_expiry(empty_settings):
    from sqlalchemy import text

    from archive_service.db import migrate
    from archive_service.runtime import Runtime

    runtime = Runtime.build(empty_settings)
    try:
        migrate(runtime.engine, "0100")
        with runtime.engine.begin() as conn:
            conn.execute(text("INSERT INTO departments (id, name, code, kind, created_at) "
                              "VALUES (1, '县行政审批局', 'SPJ', 'bureau', '2026-01-01 00:00:00')"))
            conn.execute(text("INSERT INTO users (id, username, full_name, department_id, password_hash, active, "
                              "created_at) VALUES (1, 'old', 'old', 1, 'x', true, '2026-01-01 00:00:00')"))
            conn.execute(text("INSERT INTO api_tokens (id, user_id, token_hash, created_at) "
                              "VALUES (1, 1, 'abc', '2026-01-05 08:00:00')"))
        migrate(runtime.engine)
        with runtime.engine.connect() as conn:
            row = conn.execute(text("SELECT t.expires_at, u.session_version FROM api_tokens t "
                                    "JOIN users u ON u.id = t.user_id")).one()
        assert str(row[0]).startswith("2026-02-04 08:00:00") and row[1] == 1
    finally:
        runtime.engine.dispose()
