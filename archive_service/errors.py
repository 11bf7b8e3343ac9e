"""Domain errors. Each carries a ``kind`` (what went wrong, in domain terms) and a stable ``code``;
nothing below ``archive_service.web`` knows HTTP — only ``web/errors.py`` maps kinds to statuses.
"""
from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """What kind of failure a domain error is; the web layer chooses the HTTP status from it."""

    BAD_REQUEST = "bad_request"        # the request itself is malformed (wrong types, missing fields)
    UNAUTHENTICATED = "unauthenticated"  # nobody (valid) is signed in
    FORBIDDEN = "forbidden"            # signed in, but not allowed
    NOT_FOUND = "not_found"            # missing, or not visible to the user
    CONFLICT = "conflict"              # not possible in the current state
    TOO_LARGE = "too_large"            # over a size limit
    INVALID = "invalid"                # well-formed but unacceptable content
    RATE_LIMITED = "rate_limited"      # too many attempts
    UNAVAILABLE = "unavailable"        # a backend (object store, engine) cannot be reached
    INTEGRITY = "integrity"            # stored data does not match its digests


class DomainError(Exception):
    kind: ErrorKind = ErrorKind.BAD_REQUEST
    code = "error"
    default_message = "请求无效"

    def __init__(self, message: str | None = None, **details):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details = details


class BadRequest(DomainError):
    kind, code, default_message = ErrorKind.BAD_REQUEST, "bad_request", "请求格式错误"


class Unauthorized(DomainError):
    kind, code, default_message = ErrorKind.UNAUTHENTICATED, "unauthorized", "请先登录"


class Forbidden(DomainError):
    kind, code, default_message = ErrorKind.FORBIDDEN, "forbidden", "无权执行此操作"


class NotFound(DomainError):
    kind, code, default_message = ErrorKind.NOT_FOUND, "not_found", "对象不存在"


class Conflict(DomainError):
    kind, code, default_message = ErrorKind.CONFLICT, "conflict", "与现有数据冲突"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class TooLarge(DomainError):
    kind, code, default_message = ErrorKind.TOO_LARGE, "too_large", "文件超过大小限制"


class Unprocessable(DomainError):
    kind, code, default_message = ErrorKind.INVALID, "unprocessable", "内容无法处理"


class RateLimited(DomainError):
    kind, code, default_message = ErrorKind.RATE_LIMITED, "rate_limited", "尝试次数过多，请稍后再试"


class StorageUnavailable(DomainError):
    kind, code, default_message = ErrorKind.UNAVAILABLE, "storage_unavailable", "存储服务暂不可用，请稍后重试"


class IntegrityError(DomainError):
    kind, code, default_message = ErrorKind.INTEGRITY, "integrity_error", "完整性校验失败"


def error_for(kind: ErrorKind, message: str, **details) -> DomainError:
    """The domain error class of ``kind`` with ``message`` (for refusals that carry a kind)."""
    cls = {ErrorKind.FORBIDDEN: Forbidden, ErrorKind.NOT_FOUND: NotFound, ErrorKind.CONFLICT: InvalidTransition,
           ErrorKind.INVALID: Unprocessable, ErrorKind.UNAUTHENTICATED: Unauthorized,
           ErrorKind.RATE_LIMITED: RateLimited, ErrorKind.TOO_LARGE: TooLarge,
           ErrorKind.UNAVAILABLE: StorageUnavailable, ErrorKind.INTEGRITY: IntegrityError}.get(kind, BadRequest)
    return cls(message, **details)


class Decision:
    """The answer to "may this happen?": true when it may; otherwise ``reason`` (Chinese) and ``kind``.

    ``allowed()``-style checks return one, so ``if checker.allowed(...)`` reads as it should, and
    ``decision.raise_if_refused()`` raises the refusal as the domain error of its kind.
    """

    __slots__ = ("kind", "reason")

    def __init__(self, reason: str = "", kind: ErrorKind = ErrorKind.FORBIDDEN):
        self.reason = reason
        self.kind = kind

    @classmethod
    def allow(cls) -> Decision:
        return cls()

    @classmethod
    def refuse(cls, reason: str, kind: ErrorKind = ErrorKind.FORBIDDEN) -> Decision:
        return cls(reason, kind)

    def __bool__(self) -> bool:
        return not self.reason

    def __repr__(self) -> str:
        return "Decision(allowed)" if self else f"Decision(refused, {self.kind.value}: {self.reason})"

    def raise_if_refused(self) -> None:
        if self.reason:
            raise error_for(self.kind, self.reason)
