"""Tables of the letters (函) and minutes (纪要) workflow: letters, recipients, 机关代字, number sequences.

The letter's text lives as canonical JSON versions of a core document (``Letter.document``), so the
sign-off chain is bound to the digest of exactly what was signed. The issued DOCX and signed PDF live
in a separate "final" document that recipients are granted; the processing sheet stays internal.
"""
from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive_service.models import Base, Department, Document, User

KINDS = {"letter": "函", "minutes": "纪要"}
URGENCIES = {"": "无", "加急": "加急", "特急": "特急"}
#: 公开属性 (政府信息公开条例): decided when the letter is drafted, shown on its pages and the 发文稿纸 and
#: 收文处理单; "" is not yet marked.
DISCLOSURES = ("主动公开", "依申请公开", "删减后公开", "不予公开")
RECIPIENT_ROLES = {"to": "主送", "cc": "抄送", "distribution": "分送"}
INBOX_STATES = {"pending": "待签收", "received": "已签收", "registered": "已登记", "reviewed": "已初审",
                "returned": "已退回", "proposed": "已拟办", "assigned": "承办中", "replied": "已答复",
                "closed": "已办结"}
#: 收文办理 steps (条例 第二十四条) as the 收文处理单 names them
INBOX_ACTIONS = {"receive": "签收", "register": "登记", "review": "初审", "return": "退回", "propose": "拟办",
                 "assign": "批办", "circulate": "传阅", "read": "阅知", "remind": "催办", "reply": "答复",
                 "close": "办结"}


class AgencyCode(Base):
    """机关代字 of one department for one document kind, e.g. 石审批函 (editable by an administrator)."""
    __tablename__ = "letter_agency_codes"
    __table_args__ = (UniqueConstraint("department_id", "kind", name="uq_letter_agency_codes_dept_kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    kind: Mapped[str] = mapped_column(String(20))
    prefix: Mapped[str] = mapped_column(String(40))

    department: Mapped[Department] = relationship()


class NumberSequence(Base):
    """The last number given for one 代字 in one year; locked (FOR UPDATE) while a number is taken."""
    __tablename__ = "letter_number_sequences"
    __table_args__ = (UniqueConstraint("prefix", "year", name="uq_letter_number_sequences_prefix_year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Letter(Base):
    __tablename__ = "letters"
    # list orders: letters by last change, incoming letters by issue time
    __table_args__ = (Index("ix_letters_updated_at_id", "updated_at", "id"),
                      Index("ix_letters_issued_at_id", "issued_at", "id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="letter")  # letter | minutes
    template: Mapped[str] = mapped_column(String(40), default="")
    title: Mapped[str] = mapped_column(String(300))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)  # drafting dept
    issuer_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)  # issuing organisation
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))  # canonical JSON versions
    final_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))  # DOCX v1, signed PDF v2
    sheet_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))  # 公文处理单
    content: Mapped[str] = mapped_column(Text)  # the canonical JSON of the current version
    content_sha256: Mapped[str] = mapped_column(String(64))
    urgency: Mapped[str] = mapped_column(String(10), default="")
    upward: Mapped[bool] = mapped_column(Boolean, default=False)  # 上行文: prints 签发人
    meeting_id: Mapped[int | None] = mapped_column(Integer, index=True)
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"), index=True)
    number: Mapped[str | None] = mapped_column(String(80), unique=True)
    number_year: Mapped[int | None] = mapped_column(Integer)
    number_seq: Mapped[int | None] = mapped_column(Integer)
    written_on: Mapped[date | None] = mapped_column(Date)  # 成文日期: the (last) signer's day
    issued_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    department: Mapped[Department] = relationship(foreign_keys=[department_id])
    issuer: Mapped[Department] = relationship(foreign_keys=[issuer_id])
    document: Mapped[Document] = relationship(foreign_keys=[document_id])
    final_document: Mapped[Document | None] = relationship(foreign_keys=[final_document_id])
    sheet_document: Mapped[Document | None] = relationship(foreign_keys=[sheet_document_id])
    creator: Mapped[User] = relationship()
    reply_to: Mapped[Letter | None] = relationship(remote_side=[id], foreign_keys=[reply_to_id])
    recipients: Mapped[list[LetterRecipient]] = relationship(
        order_by="LetterRecipient.id", cascade="all, delete-orphan", back_populates="letter",
        foreign_keys="LetterRecipient.letter_id")
    attachments: Mapped[list[LetterAttachment]] = relationship(
        order_by="LetterAttachment.position", cascade="all, delete-orphan", back_populates="letter")

    @property
    def data(self) -> dict:
        return json.loads(self.content)

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    def recipients_with(self, role: str) -> list[LetterRecipient]:
        return [r for r in self.recipients if r.role == role]


class LetterRecipient(Base):
    """One addressee of a letter (主送 / 抄送 / 分送) and its incoming handling (收文) on their side."""
    __tablename__ = "letter_recipients"
    __table_args__ = (UniqueConstraint("letter_id", "department_id", name="uq_letter_recipients_letter_dept"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # to | cc | distribution
    state: Mapped[str] = mapped_column(String(20), default="pending")
    received_at: Mapped[datetime | None] = mapped_column(DateTime)
    received_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime | None] = mapped_column(DateTime)
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    incoming_number: Mapped[str | None] = mapped_column(String(40))  # 收文编号
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_on: Mapped[date | None] = mapped_column(Date, index=True)  # 督办 counts replies by the due month
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime)
    reply_letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"))
    replied_at: Mapped[datetime | None] = mapped_column(DateTime)

    letter: Mapped[Letter] = relationship(back_populates="recipients", foreign_keys=[letter_id])
    department: Mapped[Department] = relationship()
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])
    reply_letter: Mapped[Letter | None] = relationship(foreign_keys=[reply_letter_id])
    steps: Mapped[list[InboxStep]] = relationship(order_by="InboxStep.id", cascade="all, delete-orphan",
                                                  lazy="selectin")
    readings: Mapped[list[InboxReading]] = relationship(order_by="InboxReading.sent_at",
                                                        cascade="all, delete-orphan", lazy="selectin")

    @property
    def role_label(self) -> str:
        return RECIPIENT_ROLES.get(self.role, self.role)

    @property
    def state_label(self) -> str:
        return INBOX_STATES.get(self.state, self.state)


class InboxStep(Base):
    """One step of an incoming letter's handling (收文处理单): who, when, with which opinion."""
    __tablename__ = "letter_inbox_steps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("letter_recipients.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    opinion: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime)

    @property
    def action_label(self) -> str:
        return INBOX_ACTIONS.get(self.action, self.action)


class InboxReading(Base):
    """传阅: a person the letter was circulated to, and when they read it (the read receipt)."""
    __tablename__ = "letter_inbox_reads"
    item_id: Mapped[int] = mapped_column(ForeignKey("letter_recipients.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    sent_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime] = mapped_column(DateTime)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class LetterAttachment(Base):
    """An attachment (附件): a core document, named in the 附件说明 in this order."""
    __tablename__ = "letter_attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))

    letter: Mapped[Letter] = relationship(back_populates="attachments")
    document: Mapped[Document] = relationship()
