"""Every permission rule lives here. Services and views ask; nothing else decides.

A user reads documents of their own department only (later issues add grants). A document the user
may not read is reported as missing (404), so ids of other departments leak nothing.
"""
from __future__ import annotations

from sqlalchemy import Select

from .errors import Forbidden, NotFound
from .models import Document, User


def has_role(user: User, *roles: str) -> bool:
    return bool(user.roles & set(roles))


def require_role(user: User, *roles: str) -> None:
    if not has_role(user, *roles):
        raise Forbidden("您没有执行此操作的角色权限")


def readable_documents(user: User, query: Select) -> Select:
    """Scope a Document query to what ``user`` may read."""
    return query.where(Document.department_id == user.department_id)


def can_read(user: User, doc: Document) -> bool:
    return doc.department_id == user.department_id


def ensure_readable(user: User, doc: Document | None) -> Document:
    if doc is None or not can_read(user, doc):
        raise NotFound("文档不存在或无权查看")
    return doc


def can_upload(user: User) -> bool:
    """Any active user files documents for their own department."""
    return user.active


def can_administer(user: User) -> bool:
    return has_role(user, "admin")


def can_audit(user: User) -> bool:
    return has_role(user, "auditor")


def require_admin(user: User) -> None:
    if not can_administer(user):
        raise Forbidden("仅系统管理员可执行此操作")


def require_auditor(user: User) -> None:
    if not can_audit(user):
        raise Forbidden("仅安全审计员可查看审计日志")
