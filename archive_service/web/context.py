"""Per-request collaborators: one database session (the request's unit of work), the signed-in user,
CSRF, template helpers.

A request is one unit of work: views and services only flush; the session commits once after a
successful response (status < 400) and rolls back on any error response, the generic 500 path
included. Work that must be kept whatever the request's outcome (a failed-login counter and its
audit event) runs in ``independent_unit()``, a transaction of its own that commits at once.
"""
from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from flask import Flask, current_app, g, make_response, request, session

from ..activity import action_label
from ..clock import local_time
from ..errors import BadRequest, Unauthorized
from ..models import DEPARTMENT_KINDS, ROLES, User
from ..runtime import Runtime
from ..workdays import load_calendar
from .errors import HTTP_MESSAGES, error_response
from .upload_marks import is_streaming_upload

log = logging.getLogger(__name__)

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def runtime() -> Runtime:
    return current_app.extensions["archive"]


def db():
    if "db" not in g:
        g.db = runtime().factory()
    return g.db


def independent_unit():
    """A separate transaction committed on leaving the block, independent of the request's outcome.

    Use it before the request's own session has written anything: both append to the audit chain,
    whose head row the first writer locks until it commits.
    """
    return runtime().transaction()


def after_commit(action) -> None:
    """Run ``action()`` once the request's unit of work has committed (an irreversible step that must
    only follow committed rows, e.g. locking blobs in the store, starting a thread that reads the
    rows). What ``action`` writes is committed as a second unit of work; a failing action is logged."""
    g.setdefault("after_commit", []).append(action)


@dataclass(frozen=True)
class Caller:
    """Who is calling, by id: what a read path needs without loading the user object."""

    user_id: int
    department_id: int


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def _note_token_use(auth, row) -> None:
    """Record a valid token's use once its last recorded use is older than the resolution."""
    if auth.use_is_unrecorded(row):
        token_id = row.id
        # after the request's own commit: a failed bookkeeping write never fails the request
        after_commit(lambda: runtime().authenticator(db()).record_token_use(token_id))


def current_caller() -> Caller | None:
    """The signed-in caller's ids. A bearer token costs one light query here and no user object (the
    search API answers from this alone); ``current_user()`` loads the user when a view needs it."""
    if "caller" not in g:
        token = _bearer_token()
        if token is None or "user" in g:  # a cookie session, or the user is loaded already
            user = current_user()
            g.caller = Caller(user.id, user.department_id) if user is not None else None
        else:
            auth = runtime().authenticator(db())
            found = auth.token_caller(token)
            g.caller = Caller(found.user_id, found.department_id) if found is not None else None
            g.via_token = found is not None
            if found is not None:
                _note_token_use(auth, found)
    return g.caller


def current_user() -> User | None:
    if "user" not in g:
        g.user = None
        g.via_token = False
        token = _bearer_token()
        if token is not None and "caller" in g:  # the token was checked: load its user
            caller = g.caller
            g.via_token = caller is not None
            g.user = db().get(User, caller.user_id) if caller is not None else None
        elif token is not None:
            auth = runtime().authenticator(db())
            row = auth.valid_token(token)  # the token and its user in one query
            g.user = row.user if row is not None else None
            g.via_token = row is not None
            if row is not None:
                _note_token_use(auth, row)
        elif session.get("uid"):
            user = db().get(User, session["uid"])
            if user is not None and user.active and session.get("sv") == user.session_version:
                g.user = user
    return g.user


def signed_in_caller() -> Caller:
    """``current_caller()`` of a view that needs a signed-in caller (401 otherwise)."""
    caller = current_caller()
    if caller is None:
        raise Unauthorized()
    return caller


def signed_in_user() -> User:
    """The signed-in user of a view behind ``login_required``/``api_login_required`` (401 otherwise)."""
    user = current_user()
    if user is None:
        raise Unauthorized()
    return user


def authenticate(username: str, password: str) -> User:
    """Check a login in a unit of work of its own, so a refused attempt's counter and audit event are
    committed although the request fails; returns the user in the request's session or raises."""
    with independent_unit() as s:
        result = runtime().authenticator(s).login(
            username, password, request.remote_addr or "")
    result.raise_if_refused()
    return db().get(User, result.user_id)


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

    @app.after_request
    def _end_unit_of_work(response):
        """Commit the request's work once when it succeeded; roll everything back otherwise.

        Runs before a streamed body is sent, so downloads commit their audit event first.
        """
        s = g.get("db")
        if s is None:
            return response
        if response.status_code >= 400:
            s.rollback()
            return response
        try:
            s.commit()
        except Exception:  # the last flush or the commit failed: nothing of the request is kept
            s.rollback()
            log.exception("commit failed")
            body, status = error_response(500, "internal_error", HTTP_MESSAGES[500])
            return make_response(body, status)
        for action in g.pop("after_commit", []):
            try:
                action()
                s.commit()
            except Exception:  # the request's work is committed; this follow-up is retried by its job
                s.rollback()
                log.exception("after-commit action failed")
        return response

    @app.teardown_appcontext
    def _close_db(_exc):
        s = g.pop("db", None)
        if s is not None:
            s.close()

    @app.context_processor
    def _template_helpers():
        return {"current_user": current_user(), "csrf_token": csrf_token, "ROLES": ROLES,
                "DEPARTMENT_KINDS": DEPARTMENT_KINDS, "local_time": local_time, "human_size": human_size,
                "estimated_note": estimated_note, "action_label": action_label, "file_kind": file_kind}


def estimated_note(start, day) -> str:
    """The mark "（估算）" when a deadline counted between ``start`` and ``day`` crossed a year whose holidays
    are estimated (no State Council notice for it yet); "" otherwise or when a date is missing."""
    if start is None or day is None:
        return ""
    start = start.date() if isinstance(start, datetime) else start
    if not isinstance(start, date) or not isinstance(day, date):
        return ""
    if "calendar" not in g:
        g.calendar = load_calendar(db())
    return "（估算）" if g.calendar.span_estimated(start, day) else ""


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


FILE_KINDS = {"application/pdf": "PDF 文档", "application/json": "数据文件",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word 文档",
              "application/msword": "Word 文档", "application/vnd.oasis.opendocument.text": "ODF 文档",
              "application/zip": "压缩包", "application/xml": "XML 文件", "text/xml": "XML 文件"}


def file_kind(media_type: str | None) -> str:
    """A clerk's word for a file's format (PDF 文档, 图片…); the MIME type itself goes behind 详情."""
    mt = (media_type or "").split(";")[0].strip().lower()
    if mt in FILE_KINDS:
        return FILE_KINDS[mt]
    major = mt.split("/")[0]
    return {"image": "图片", "text": "文本文件", "audio": "音频", "video": "视频"}.get(major, "其他文件")
