"""Per-request collaborators: one database session, the signed-in user, CSRF, template helpers."""
from __future__ import annotations

import hmac
import secrets

from flask import Flask, current_app, g, request, session

from ..clock import local_time
from ..errors import BadRequest
from ..models import DEPARTMENT_KINDS, ROLES, User
from ..runtime import Runtime
from .upload_marks import is_streaming_upload

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def runtime() -> Runtime:
    return current_app.extensions["archive"]


def db():
    if "db" not in g:
        g.db = runtime().factory()
    return g.db


def current_user() -> User | None:
    if "user" not in g:
        g.user = None
        g.via_token = False
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            g.user = runtime().authenticator(db()).user_for_token(header[7:].strip())
            g.via_token = g.user is not None
        elif session.get("uid"):
            user = db().get(User, session["uid"])
            if user is not None and user.active and session.get("sv") == user.session_version:
                g.user = user
    return g.user


def sign_in(user: User) -> None:
    """The cookie names the user and their session version, nothing of the password: a password,
    role or department change, a deactivation or a logout bumps the version and ends the session."""
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    session["sv"] = user.session_version
    session["csrf"] = secrets.token_urlsafe(32)


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf(supplied: str | None) -> None:
    expected = session.get("csrf")
    if not expected or not supplied or not hmac.compare_digest(expected, supplied):
        raise BadRequest("表单已失效（缺少或错误的 CSRF 令牌），请刷新页面后重试")


def init_app(app: Flask) -> None:
    @app.before_request
    def _csrf_guard():
        """Cookie-authenticated unsafe requests need the CSRF token (bearer-token API calls do not).

        Streaming uploads check the token themselves as the multipart body is read.
        """
        if request.method not in UNSAFE or request.headers.get("Authorization", "").lower().startswith("bearer "):
            return
        if request.endpoint in {"api.issue_token", "pages.login"} or is_streaming_upload():
            return
        supplied = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
        check_csrf(supplied)

    @app.teardown_appcontext
    def _close_db(_exc):
        s = g.pop("db", None)
        if s is not None:
            s.close()

    @app.context_processor
    def _template_helpers():
        return {"current_user": current_user(), "csrf_token": csrf_token, "ROLES": ROLES,
                "DEPARTMENT_KINDS": DEPARTMENT_KINDS, "local_time": local_time, "human_size": human_size}


def human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)
