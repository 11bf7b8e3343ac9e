"""Passwords (argon2), login with rate limiting, and revocable API bearer tokens."""
from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session, joinedload

from .audit import AuditLog
from .clock import Clock
from .errors import DomainError, NotFound, RateLimited, Unauthorized
from .models import ApiToken, LoginAttempt, User

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist (same time as a wrong password); made on
    first use (``warm_up``), not at import: every command imports this module, and a hash costs ~0.1 s."""
    return _hasher.hash("not a password")


def warm_up() -> None:
    """Make the dummy hash now (the web app does, so no login pays for it)."""
    _dummy_hash()


@dataclass(frozen=True)
class TokenCaller:
    """A valid token's ids (``Authenticator.token_caller``)."""

    id: int  # the token's
    user_id: int
    department_id: int
    last_used_at: datetime | None


_TOKEN_CALLER = (select(ApiToken.id, ApiToken.user_id, ApiToken.expires_at, ApiToken.revoked_at,
                        ApiToken.last_used_at, User.department_id, User.active)
                 .join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == bindparam("digest")))

# Verified against when the user does not exist, so timing does not reveal valid user names.
RATE_WINDOW = timedelta(minutes=15)
TOKEN_USE_RESOLUTION = timedelta(hours=1)  # how stale a token's shown last use may be
LOGIN_FAILED = "用户名或密码错误"


def hash_password(password: str) -> str:
    if not password or len(password) < 8:
        from .errors import Unprocessable

        raise Unprocessable("密码至少 8 位")
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash if user else _dummy_hash(), password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def end_sessions(session: Session, clock: Clock, user: User, revoke_tokens: bool = True) -> None:
    """End every browser session of ``user`` (bump the session version) and, unless told otherwise,
    revoke every API token: after a password, role or department change or a deactivation."""
    user.session_version = (user.session_version or 1) + 1
    if revoke_tokens:
        session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                        .values(revoked_at=clock.now()))


@dataclass
class LoginResult:
    """Outcome of a login attempt: true when it succeeded (``user_id``), else ``error`` says why."""

    user_id: int | None = None
    error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.error is None and self.user_id is not None

    def raise_if_refused(self) -> None:
        if self.error is not None:
            raise self.error


class Authenticator:
    def __init__(self, session: Session, clock: Clock, max_failures: int = 5, token_days: float = 30,
                 max_address_failures: int = 20):
        self.session = session
        self.clock = clock
        self.max_failures = max_failures
        self.token_lifetime = timedelta(days=token_days)
        self.max_address_failures = max_address_failures

    def login(self, username: str, password: str, address: str = "") -> LoginResult:
        """Check a login attempt; the result is true when it succeeded, else it carries the error.

        A refused attempt is recorded (the rate-limit counter and an audit event) in this session
        and not raised: the caller commits that record even though the login fails — run it in a
        transaction of its own (web: ``context.independent_unit()``), then ``result.raise_if_refused()``.
        """
        s, now = self.session, self.clock.now()
        key = f"{(username or '').strip().lower()}|{address}"
        address_key = f"@{address}"
        s.execute(delete(LoginAttempt).where(LoginAttempt.at < now - RATE_WINDOW))
        failures = s.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.key == key)) or 0
        from_address = s.scalar(select(func.count()).select_from(LoginAttempt)
                                .where(LoginAttempt.key == address_key)) or 0
        if failures >= self.max_failures or from_address >= self.max_address_failures:
            return LoginResult(error=RateLimited("登录失败次数过多，请 15 分钟后再试"))
        user = s.scalar(select(User).where(User.username == (username or "").strip()))
        if not check_password(user, password or "") or user is None or not user.active:
            s.add_all([LoginAttempt(key=key, at=now), LoginAttempt(key=address_key, at=now)])
            AuditLog(s, self.clock).record(None, "auth.login_failed", "user", (username or "")[:64],
                                           {"address": address})
            s.flush()
            return LoginResult(error=Unauthorized(LOGIN_FAILED))
        s.execute(delete(LoginAttempt).where(LoginAttempt.key == key))
        AuditLog(s, self.clock).record(user, "auth.login", "user", user.id, {"address": address})
        s.flush()
        return LoginResult(user_id=user.id)

    def issue_token(self, user: User) -> tuple[str, ApiToken]:
        token = "as_" + secrets.token_urlsafe(32)
        now = self.clock.now()
        row = ApiToken(user_id=user.id, token_hash=token_digest(token), created_at=now,
                       expires_at=now + self.token_lifetime)
        self.session.add(row)
        self.session.flush()
        AuditLog(self.session, self.clock).record(user, "auth.token_issued", "token", row.id,
                                                  {"expires_at": row.expires_at.isoformat() + "Z"})
        return token, row

    def user_for_token(self, token: str) -> User | None:
        """The token's user while the token is neither revoked nor expired and the user active."""
        row = self.valid_token(token)
        return row.user if row is not None else None

    def valid_token(self, token: str) -> ApiToken | None:
        """The token's row (its user loaded) while the token is neither revoked nor expired and the user
        active."""
        # one query: the token, its user and the user's roles (every API request starts here)
        row = self.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token))
                                  .options(joinedload(ApiToken.user).joinedload(User.role_rows)))
        if row is None or row.revoked_at is not None or row.expires_at <= self.clock.now() or not row.user.active:
            return None
        return row

    def token_caller(self, token: str) -> TokenCaller | None:
        """Who a valid token speaks for, by one light query that loads no user object (the hot read
        paths, e.g. search, need only the ids); None when revoked, expired or the user inactive."""
        # (a Core statement on the session's connection: no ORM execution machinery on every API call)
        row = self.session.connection().execute(_TOKEN_CALLER, {"digest": token_digest(token)}).first()
        if row is None or row.revoked_at is not None or row.expires_at <= self.clock.now() or not row.active:
            return None
        return TokenCaller(row.id, row.user_id, row.department_id, row.last_used_at)

    def use_is_unrecorded(self, row: ApiToken | TokenCaller) -> bool:
        """Whether ``last_used_at`` is older than its resolution: a read request then records its use
        once, instead of every API request writing a row."""
        return row.last_used_at is None or self.clock.now() - row.last_used_at >= TOKEN_USE_RESOLUTION

    def record_token_use(self, token_id: int) -> None:
        """``last_used_at`` = now, unless another request already recorded a use within the resolution."""
        now = self.clock.now()
        self.session.execute(update(ApiToken).where(
            ApiToken.id == token_id,
            (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at <= now - TOKEN_USE_RESOLUTION),
        ).values(last_used_at=now))

    def tokens(self, user: User) -> list[ApiToken]:
        """The user's tokens, newest first (revoked and expired ones too, for the account page)."""
        return list(self.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                         .order_by(ApiToken.id.desc()).limit(50)))

    def revoke_token_id(self, user: User, token_id: int) -> None:
        row = self.session.get(ApiToken, token_id)
        if row is None or row.user_id != user.id:
            raise NotFound("令牌不存在")
        if row.revoked_at is None:
            row.revoked_at = self.clock.now()
            AuditLog(self.session, self.clock).record(user, "auth.token_revoked", "token", row.id)

    def logout(self, user: User) -> None:
        """End the user's browser sessions server-side (a replayed cookie is no longer signed in)."""
        end_sessions(self.session, self.clock, user, revoke_tokens=False)
        AuditLog(self.session, self.clock).record(user, "auth.logout", "user", user.id)

    def revoke_token(self, user: User, token: str) -> None:
        row = self.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
        if row is None or row.user_id != user.id:
            raise Unauthorized("令牌无效")
        row.revoked_at = self.clock.now()
        AuditLog(self.session, self.clock).record(user, "auth.token_revoked", "token", row.id)
