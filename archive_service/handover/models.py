"""Tables of the handover (档案移交与接收, 第二十九条): manifests (移交清单), their revisions and lines.

A manifest keeps one row across revisions; each revision freezes its lines (a snapshot of the items'
DA/T 46 metadata and their parts' sizes and digests at the time it was built) and its receipt-check
report. An item is on at most one open manifest (``handover_claims``: a unique item id, released when
the manifest is accepted).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..archive.models import ArchiveItem
from ..models import Base, Department, User

PURPOSES = {"transfer": "移交", "reassign": "划转事项档案", "deposit": "进馆"}
STATES = {"draft": "草稿", "submitted": "已提交", "signed": "已签署", "received": "已接收待检",
          "accepting": "待接收方签署", "accepted": "已接收", "rejected": "已退回"}
OPEN_STATES = frozenset(STATES) - {"accepted"}


class Handover(Base):
    """移交清单: who hands over what to whom; ``state`` follows the sign-off chain's steps."""
    __tablename__ = "handovers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))  # 交接工作名称
    description: Mapped[str] = mapped_column(Text, default="")  # 内容描述
    purpose: Mapped[str] = mapped_column(String(20), default="transfer")
    from_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    to_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)  # the current revision's number
    source: Mapped[str] = mapped_column(String(10), default="local")  # local | bag (imported package)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    # the 交接文据 filed as an archive item of each side (after acceptance)
    sender_record_item_id: Mapped[int | None] = mapped_column(ForeignKey("archive_items.id"))
    receiver_record_item_id: Mapped[int | None] = mapped_column(ForeignKey("archive_items.id"))

    from_department: Mapped[Department] = relationship(foreign_keys=[from_department_id])
    to_department: Mapped[Department] = relationship(foreign_keys=[to_department_id])
    creator: Mapped[User] = relationship()
    revisions: Mapped[list[HandoverRevision]] = relationship(order_by="HandoverRevision.number",
                                                             cascade="all, delete-orphan", back_populates="handover")

    @property
    def state_label(self) -> str:
        return STATES.get(self.state, self.state)

    @property
    def purpose_label(self) -> str:
        return PURPOSES.get(self.purpose, self.purpose)

    @property
    def current(self) -> HandoverRevision:
        return self.revisions[-1]


class HandoverRevision(Base):
    """One revision of a manifest: its frozen lines, digest, sign-off flows, check report, decision."""
    __tablename__ = "handover_revisions"
    __table_args__ = (UniqueConstraint("handover_id", "number", name="uq_handover_revisions_handover_number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handovers.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical lines (what the signers sign)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    total_bytes: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(20), default="draft")  # the state this revision ended in
    sender_flow_id: Mapped[int | None] = mapped_column(ForeignKey("signoff_flows.id"))
    receiver_flow_id: Mapped[int | None] = mapped_column(ForeignKey("signoff_flows.id"))
    report: Mapped[str] = mapped_column(Text, default="")  # JSON receipt-check report ("" before receipt)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default="")  # rejection reason
    exceptions: Mapped[str] = mapped_column(Text, default="[]")  # JSON [{item_id, check, reason}] at acceptance
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the receiving archivist
    # SHA-256 of the 交接文据 PDF signed by the sender's department when its signer signed (a store record)
    sender_record_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    handover: Mapped[Handover] = relationship(back_populates="revisions")
    lines: Mapped[list[HandoverLine]] = relationship(order_by="HandoverLine.seq", cascade="all, delete-orphan",
                                                     back_populates="revision")


class HandoverLine(Base):
    """One line of a revision: 序号, 档号, 文号, 责任者, 题名, 日期, 页数, 保管期限, size, SHA-256, SM3."""
    __tablename__ = "handover_lines"
    __table_args__ = (UniqueConstraint("revision_id", "item_id", name="uq_handover_lines_revision_item"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("handover_revisions.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_items.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    archival_code: Mapped[str] = mapped_column(String(40))
    doc_number: Mapped[str] = mapped_column(String(80), default="")
    responsible: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(300), default="")
    doc_date: Mapped[date | None] = mapped_column(Date)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    retention: Mapped[str] = mapped_column(String(3))
    size: Mapped[int] = mapped_column(Integer, default=0)  # all parts
    sha256: Mapped[str] = mapped_column(String(64))  # of the main part
    sm3: Mapped[str] = mapped_column(String(64))
    parts: Mapped[str] = mapped_column(Text, default="[]")  # JSON [{part_id, filename, size, sha256, sm3, format}]

    revision: Mapped[HandoverRevision] = relationship(back_populates="lines")
    item: Mapped[ArchiveItem] = relationship()


class HandoverClaim(Base):
    """An item on an open manifest (one at a time); deleted when the manifest is accepted."""
    __tablename__ = "handover_claims"
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_items.id"), primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handovers.id", ondelete="CASCADE"), index=True)
