"""Tables of archive lookup (档案调阅): per-department policy, requests and their items.

A request belongs to one requesting department and one holding organisation; each item carries its
form (view = 查阅 online, copy = 复制 a watermarked copy) and the holder's decision. Access itself is a
core ``DocumentGrant`` (reason ``lookup``) per document of an approved item, ``until`` the end of the
last working day of the period.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..archive.models import ArchiveItem
from ..models import Base, Department, User

STATES = {"draft": "草稿", "submitted": "已提交", "leader_approved": "本单位负责人已同意", "active": "调阅中",
          "refused": "未同意", "returned": "已归还", "expired": "已到期", "cancelled": "已撤回"}
FORMS = {"view": "查阅", "copy": "复制"}
DECISIONS = {"pending": "待审批", "approved": "同意", "refused": "不同意"}
DECIDERS = {"archivist": "档案员", "signer": "签发人（保管期限永久或敏感档案）"}


class LookupPolicy(Base):
    """How a holding organisation handles lookups (absent row: the defaults)."""
    __tablename__ = "lookup_policies"
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    due_days: Mapped[int] = mapped_column(Integer, default=3)  # working days to decide
    max_days: Mapped[int] = mapped_column(Integer, default=20)  # longest period a requester may ask for
    # who decides items of 保管期限 Y or marked sensitive: archivist | signer
    decider: Mapped[str] = mapped_column(String(10), default="archivist")
    leader_first: Mapped[bool] = mapped_column(Boolean, default=False)  # requester's leader approves first


class LookupRequest(Base):
    __tablename__ = "lookup_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)  # 调阅编号, e.g. DY2026-000012
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)  # requesting
    holder_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)  # holding organisation
    purpose: Mapped[str] = mapped_column(Text)
    days: Mapped[int] = mapped_column(Integer)  # working days asked for
    contact: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), index=True, default="draft")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_on: Mapped[date | None] = mapped_column(Date, index=True)  # holder decides by this working day
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    until: Mapped[datetime | None] = mapped_column(DateTime, index=True)  # the grants end (UTC)
    extension_days: Mapped[int | None] = mapped_column(Integer)  # asked for (once)
    extension_state: Mapped[str | None] = mapped_column(String(10))  # pending | approved | refused
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)  # returned, expired or cancelled
    letter_id: Mapped[int | None] = mapped_column(Integer)  # the 调阅函 drafted for it (correspondence)

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    department: Mapped[Department] = relationship(foreign_keys=[department_id])
    holder: Mapped[Department] = relationship(foreign_keys=[holder_id])
    items: Mapped[list[LookupItem]] = relationship(order_by="LookupItem.id", cascade="all, delete-orphan",
                                                    back_populates="request")

    @property
    def state_label(self) -> str:
        return STATES.get(self.state, self.state)


class LookupItem(Base):
    __tablename__ = "lookup_items"
    __table_args__ = (UniqueConstraint("request_id", "item_id", name="uq_lookup_items_request_item"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("lookup_requests.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_items.id"), index=True)
    form: Mapped[str] = mapped_column(String(10))  # view | copy
    decision: Mapped[str] = mapped_column(String(10), default="pending")  # pending | approved | refused
    reason: Mapped[str] = mapped_column(String(500), default="")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    request: Mapped[LookupRequest] = relationship(back_populates="items")
    item: Mapped[ArchiveItem] = relationship()

    @property
    def form_label(self) -> str:
        return FORMS.get(self.form, self.form)
