"""Joint and liaison meetings (第二十二条–第二十四条): scheduling with the materials deadline,
materials shared with participants, notifications, attendance.

第二十四条: topics and materials reach the participants 3 working days before the meeting. The
latest day to send them is ``meeting date − 3 working days``; a meeting whose latest day has already
passed is refused unless an urgent reason is given, which is recorded and audited.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import BinaryIO

from sqlalchemy import literal, or_, select, tuple_
from sqlalchemy.orm import Session, joinedload, selectinload

from archive_service import permissions
from archive_service.audit import AuditLog
from archive_service.clock import Clock
from archive_service.directory import find_department
from archive_service.documents import DocumentService
from archive_service.errors import Forbidden, InvalidTransition, NotFound, Unprocessable
from archive_service.listing import Cursor
from archive_service.models import Department, DocumentGrant, User
from archive_service.workdays import load_calendar

from .meeting_models import (
    ATTENDANCE,
    CAPACITIES,
    MEETING_KINDS,
    TOPIC_CATEGORIES,
    Meeting,
    MeetingDispatch,
    MeetingMaterial,
    MeetingNotification,
    MeetingParticipant,
    MeetingTopic,
)

MATERIALS_LEAD_DAYS = 3
DEADLINE_RULE = "第二十四条：会议召开3个工作日前送达议题及材料"
GRANT_REASON = "meeting"


class DeadlineViolation(Unprocessable):
    """A working-day deadline of the measures would be broken (422, with the dates in ``details``)."""
    code = "deadline_violation"


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


@dataclass
class DeadlineCheck:
    meeting_date: date
    latest_day: date      # last day to send the materials
    today: date
    earliest_meeting: date  # the earliest meeting date that still leaves 3 working days
    estimated: bool = False  # counted over holidays that are estimated (no State Council notice yet)

    @property
    def estimate_note(self) -> str:
        return "（含估算的节假日，国务院通知录入后可能变化）" if self.estimated else ""

    @property
    def missed(self) -> bool:
        return self.today > self.latest_day

    def message(self) -> str:
        return (f"会议议题及材料须在会议召开3个工作日前送达参会单位（第二十四条）。"
                f"{cn_date(self.meeting_date)}召开的会议，材料最迟须于{cn_date(self.latest_day)}送出"
                f"{self.estimate_note}，"
                f"今天（{cn_date(self.today)}）已来不及。请将会议安排在{cn_date(self.earliest_meeting)}或以后，"
                f"或填写紧急事由后再安排。")


class MeetingService:
    def __init__(self, session: Session, clock: Clock, documents: DocumentService | None = None):
        self.s = session
        self.clock = clock
        self.documents = documents
        self.audit = AuditLog(session, clock)

    # -- deadlines -------------------------------------------------------------------------------
    def check_deadline(self, meeting_date: date) -> DeadlineCheck:
        cal = load_calendar(self.s)
        today = self.clock.today()
        latest = cal.deadline(meeting_date, -MATERIALS_LEAD_DAYS)
        earliest = cal.deadline(today, MATERIALS_LEAD_DAYS)
        return DeadlineCheck(meeting_date, latest.day, today, earliest.day, latest.estimated or earliest.estimated)

    # -- scheduling ------------------------------------------------------------------------------
    def schedule(self, user: User, *, kind: str, title: str, meeting_date: date, topics: list[dict],
                 participants: list[dict], convener: Department | None = None, chair: User | None = None,
                 industry_supervision: bool = False, urgent_reason: str = "", start_time: str = "",
                 location: str = "") -> Meeting:
        """Schedule a meeting; refuses (DeadlineViolation) when materials can no longer be sent in time."""
        if kind not in MEETING_KINDS:
            raise Unprocessable(f"会议类型无效：{kind}（可选：joint 联席会议、liaison 联络员会议）")
        title = " ".join((title or "").split())
        if not title or len(title) > 200:
            raise Unprocessable("会议名称不能为空，且不超过 200 字")
        if not isinstance(meeting_date, date):
            raise Unprocessable("会议日期无效")
        convener = convener or self._bureau()
        permissions.may_convene(user, convener, industry_supervision).raise_if_refused()
        chair = chair or self._default_chair(user, convener)
        if not permissions.belongs_to(chair, convener.id) or "signer" not in chair.roles:
            raise Unprocessable(f"主持人须为{convener.name}具有签发人角色的人员（纪要由主持人审签）")
        topic_rows = self._topics(topics)
        participant_rows = self._participants(participants, convener, chair)
        urgent_reason = (urgent_reason or "").strip()
        if len(urgent_reason) > 500:
            raise Unprocessable("紧急事由不超过 500 字")
        today = self.clock.today()
        if meeting_date < today:
            raise Unprocessable(f"会议日期（{cn_date(meeting_date)}）早于今天，不能安排")
        check = self.check_deadline(meeting_date)
        if check.missed and not urgent_reason:
            raise DeadlineViolation(check.message(), latest_day=check.latest_day.isoformat(),
                                    earliest_meeting=check.earliest_meeting.isoformat(), today=today.isoformat())
        now = self.clock.now()
        meeting = Meeting(kind=kind, title=title, convener=convener, industry_supervision=bool(industry_supervision),
                          chair=chair, meeting_date=meeting_date, start_time=(start_time or "").strip()[:10],
                          location=(location or "").strip()[:200], materials_deadline=check.latest_day,
                          deadline_rule=DEADLINE_RULE, urgent_reason=urgent_reason if check.missed else "",
                          status="scheduled", materials_late=False, created_by=user.id, created_at=now,
                          updated_at=now, topics=topic_rows, participants=participant_rows)
        self.s.add(meeting)
        self.s.flush()
        self.audit.record(user, "meeting.scheduled", "meeting", meeting.id, {
            "kind": kind, "title": title, "date": meeting_date.isoformat(), "convener": convener.code,
            "chair": chair.username, "materials_deadline": check.latest_day.isoformat(),
            "topics": [t.category for t in topic_rows],
            "participants": [[p.department_id, p.user_id, p.capacity] for p in participant_rows]})
        if check.missed:
            self.audit.record(user, "meeting.urgent_schedule", "meeting", meeting.id, {
                "reason": urgent_reason, "materials_deadline": check.latest_day.isoformat(),
                "today": today.isoformat(), "rule": DEADLINE_RULE})
        self._notify(meeting, "scheduled",
                     f"会议通知：{title}（{cn_date(meeting_date)}"
                     f"{(' ' + meeting.start_time) if meeting.start_time else ''}，"
                     f"{convener.name}召集）")
        return meeting

    def _bureau(self) -> Department:
        bureau = self.s.scalar(select(Department).where(Department.kind == "bureau").order_by(Department.id))
        if bureau is None:
            raise Unprocessable("系统中没有县行政审批局（部门类型 bureau），无法确定召集单位")
        return bureau

    def _default_chair(self, user: User, convener: Department) -> User:
        if "signer" in user.roles and permissions.belongs_to(user, convener.id):
            return user
        chair = self.s.scalar(select(User).where(User.department_id == convener.id, User.active.is_(True),
                                                 User.role_rows.any(role="signer")).order_by(User.id))
        if chair is None:
            raise Unprocessable(f"{convener.name}没有签发人，请指定会议主持人")
        return chair

    def _topics(self, topics: list[dict]) -> list[MeetingTopic]:
        rows: list[MeetingTopic] = []
        for i, t in enumerate(topics or []):
            text = " ".join(str((t or {}).get("title") or "").split())
            category = str((t or {}).get("category") or "")
            if not text:
                continue
            if len(text) > 300:
                raise Unprocessable(f"第{i + 1}个议题超过 300 字")
            if category not in TOPIC_CATEGORIES:
                raise Unprocessable(f"议题“{text}”的类别无效（第二十三条类别：{'、'.join(TOPIC_CATEGORIES)}）")
            rows.append(MeetingTopic(position=len(rows) + 1, title=text, category=category))
        if not rows:
            raise Unprocessable("请至少填写一个会议议题（第二十三条）")
        return rows

    def _participants(self, participants: list[dict], convener: Department, chair: User) -> list[MeetingParticipant]:
        rows: dict[tuple, MeetingParticipant] = {}
        for p in participants or []:
            p = p or {}
            capacity = p.get("capacity") or "member"
            if capacity not in CAPACITIES:
                raise Unprocessable(f"参会身份无效：{capacity}（可选：member 参会、observer 列席）")
            person = None
            if p.get("user"):
                person = self.s.scalar(select(User).where(User.username == str(p["user"]), User.active.is_(True)))
                if person is None:
                    raise Unprocessable(f"参会人员不存在：{p['user']}")
                dept = person.department
                if p.get("department") and str(p["department"]) not in {dept.code, dept.name}:
                    raise Unprocessable(f"{person.full_name}不属于{p['department']}")
            elif p.get("department"):
                try:
                    dept = find_department(self.s, str(p["department"]))
                except NotFound:
                    raise Unprocessable(f"参会单位不存在：{p['department']}") from None
            else:
                raise Unprocessable("每个参会者须指定单位（department）或人员（user）")
            key = (dept.id, person.id if person else None)
            rows.setdefault(key, MeetingParticipant(department=dept, user=person, capacity=capacity, attendance=""))
        if not any(k[0] != convener.id and not _section_of(self.s, k[0], convener.id) for k in rows):
            raise Unprocessable("请至少选择一个召集单位以外的参会单位")
        chair_key = (chair.department_id, chair.id)
        chair_row = rows.pop(chair_key, None) or MeetingParticipant(department=chair.department, user=chair,
                                                                    capacity="member", attendance="")
        return [chair_row, *rows.values()]  # the chair first: minutes list the convener first

    # -- reading ---------------------------------------------------------------------------------
    def can_view(self, user: User, meeting: Meeting) -> bool:
        return permissions.can_view_meeting(user, meeting.convener_id, meeting.department_ids,
                                            {p.user_id for p in meeting.participants if p.user_id})

    def get(self, user: User, meeting_id: int) -> Meeting:
        meeting = self.s.get(Meeting, meeting_id)
        if meeting is None or not self.can_view(user, meeting):
            raise NotFound("会议不存在或无权查看")
        return meeting

    def manageable(self, user: User, meeting_id: int) -> Meeting:
        meeting = self.get(user, meeting_id)
        if not permissions.can_manage_meeting(user, meeting.convener_id):
            raise Forbidden(f"只有召集单位（{meeting.convener.name}）的经办人员可以执行此操作")
        return meeting

    def visible(self, user: User, limit: int = 200) -> list[Meeting]:
        """Meetings the user may see, newest meeting date first."""
        return self.visible_page(user, limit)[0]

    def visible_page(self, user: User, size: int, after: Cursor | None = None) -> tuple[list[Meeting], Cursor | None]:
        """One keyset page of the meetings the user may see, newest meeting date first, and the cursor of
        the next page (None on the last): ``after`` is ``(meeting_date, id)`` of the previous page's last
        row read (index ix_meetings_date_id). A fixed number of queries per page. Participation is an
        EXISTS per meeting read (an index search by meeting_id): an ``id IN (subquery)`` made SQLite scan
        every participant row on each request."""
        dept_ids = [user.department_id] + ([user.department.parent_id] if user.department.parent_id else [])
        q = select(Meeting).where(or_(
            Meeting.convener_id.in_(dept_ids),
            select(MeetingParticipant.id).where(
                MeetingParticipant.meeting_id == Meeting.id,
                or_(MeetingParticipant.department_id == user.department_id, MeetingParticipant.user_id == user.id),
            ).exists(),
        ))
        if after is not None:
            q = q.where(tuple_(Meeting.meeting_date, Meeting.id) < tuple_(literal(after.at.date()), literal(after.id)))
        q = (q.order_by(Meeting.meeting_date.desc(), Meeting.id.desc()).limit(size + 1)
             .options(selectinload(Meeting.participants), joinedload(Meeting.convener), joinedload(Meeting.chair)))
        rows = list(self.s.scalars(q))
        more, rows = len(rows) > size, rows[:size]
        following = Cursor(datetime.combine(rows[-1].meeting_date, time()), rows[-1].id) if more else None
        return [m for m in rows if self.can_view(user, m)], following

    def notifications(self, user: User, meeting: Meeting | None = None, unread_only: bool = False):
        """The user's notifications, each event once: a person named in a meeting whose department also
        takes part has a personal and a department row for the same event; they see the personal one."""
        once: dict[tuple, MeetingNotification] = {}
        for n in self._notification_rows(user, meeting, unread_only):
            key = (n.meeting_id, n.kind, n.created_at, n.message)
            if key not in once or n.user_id is not None:
                once[key] = n
        return sorted(once.values(), key=lambda n: n.id, reverse=True)

    def _notification_rows(self, user: User, meeting: Meeting | None = None, unread_only: bool = False):
        q = select(MeetingNotification).where(or_(
            MeetingNotification.user_id == user.id,
            (MeetingNotification.user_id.is_(None)) & (MeetingNotification.department_id == user.department_id)))
        if meeting is not None:
            q = q.where(MeetingNotification.meeting_id == meeting.id)
        if unread_only:
            q = q.where(MeetingNotification.read_at.is_(None))
        return list(self.s.scalars(q.order_by(MeetingNotification.id.desc())))

    def all_notifications(self, meeting: Meeting):
        return list(self.s.scalars(select(MeetingNotification).where(MeetingNotification.meeting_id == meeting.id)
                                   .order_by(MeetingNotification.id)))

    def mark_read(self, user: User, meeting: Meeting) -> int:
        rows = self._notification_rows(user, meeting, unread_only=True)  # both rows of an event
        for n in rows:
            n.read_at, n.read_by = self.clock.now(), user.id
        return len(rows)

    # -- materials -------------------------------------------------------------------------------
    def add_material(self, user: User, meeting: Meeting, stream: BinaryIO, filename: str,
                     title: str | None = None) -> MeetingMaterial:
        """Store a file through the document core (owned by the convener's side) and attach it."""
        self._require_open(meeting)
        if not permissions.can_manage_meeting(user, meeting.convener_id):
            raise Forbidden(f"只有召集单位（{meeting.convener.name}）的经办人员可以上传会议材料")
        if self.documents is None:
            raise Unprocessable("未配置文档服务，无法上传会议材料")
        doc = self.documents.upload(user, stream, filename, title, kind="meeting_material")
        return self.attach(user, meeting, doc.id)

    def attach(self, user: User, meeting: Meeting, document_id: int) -> MeetingMaterial:
        self._require_open(meeting)
        if not permissions.can_manage_meeting(user, meeting.convener_id):
            raise Forbidden(f"只有召集单位（{meeting.convener.name}）的经办人员可以添加会议材料")
        from archive_service.models import Document

        doc = permissions.ensure_readable(user, self.s.get(Document, document_id))
        if any(m.document_id == doc.id for m in meeting.materials):
            raise Unprocessable("该文件已是本次会议的材料")
        if doc.department_id != meeting.convener_id:  # a section uploads for its bureau: the convener reads it
            self._grant(doc.id, meeting.convener_id)
        row = MeetingMaterial(document_id=doc.id, added_by=user.id, added_at=self.clock.now())
        meeting.materials.append(row)
        meeting.updated_at = self.clock.now()
        self.s.flush()
        self.audit.record(user, "meeting.material_added", "meeting", meeting.id,
                          {"document": doc.id, "title": doc.title})
        return row

    def send_materials(self, user: User, meeting: Meeting) -> MeetingDispatch:
        """Send topics and materials: grant every participant department, notify, record when (and if late)."""
        self._require_open(meeting)
        if not permissions.can_manage_meeting(user, meeting.convener_id):
            raise Forbidden(f"只有召集单位（{meeting.convener.name}）的经办人员可以送达会议材料")
        now, today = self.clock.now(), self.clock.today()
        late = today > meeting.materials_deadline
        unsent = [m for m in meeting.materials if m.sent_at is None]
        if meeting.dispatches and not unsent:
            raise InvalidTransition("没有新的会议材料需要送达")
        departments = meeting.department_ids | {meeting.convener_id}
        for material in meeting.materials:
            for dept_id in departments - {material.document.department_id}:
                self._grant(material.document_id, dept_id)
        for material in unsent:
            material.sent_at = now
        dispatch = MeetingDispatch(sent_by=user.id, sent_at=now, sent_on=today, late=late, material_count=len(unsent))
        meeting.dispatches.append(dispatch)
        if meeting.materials_sent_at is None:
            meeting.materials_sent_at, meeting.materials_late = now, late
        meeting.updated_at = now
        self.s.flush()
        names = "、".join(m.document.title for m in unsent) or "（仅议题）"
        self._notify(meeting, "materials",
                     f"会议材料已送达：{meeting.title}（{cn_date(meeting.meeting_date)}）——{names}"
                     + ("。送达晚于第二十四条期限" if late else ""))
        self.audit.record(user, "meeting.materials_sent", "meeting", meeting.id, {
            "dispatch": dispatch.id, "documents": [m.document_id for m in unsent], "late": late,
            "materials_deadline": meeting.materials_deadline.isoformat(), "sent_on": today.isoformat(),
            "departments": sorted(departments)})
        return dispatch

    def _grant(self, document_id: int, department_id: int) -> None:
        exists = self.s.scalar(select(DocumentGrant).where(
            DocumentGrant.document_id == document_id, DocumentGrant.department_id == department_id,
            DocumentGrant.reason == GRANT_REASON))
        if exists is None:
            self.s.add(DocumentGrant(document_id=document_id, department_id=department_id, reason=GRANT_REASON,
                                     granted_at=self.clock.now(), until=None))

    # -- attendance ------------------------------------------------------------------------------
    def record_attendance(self, user: User, meeting: Meeting, entries: Iterable[dict]) -> None:
        """entries: {"participant": id, "attendance": present|leave|absent, "name": who came (optional)}."""
        if not permissions.can_manage_meeting(user, meeting.convener_id):
            raise Forbidden(f"只有召集单位（{meeting.convener.name}）的经办人员可以登记出席情况")
        if meeting.status == "cancelled":
            raise InvalidTransition("会议已取消")
        if meeting.meeting_date > self.clock.today():
            raise InvalidTransition(f"会议尚未召开（{cn_date(meeting.meeting_date)}），不能登记出席情况")
        by_id = {p.id: p for p in meeting.participants}
        changes = []
        for e in entries:
            try:
                p = by_id[int(e["participant"])]
            except (KeyError, TypeError, ValueError):
                raise Unprocessable(f"参会者不属于本次会议：{e.get('participant')}") from None
            value = e.get("attendance") or ""
            if value not in ATTENDANCE:
                raise Unprocessable(f"出席情况无效：{value}（可选：present 出席、leave 请假、absent 缺席）")
            p.attendance = value
            if p.user_id is None:
                p.attendee_name = " ".join(str(e.get("name") or "").split())[:64]
            changes.append([p.id, value, p.person])
        if not any(p.attendance == "present" for p in meeting.participants):
            raise Unprocessable("请至少登记一位出席人员")
        meeting.status = "held"
        meeting.updated_at = self.clock.now()
        self.audit.record(user, "meeting.attendance", "meeting", meeting.id, {"entries": changes})

    def cancel(self, user: User, meeting: Meeting, reason: str) -> None:
        self._require_open(meeting)
        if not permissions.can_manage_meeting(user, meeting.convener_id):
            raise Forbidden("只有召集单位可以取消会议")
        if not (reason or "").strip():
            raise Unprocessable("取消会议须说明原因")
        meeting.status = "cancelled"
        meeting.updated_at = self.clock.now()
        self._notify(meeting, "cancelled", f"会议已取消：{meeting.title}（{reason.strip()[:100]}）")
        self.audit.record(user, "meeting.cancelled", "meeting", meeting.id, {"reason": reason.strip()})

    # -- helpers ---------------------------------------------------------------------------------
    def _require_open(self, meeting: Meeting) -> None:
        if meeting.status != "scheduled":
            raise InvalidTransition(f"会议状态为“{meeting.status_label}”，不能再修改议题或材料")

    def _notify(self, meeting: Meeting, kind: str, message: str) -> list[MeetingNotification]:
        """One notification per participant department (and per named person) outside the convener."""
        now, rows, seen = self.clock.now(), [], set()
        for p in meeting.participants:
            in_convener = (p.department_id == meeting.convener_id
                           or _section_of(self.s, p.department_id, meeting.convener_id))
            if in_convener and (p.user_id is None or p.user_id == meeting.created_by):
                continue
            key = (p.department_id, p.user_id)
            if key in seen:
                continue
            seen.add(key)
            row = MeetingNotification(meeting_id=meeting.id, department_id=p.department_id, user_id=p.user_id,
                                      kind=kind, message=message[:300], created_at=now)
            self.s.add(row)
            rows.append(row)
        self.s.flush()
        return rows

    def notify(self, meeting: Meeting, kind: str, message: str) -> list[MeetingNotification]:
        return self._notify(meeting, kind, message)


def _section_of(session: Session, department_id: int, parent_id: int) -> bool:
    dept = session.get(Department, department_id)
    return dept is not None and dept.parent_id == parent_id
