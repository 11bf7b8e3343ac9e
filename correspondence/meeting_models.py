"""Tables for meetings (第二十二条–第二十四条) and their minutes (第二十五条).

The minutes text itself is a letter of kind "minutes" owned by the letters workflow; a meeting refers
to it by a plain integer (``MeetingMinutes.letter_id``), never by a foreign key into those tables.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive_service.models import Base, Department, Document, User

# 第二十二条: the two meeting forms, and the masthead (发文机关标志) of their minutes.
MEETING_KINDS = {"joint": "审管协调联动联席会议", "liaison": "审管协调联动联络员会议"}
MINUTES_MASTHEADS = {"joint": "石城县审管协调联动联席会议纪要", "liaison": "石城县审管协调联动联络员会议纪要"}

# 第二十三条: what a consultation covers, as a fixed list of categories.
TOPIC_CATEGORIES = {
    "legality": "实施行政审批过程中涉及的合法性、规范性等问题",
    "devolution": "承接、取消和下放（含下放乡镇）的行政审批事项",
    "inspection": "检查、检验、检测、鉴定、公示、专家论证及听证等工作",
    "process": "审批事项流程再造、并联审批、网上审批、联合勘验等工作",
    "reform": "工程建设项目“一站式集成”审批等审批制度改革工作",
    "complaints": "信访、行政复议、行政诉讼等事项",
    "other": "县行政审批局与监管部门之间需要联络会商的其他事项",
}

CAPACITIES = {"member": "参会", "observer": "列席"}
ATTENDANCE = {"": "未记录", "present": "出席", "leave": "请假", "absent": "缺席"}
STATUSES = {"scheduled": "已安排", "held": "已召开", "cancelled": "已取消"}


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_date_id", "meeting_date", "id"),)  # the keyset order of the list
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    convener_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    industry_supervision: Mapped[bool] = mapped_column(Boolean, default=False)  # a regulator convenes
    chair_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    meeting_date: Mapped[date] = mapped_column(Date, index=True)
    start_time: Mapped[str] = mapped_column(String(10), default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    # 第二十四条: the latest day to send topics and materials, with the rule that produced it
    materials_deadline: Mapped[date] = mapped_column(Date)
    deadline_rule: Mapped[str] = mapped_column(String(100))
    urgent_reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    materials_sent_at: Mapped[datetime | None] = mapped_column(DateTime)  # first sending
    materials_late: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    convener: Mapped[Department] = relationship()
    chair: Mapped[User] = relationship(foreign_keys=[chair_id])
    creator: Mapped[User] = relationship(foreign_keys=[created_by])
    topics: Mapped[list[MeetingTopic]] = relationship(order_by="MeetingTopic.position",
                                                        cascade="all, delete-orphan", back_populates="meeting")
    participants: Mapped[list[MeetingParticipant]] = relationship(
        order_by="MeetingParticipant.id", cascade="all, delete-orphan", back_populates="meeting")
    materials: Mapped[list[MeetingMaterial]] = relationship(order_by="MeetingMaterial.id",
                                                              cascade="all, delete-orphan")
    dispatches: Mapped[list[MeetingDispatch]] = relationship(order_by="MeetingDispatch.id",
                                                               cascade="all, delete-orphan")

    @property
    def kind_label(self) -> str:
        return MEETING_KINDS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def department_ids(self) -> set[int]:
        return {p.department_id for p in self.participants}


class MeetingTopic(Base):
    __tablename__ = "meeting_topics"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(20))

    meeting: Mapped[Meeting] = relationship(back_populates="topics")

    @property
    def category_label(self) -> str:
        return TOPIC_CATEGORIES.get(self.category, self.category)


class MeetingParticipant(Base):
    """A participating department, optionally one named person of it; attendance is recorded here."""
    __tablename__ = "meeting_participants"
    __table_args__ = (UniqueConstraint("meeting_id", "department_id", "user_id", name="uq_meeting_participants_who"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    capacity: Mapped[str] = mapped_column(String(20), default="member")
    attendance: Mapped[str] = mapped_column(String(20), default="")
    attendee_name: Mapped[str] = mapped_column(String(64), default="")  # who came for a department row

    meeting: Mapped[Meeting] = relationship(back_populates="participants")
    department: Mapped[Department] = relationship()
    user: Mapped[User | None] = relationship()

    @property
    def person(self) -> str:
        return self.user.full_name if self.user else self.attendee_name

    @property
    def capacity_label(self) -> str:
        return CAPACITIES.get(self.capacity, self.capacity)

    @property
    def attendance_label(self) -> str:
        return ATTENDANCE.get(self.attendance, self.attendance)


class MeetingMaterial(Base):
    __tablename__ = "meeting_materials"
    __table_args__ = (UniqueConstraint("meeting_id", "document_id", name="uq_meeting_materials_doc"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    added_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    document: Mapped[Document] = relationship()


class MeetingDispatch(Base):
    """One sending of topics and materials to the participants (第二十四条)."""
    __tablename__ = "meeting_dispatches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    sent_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime] = mapped_column(DateTime)
    sent_on: Mapped[date] = mapped_column(Date)  # the local (China) day it was sent
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    material_count: Mapped[int] = mapped_column(Integer, default=0)

    sender: Mapped[User] = relationship()


class MeetingNotification(Base):
    """A notice to one participant department (user_id None) or person, shown in 我的工作."""
    __tablename__ = "meeting_notifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # scheduled | materials | minutes
    message: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    read_by: Mapped[int | None] = mapped_column(Integer)

    department: Mapped[Department] = relationship()
    user: Mapped[User | None] = relationship()


class MeetingMinutes(Base):
    """The minutes of one meeting: its decisions and the minutes letter that carries them.

    ``letter_id`` is the letters workflow's record (kind "minutes"), whose sign-off flow the minutes follow.
    """
    __tablename__ = "meeting_minutes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    decisions: Mapped[str] = mapped_column(Text)  # JSON list of strings
    attendance: Mapped[str] = mapped_column(Text)  # JSON {"出席": [...], "请假": [...], "列席": [...]}
    letter_id: Mapped[int | None] = mapped_column(Integer, index=True)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    issue_due: Mapped[date | None] = mapped_column(Date, index=True)
    issued_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    meeting: Mapped[Meeting] = relationship()
