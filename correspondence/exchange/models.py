"""Tables of the 审管互动 exchange: matters (事项清单), approval records and their pushes to regulators,
notifications of both sides, and revocation requests (第二十八条)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive_service.models import Base, Department, Document, User

DECISIONS = {"grant": "准予", "refuse": "不予", "change": "变更", "renew": "延续", "cancel": "注销"}
PUSH_STATES = {"unclaimed": "待认领", "claimed": "已认领", "auto_claimed": "系统自动认领"}
REVOCATION_ACTIONS = {"change": "变更", "rescind": "撤销", "cancel": "注销", "revoke": "吊销"}
PUSH_DAYS = 5  # 第二十六条: the regulator claims within 5 working days
REVOCATION_STATES = {"pushed": "待核实", "verifying": "核实中", "handling": "处理结果审签中",
                     "done": "已处理", "not_done": "不予处理"}
OUTCOMES = {"done": "已按建议处理", "not_done": "不予处理"}
REVOCATION_DAYS = 2  # 第二十八条: a revocation request is pushed within 2 working days of discovery
NOTICE_KINDS = {"policy": "政策变动", "meeting": "上级会议", "training": "业务培训"}
INFO_DAYS = 5  # the bureau answers a regulator's information request (及时提供) within 5 working days
FEEDBACK_KINDS = {"penalty": "行政处罚", "credit": "信用信息", "inspection": "检查结果"}


class Matter(Base):
    """An approval matter (审批事项) of the register: who approves it and who supervises it."""
    __tablename__ = "exchange_matters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    section_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    transferred_from: Mapped[str] = mapped_column(String(100), default="")  # 划转前的部门
    transferred_on: Mapped[date | None] = mapped_column(Date)  # 划转日期 (第三十一条)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    section: Mapped[Department] = relationship()
    regulators: Mapped[list[MatterRegulator]] = relationship(cascade="all, delete-orphan",
                                                            order_by="MatterRegulator.regulator_id")


class MatterRegulator(Base):
    __tablename__ = "exchange_matter_regulators"
    matter_id: Mapped[int] = mapped_column(ForeignKey("exchange_matters.id", ondelete="CASCADE"), primary_key=True)
    regulator_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)

    regulator: Mapped[Department] = relationship()


class ApprovalRecord(Base):
    """An approval result (审批结果) recorded by a bureau section and pushed to regulators."""
    __tablename__ = "exchange_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("exchange_matters.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)  # the pushing side
    applicant: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18))
    licence_no: Mapped[str] = mapped_column(String(100), default="")
    decision: Mapped[str] = mapped_column(String(20))
    decided_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    matter: Mapped[Matter] = relationship()
    department: Mapped[Department] = relationship()
    creator: Mapped[User] = relationship()
    documents: Mapped[list[RecordDocument]] = relationship(cascade="all, delete-orphan")
    pushes: Mapped[list[Push]] = relationship(back_populates="record", order_by="Push.id")

    @property
    def decision_label(self) -> str:
        return DECISIONS.get(self.decision, self.decision)


class RecordDocument(Base):
    __tablename__ = "exchange_record_documents"
    record_id: Mapped[int] = mapped_column(ForeignKey("exchange_records.id", ondelete="CASCADE"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)

    document: Mapped[Document] = relationship()


class Push(Base):
    """One regulator's copy of a pushed approval record, with its claim (认领) state."""
    __tablename__ = "exchange_pushes"
    __table_args__ = (Index("ix_exchange_pushes_state_due", "state", "due_on"),
                      Index("ix_exchange_pushes_regulator_state", "regulator_id", "state"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("exchange_records.id"), index=True)
    regulator_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    pushed_at: Mapped[datetime] = mapped_column(DateTime)
    pushed_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), default="unclaimed")
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    claim_late: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")  # claimed after due_on
    #: the regulator's filed liaison the push was routed to first (users.id; none filed: the department)
    liaison_id: Mapped[int | None] = mapped_column(Integer)

    record: Mapped[ApprovalRecord] = relationship(back_populates="pushes")
    liaison: Mapped[User | None] = relationship(primaryjoin="foreign(Push.liaison_id) == User.id", viewonly=True)
    regulator: Mapped[Department] = relationship()
    claimer: Mapped[User | None] = relationship()
    feedback: Mapped[list[Feedback]] = relationship(back_populates="push", order_by="Feedback.id")
    info_requests: Mapped[list[InfoRequest]] = relationship(back_populates="push", order_by="InfoRequest.id")

    @property
    def state_label(self) -> str:
        return PUSH_STATES.get(self.state, self.state)


class Feedback(Base):
    """A regulator's own decision on the licensee of a claimed push (第二十六条): a penalty, a credit
    record or an inspection result. Seen by that regulator and by the bureau that pushed, nobody else."""
    __tablename__ = "exchange_feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("exchange_pushes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))  # e.g. the decision's number and name
    decided_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    push: Mapped[Push] = relationship(back_populates="feedback")
    creator: Mapped[User] = relationship()
    documents: Mapped[list[FeedbackDocument]] = relationship(cascade="all, delete-orphan")

    @property
    def kind_label(self) -> str:
        return FEEDBACK_KINDS.get(self.kind, self.kind)


class FeedbackDocument(Base):
    __tablename__ = "exchange_feedback_documents"
    feedback_id: Mapped[int] = mapped_column(ForeignKey("exchange_feedback.id", ondelete="CASCADE"),
                                             primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)

    document: Mapped[Document] = relationship()


class InfoRequest(Base):
    """A regulator asks the bureau for more approval information on a pushed record (及时提供相关审批信息);
    the bureau answers, with attachments that become readable to the asking regulator."""
    __tablename__ = "exchange_info_requests"
    __table_args__ = (Index("ix_exchange_info_requests_open", "answered_at", "due_on"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("exchange_pushes.id"), index=True)
    question: Mapped[str] = mapped_column(Text)
    asked_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    asked_at: Mapped[datetime] = mapped_column(DateTime)
    due_on: Mapped[date] = mapped_column(Date)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)

    push: Mapped[Push] = relationship(back_populates="info_requests")
    asker: Mapped[User] = relationship(foreign_keys=[asked_by])
    answerer: Mapped[User | None] = relationship(foreign_keys=[answered_by])
    documents: Mapped[list[InfoDocument]] = relationship(cascade="all, delete-orphan")


class InfoDocument(Base):
    __tablename__ = "exchange_info_documents"
    info_request_id: Mapped[int] = mapped_column(ForeignKey("exchange_info_requests.id", ondelete="CASCADE"),
                                                 primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)

    document: Mapped[Document] = relationship()


class ExchangeNotification(Base):
    """A message to a department about a push or a revocation request (shown in 我的工作)."""
    __tablename__ = "exchange_notifications"
    __table_args__ = (Index("ix_exchange_notifications_dept_read", "department_id", "read_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    push_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_pushes.id"))
    revocation_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_revocations.id"))
    notice_id: Mapped[int | None] = mapped_column(Integer)  # exchange_notices.id (no FK: added by ALTER)
    message: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)


class Revocation(Base):
    """A regulator's request to change or revoke an approval (第二十八条), due 2 working days after discovery."""
    __tablename__ = "exchange_revocations"
    __table_args__ = (Index("ix_exchange_revocations_regulator", "regulator_id", "id"),
                      Index("ix_exchange_revocations_late", "late", "pushed_on"))  # 督办: pushed late
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    regulator_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    matter_id: Mapped[int] = mapped_column(ForeignKey("exchange_matters.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)  # the approving section
    licensee: Mapped[str] = mapped_column(String(200))
    discovered_on: Mapped[date] = mapped_column(Date)
    action: Mapped[str] = mapped_column(String(20))
    facts: Mapped[str] = mapped_column(Text)
    pushed_at: Mapped[datetime] = mapped_column(DateTime)
    pushed_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    late_days: Mapped[int] = mapped_column(Integer, default=0)
    #: pushed → verifying (核实) → handling (result recorded, in the sign-off chain) → done | not_done
    state: Mapped[str] = mapped_column(String(20), default="pushed")
    result: Mapped[str] = mapped_column(Text, default="")  # the handling result (处理结果) and reasons
    outcome: Mapped[str] = mapped_column(String(20), default="", server_default="")  # done | not_done
    verify_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: the section's filed liaison the request was routed to first (users.id)
    liaison_id: Mapped[int | None] = mapped_column(Integer)
    request_letter_id: Mapped[int | None] = mapped_column(Integer)  # letters.id: 审批变更撤销建议函
    result_letter_id: Mapped[int | None] = mapped_column(Integer)  # letters.id: 处理结果告知函

    regulator: Mapped[Department] = relationship(foreign_keys=[regulator_id])
    section: Mapped[Department] = relationship(foreign_keys=[section_id])
    liaison: Mapped[User | None] = relationship(primaryjoin="foreign(Revocation.liaison_id) == User.id",
                                                viewonly=True)
    matter: Mapped[Matter] = relationship()
    documents: Mapped[list[RevocationDocument]] = relationship(cascade="all, delete-orphan")

    @property
    def action_label(self) -> str:
        return REVOCATION_ACTIONS.get(self.action, self.action)

    @property
    def state_label(self) -> str:
        return REVOCATION_STATES.get(self.state, self.state)


class RevocationDocument(Base):
    __tablename__ = "exchange_revocation_documents"
    revocation_id: Mapped[int] = mapped_column(ForeignKey("exchange_revocations.id", ondelete="CASCADE"),
                                               primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)

    document: Mapped[Document] = relationship()


class Notice(Base):
    """A regulator's notice to the bureau's sections (第二十七条): a change of laws, rules or policy
    affecting approvals, or a higher-level meeting or training; sent with its letter, acknowledged per section."""
    __tablename__ = "exchange_notices"
    __table_args__ = (Index("ix_exchange_notices_regulator", "regulator_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    regulator_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    effective_on: Mapped[date] = mapped_column(Date)  # 施行日期 (or the meeting's / training's date)
    summary: Mapped[str] = mapped_column(Text)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    regulator: Mapped[Department] = relationship()
    creator: Mapped[User] = relationship()
    matters: Mapped[list[NoticeMatter]] = relationship(cascade="all, delete-orphan")
    recipients: Mapped[list[NoticeRecipient]] = relationship(cascade="all, delete-orphan",
                                                             order_by="NoticeRecipient.section_id")
    documents: Mapped[list[NoticeDocument]] = relationship(cascade="all, delete-orphan")

    @property
    def kind_label(self) -> str:
        return NOTICE_KINDS.get(self.kind, self.kind)


class NoticeMatter(Base):
    __tablename__ = "exchange_notice_matters"
    notice_id: Mapped[int] = mapped_column(ForeignKey("exchange_notices.id", ondelete="CASCADE"), primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("exchange_matters.id"), primary_key=True)

    matter: Mapped[Matter] = relationship()


class NoticeDocument(Base):
    __tablename__ = "exchange_notice_documents"
    notice_id: Mapped[int] = mapped_column(ForeignKey("exchange_notices.id", ondelete="CASCADE"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)

    document: Mapped[Document] = relationship()


class NoticeRecipient(Base):
    """A bureau section a notice goes to, and its acknowledgement (签收)."""
    __tablename__ = "exchange_notice_recipients"
    __table_args__ = (Index("ix_exchange_notice_recipients_section", "section_id", "acked_at"),)
    notice_id: Mapped[int] = mapped_column(ForeignKey("exchange_notices.id", ondelete="CASCADE"), primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    acked_at: Mapped[datetime | None] = mapped_column(DateTime)
    acked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    section: Mapped[Department] = relationship()
    acker: Mapped[User | None] = relationship()


class Mailbox(Base):
    """A department's e-mail address for the daily digest of its unread notifications."""
    __tablename__ = "exchange_mailboxes"
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    address: Mapped[str] = mapped_column(String(254))
    last_digest_at: Mapped[datetime | None] = mapped_column(DateTime)  # sent up to (notifications before)

    department: Mapped[Department] = relationship()


class BoardCount(Base):
    """督办: one figure per kind (push, revocation, info), month and department, kept up to date in the
    transaction that changes the rows it counts (``counts.bump``), so the dashboard reads a few hundred
    rows instead of counting 100,000 pushes per request. ``counts.recount`` recomputes them from the rows."""
    __tablename__ = "exchange_board_counts"
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    department_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
