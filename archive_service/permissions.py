"""Every permission rule lives here. Services and views ask; nothing else decides.

A user reads documents of their own department, and documents another department granted to it
(``DocumentGrant``: a letter's recipients, an approved archive lookup while it lasts). A document the
user may not read is reported as missing (404), so ids of other departments leak nothing.
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Select, exists, or_, select

from .errors import Decision, Forbidden, NotFound
from .models import Department, Document, DocumentGrant, User


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _granted(user: User, at: datetime | None = None):
    at = at or _now()
    return exists().where(DocumentGrant.document_id == Document.id,
                          DocumentGrant.department_id == user.department_id,
                          or_(DocumentGrant.until.is_(None), DocumentGrant.until >= at))


def granted_document_ids(user: User, at: datetime | None = None) -> Select:
    """Ids of documents granted to the user's department (live grants), driven by the grants index."""
    at = at or _now()
    return select(DocumentGrant.document_id).where(
        DocumentGrant.department_id == user.department_id,
        or_(DocumentGrant.until.is_(None), DocumentGrant.until >= at))


def issuing_organisation(dept: Department) -> Department:
    """The organisation a department issues documents for: a bureau section (股室) issues in its
    bureau's name, so the bureau and its sections are one organisation for signing and 发文字号."""
    if dept.kind == "section" and dept.parent is not None:
        return dept.parent
    return dept


def same_organisation(a: Department, b: Department) -> bool:
    return issuing_organisation(a).id == issuing_organisation(b).id


def office_organisation_id(user: User) -> int | None:
    """The organisation whose 办公室 the user works in (a clerk, 文书), else None: the clerk sees and
    handles the organisation's outgoing letters of every section and its incoming letters."""
    if "clerk" not in user.roles:
        return None
    return issuing_organisation(user.department).id


def is_office_of(user: User, organisation: Department) -> bool:
    """A clerk (文书) of ``organisation`` (or of the organisation a section belongs to)."""
    return office_organisation_id(user) == issuing_organisation(organisation).id


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


def require_not_self(actor: User | None, target: User, what: str) -> None:
    """Nobody changes their own roles or department (no self-escalation: an administrator cannot
    make themselves auditor, nor move into a department to read its documents). ``actor`` None is
    the command line run by the operator."""
    if actor is not None and actor.id == target.id:
        raise Forbidden(f"不能修改自己的{what}，请由另一位系统管理员办理")


def require_auditor(user: User) -> None:
    if not can_audit(user):
        raise Forbidden("仅安全审计员可查看审计日志")


# -- meetings (第二十二条–第二十五条) -------------------------------------------------------------
MEETING_ROLES = ("drafter", "reviewer", "signer", "liaison")


def belongs_to(user: User, department_id: int) -> bool:
    """The user works in the department, or in one of its sections (审批股室 of the bureau)."""
    return user.department_id == department_id or getattr(user.department, "parent_id", None) == department_id


def may_convene(user: User, convener, industry_supervision: bool) -> Decision:
    """Whether ``user`` may convene a meeting for ``convener`` (true when allowed, else the reason).

    The bureau convenes by default; a regulator convenes only for industry supervision (第二十二条).
    """
    if not has_role(user, *MEETING_ROLES):
        return Decision.refuse("召集会议需要拟稿人、核稿人、签发人或联络员角色")
    if not belongs_to(user, convener.id):
        return Decision.refuse(f"只有{convener.name}的人员可以以其名义召集会议")
    if convener.kind == "regulator" and not industry_supervision:
        return Decision.refuse("监管部门召集会议仅限行业监管事项（第二十二条），请勾选“行业监管事项”")
    if convener.kind not in {"bureau", "regulator"}:
        return Decision.refuse("会议由县行政审批局召集，行业监管事项可由监管部门召集")
    return Decision.allow()


def can_manage_meeting(user: User, convener_id: int) -> bool:
    """Schedule changes, materials, attendance and minutes belong to the convener's people."""
    return belongs_to(user, convener_id) and has_role(user, *MEETING_ROLES)


def can_view_meeting(user: User, convener_id: int, department_ids: set[int], person_ids: set[int]) -> bool:
    """The convener's people, the participating departments and the invited persons see a meeting."""
    return (belongs_to(user, convener_id) or user.department_id in department_ids
            or user.id in person_ids)


def granted_department_ids_many(session, doc_ids: list[int], at: datetime | None = None,
                                id_range: tuple[int, int] | None = None) -> dict[int, list[int]]:
    """``granted_department_ids`` for many documents in one query (search reindexing); with ``id_range``
    (first, last) the documents are selected by range (``doc_ids`` are then every id in it)."""
    at = at or _now()
    out: dict[int, list[int]] = {}
    which = (DocumentGrant.document_id.between(*id_range) if id_range is not None
             else DocumentGrant.document_id.in_(doc_ids))
    rows = session.execute(select(DocumentGrant.document_id, DocumentGrant.department_id).where(
        which, or_(DocumentGrant.until.is_(None), DocumentGrant.until >= at)))
    for doc_id, dept_id in rows:
        out.setdefault(doc_id, []).append(dept_id)
    return out


# -- archive (归档) -------------------------------------------------------------------------------
VIEW_ARCHIVE_ROLES = ("archivist", "signer", "reviewer")


def can_file(user: User, holding: Department) -> bool:
    """Archivists of the holding organisation (a bureau section's archivist files for the bureau)."""
    return same_organisation(user.department, holding) and has_role(user, "archivist")


def can_view_archive(user: User, holding: Department) -> bool:
    """The holding organisation's archivists and leaders (who sign disposal reviews) see its items."""
    return same_organisation(user.department, holding) and has_role(user, *VIEW_ARCHIVE_ROLES)
