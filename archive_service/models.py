"""SQLAlchemy models. The schema is created by Alembic migrations only (see migrations/)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# Department kinds: the bureau (县行政审批局), its sections (股室), regulators (监管部门), others.
DEPARTMENT_KINDS = {"bureau": "审批局", "section": "审批股室", "regulator": "监管部门", "other": "其他单位"}

# Role keys and their Chinese names.
ROLES = {
    "drafter": "拟稿人",
    "reviewer": "核稿人",
    "signer": "签发人",
    "archivist": "档案员",
    "liaison": "联络员",
    "clerk": "文书",
    "admin": "系统管理员",
    "auditor": "安全审计员",
    "secadmin": "安全保密管理员",
}
# 三员分立: no user holds two of the system roles (administration, audit, security administration).
SEPARATED_ROLES = ("admin", "auditor", "secadmin")


class Department(Base):
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # short display name: 县行政审批局
    code: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # 全称 (石城县行政审批局): printed in mastheads, 署名, 印发机关, certificates and 交接文据
    full_name: Mapped[str] = mapped_column(String(100), default="", server_default="")

    parent: Mapped[Department | None] = relationship(remote_side=[id])

    @property
    def official_name(self) -> str:
        """The 全称, or the display name where none was entered."""
        return self.full_name or self.name


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # A signed-in browser session names this number; bumping it (password, role or department change,
    # deactivation, logout) ends every session of the user server-side.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    department: Mapped[Department] = relationship()
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows}


class UserRole(Base):
    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """Failed logins, kept in the database so the limit holds across web processes."""
    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)


class CorrespondenceLink(Base):
    """A bureau section corresponds with a regulator (第二十一条): the pair needs a filed liaison."""
    __tablename__ = "correspondence_links"
    section_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    regulator_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)


class Liaison(Base):
    """A liaison officer (联络员) of one department, filed with (备案) another department."""
    __tablename__ = "liaisons"
    __table_args__ = (UniqueConstraint("user_id", "filed_with_id", name="uq_liaisons_user_filed"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    filed_with_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    filed_on: Mapped[date] = mapped_column(Date)

    user: Mapped[User] = relationship()
    department: Mapped[Department] = relationship(foreign_keys=[department_id])
    filed_with: Mapped[Department] = relationship(foreign_keys=[filed_with_id])


class CalendarOverride(Base):
    """An administrator's ruling on one day: a workday or not (holidays after 2026, local changes)."""
    __tablename__ = "calendar_overrides"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")


class CalendarNotice(Base):
    """A year whose State Council holiday notice has been entered: its days come from the overrides, and the
    computed (estimated) statutory holidays no longer apply."""
    __tablename__ = "calendar_notices"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(200), default="")
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    entered_by: Mapped[str] = mapped_column(String(64), default="")


class Blob(Base):
    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    sm3: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(200))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)  # the object holding the bytes
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_fixity_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    last_fixity_ok: Mapped[bool | None] = mapped_column(Boolean)


class Document(Base):
    __tablename__ = "documents"
    # the document list's filter and order (keyset paging: department, newest first); the archivist's
    # 待归档 list (per department, oldest first)
    __table_args__ = (Index("ix_documents_department_updated", "department_id", "updated_at", "id"),
                      Index("ix_documents_department_created", "department_id", "created_at", "id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(30), default="file")
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    revision: Mapped[int] = mapped_column(Integer, default=1)  # bumps on every change (search versions)
    # county-wide catalogue: every department may see the metadata (not the content) in search
    catalogue: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    department: Mapped[Department] = relationship()
    creator: Mapped[User] = relationship()
    versions: Mapped[list[DocumentVersion]] = relationship(
        order_by="DocumentVersion.number", back_populates="document", cascade="all, delete-orphan")


class DocumentCount(Base):
    """Documents per owning department, kept by database triggers (migration firsthour_0001) on every
    insert, delete and move, so list pages show a count without counting the table per request."""
    __tablename__ = "document_counts"
    department_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class DocumentVersion(Base):
    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number", name="uq_document_versions_doc_number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    document: Mapped[Document] = relationship(back_populates="versions")
    blob: Mapped[Blob] = relationship(lazy="joined")
    creator: Mapped[User] = relationship()


class DocumentGrant(Base):
    """Another department may read a document: a letter's recipients, an approved archive lookup, …

    ``until`` is None for a permanent grant (a letter addressed to the department), else the last
    moment of a time-limited one.
    """
    __tablename__ = "document_grants"
    __table_args__ = (UniqueConstraint("document_id", "department_id", "reason",
                                       name="uq_document_grants_doc_dept_reason"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    reason: Mapped[str] = mapped_column(String(30))  # recipient | copy | lookup | …
    granted_at: Mapped[datetime] = mapped_column(DateTime)
    until: Mapped[datetime | None] = mapped_column(DateTime)


class AuditHead(Base):
    """One row holding the chain's last hash; locked while appending so the chain never forks."""
    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_target", "target_type", "target_id"),
        # the audit list's filters, each with its order (newest first by id) and the home page's activity
        Index("ix_audit_events_actor_name_id", "actor_name", "id"),
        Index("ix_audit_events_target_id_id", "target_id", "id"),
        Index("ix_audit_events_actor_id_id", "actor_id", "id"),
        Index("ix_audit_events_department_id_id", "department_id", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(80))
    details: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # 0: written before the chain was keyed (plain SHA-256); 1: HMAC-SHA256 with the audit key.
    key_era: Mapped[int] = mapped_column(Integer, default=1, server_default="0")


class OutboxEntry(Base):
    """Work for the worker, written in the same transaction as the change it announces."""
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(30), index=True)
    document_id: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    available_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    processed_by: Mapped[str | None] = mapped_column(String(80))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
