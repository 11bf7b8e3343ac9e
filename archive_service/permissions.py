"""Every permission rule lives here. Services and views ask; nothing else decides.

A user reads documents of their own department, and documents another department granted to it
(``DocumentGrant``: a letter's recipients, an approved archive lookup while it lasts). A document the
user may not read is reported as missing (404), so ids of other departments leak nothing.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Select, exists, or_, select

from .errors import Forbidden, NotFound
from .models import Document, DocumentGrant, User


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _granted(user: User, at: datetime | None = None):
    at = at or _now()
    return exists().where(DocumentGrant.document_id == Document.id,
                          DocumentGrant.department_id == user.department_id,
                          or_(DocumentGrant.until.is_(None), DocumentGrant.until >= at))


def has_role(user: User, *roles: str) -> bool:
    return bool(user.roles & set(roles))


def require_role(user: User, *roles: str) -> None:
    if not has_role(user, *roles):
        raise Forbidden("您没有执行此操作的角色权限")


def readable_documents(user: User, query: Select, include_granted: bool = True) -> Select:
    """Scope a Document query to what ``user`` may read (own department, plus live grants)."""
    if not include_granted:
        return query.where(Document.department_id == user.department_id)
    return query.where(or_(Document.department_id == user.department_id, _granted(user)))


def can_read(user: User, doc: Document) -> bool:
    if doc.department_id == user.department_id:
        return True
    from sqlalchemy.orm import object_session

    session = object_session(doc)
    return session is not None and bool(session.scalar(select(_granted(user)).where(Document.id == doc.id)))


def granted_department_ids(session, doc: Document, at: datetime | None = None) -> list[int]:
    """Departments other than the owner that may read ``doc`` now (for search ACLs)."""
    at = at or _now()
    return list(session.scalars(select(DocumentGrant.department_id).where(
        DocumentGrant.document_id == doc.id, or_(DocumentGrant.until.is_(None), DocumentGrant.until >= at))))


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
