"""Meeting minutes (纪要, 第二十五条): drafted from a meeting, signed off by its chair through the
core sign-off chain, issued within 3 working days of the sign-off.

The minutes text is a letter of kind "minutes" in the letters workflow (``correspondence.letters``);
the chain, numbering, rendering (纪要格式) and issue happen there. The deadline is read from the
chain: sign-off day + 3 working days (``issue_due``).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_service import permissions
from archive_service.audit import AuditLog
from archive_service.clock import CHINA, Clock, FixedClock
from archive_service.errors import Forbidden, InvalidTransition, Unprocessable
from archive_service.models import Department
from archive_service.signoff import STATES, Signoff, SignoffFlow
from archive_service.workdays import load_calendar

from .letters import SUBJECT as LETTER_SUBJECT
from .letters import LetterService
from .meeting_models import MINUTES_MASTHEADS, Meeting, MeetingMinutes
from .meetings import MeetingService, cn_date
from .render_pdf import render_pdf
from .spec import SpecError

ISSUE_DAYS = 3
ISSUE_RULE = "第二十五条：经审签后3个工作日内印发"
NUMERALS = "一二三四五六七八九十"
_LEADING_MARK = re.compile(r"^\s*(?:[一二三四五六七八九十百]+、|（[一二三四五六七八九十百]+）"
                           r"|\d+[.．、]|[(（]\d+[)）])\s*")


def chinese_number(n: int) -> str:
    if n <= 10:
        return NUMERALS[n - 1]
    if n < 20:
        return "十" + NUMERALS[n - 11]
    tens, ones = divmod(n, 10)
    return NUMERALS[tens - 1] + "十" + (NUMERALS[ones - 1] if ones else "")


def local_day(at: datetime) -> date:
    return at.replace(tzinfo=UTC).astimezone(CHINA).date()


@dataclass
class MinutesStatus:
    state: str
    signed_at: datetime | None
    signed_by: str
    due: date | None
    issued_at: datetime | None
    today: date
    by_chair: bool = True  # the sign-off was given by the meeting's chair (第二十五条 审签)

    @property
    def state_label(self) -> str:
        return STATES.get(self.state, self.state)

    @property
    def overdue(self) -> bool:
        """Signed, not issued, and the 3 working days after the sign-off have passed."""
        return self.due is not None and self.issued_at is None and self.today > self.due

    @property
    def issued_late(self) -> bool:
        return self.due is not None and self.issued_at is not None and local_day(self.issued_at) > self.due

    @property
    def label(self) -> str:
        if self.issued_at:
            return "已印发" + ("（逾期印发）" if self.issued_late else "")
        if self.due:
            return f"待印发，期限 {cn_date(self.due)}" + ("（已逾期）" if self.overdue else "")
        return self.state_label


class MinutesService:
    def __init__(self, session: Session, clock: Clock, letters: LetterService | None = None):
        self.s = session
        self.clock = clock
        self.letters = letters  # drafting needs it; reading the status does not
        self.signoff = Signoff(session, clock)
        self.audit = AuditLog(session, clock)

    # -- drafting --------------------------------------------------------------------------------
    def spec_for(self, meeting: Meeting, decisions: list[str], title: str | None = None,
                 on: date | None = None) -> dict:
        """The render spec (纪要格式) of the minutes: numbered decisions and the attendance block."""
        items = [_LEADING_MARK.sub("", " ".join(str(d).split())) for d in decisions or []]
        items = [d for d in items if d]
        if not items:
            raise Unprocessable("请至少填写一项会议议定事项")
        if any(len(d) > 2000 for d in items):
            raise Unprocessable("每项议定事项不超过 2000 字")
        topics = "、".join(t.title.rstrip("。；;，,、") for t in meeting.topics)
        place = f"在{meeting.location}" if meeting.location else ""
        intro = (f"{cn_date(meeting.meeting_date)}，{meeting.chair.full_name}{place}主持召开{meeting.kind_label}，"
                 f"研究{topics}等议题。现将会议议定事项纪要如下：")
        body = [intro] + [f"{chinese_number(i)}、{d}" for i, d in enumerate(items, 1)]
        return {"kind": "minutes", "issuer": meeting.convener.official_name, "title": (title or "").strip()[:200],
                "to": [], "cc": [], "body": body, "attachments": [], "note": "",
                "date": (on or self.clock.today()).isoformat(), "masthead": MINUTES_MASTHEADS[meeting.kind],
                "attendance": attendance_block(meeting)}

    def draft(self, user, meeting: Meeting, decisions: list[str], title: str | None = None) -> MeetingMinutes:
        if not permissions.can_manage_meeting(user, meeting.convener_id):
            raise Forbidden(f"只有召集单位（{meeting.convener.name}）的经办人员可以起草会议纪要")
        if meeting.status != "held":
            raise InvalidTransition("请先在会议详情中登记出席情况（会议召开后），再起草纪要")
        if self.for_meeting(meeting) is not None:
            raise InvalidTransition("本次会议已有纪要，请在纪要中修改")
        if self.letters is None:
            raise RuntimeError("minutes are drafted by a MinutesService built with a LetterService")
        spec = self.spec_for(meeting, decisions, title)
        now = self.clock.now()
        minutes = MeetingMinutes(meeting_id=meeting.id, title=spec["title"] or meeting.title,
                                 decisions=json.dumps(decisions_of(spec), ensure_ascii=False),
                                 attendance=json.dumps(spec["attendance"], ensure_ascii=False),
                                 created_by=user.id, created_at=now, updated_at=now)
        self.s.add(minutes)
        self.s.flush()
        letter = self.letters.create_draft(
            user, kind="minutes", title=spec["title"] or meeting.title,
            distribution=[d.id for d in self._recipients(meeting)], body=spec["body"],
            attendance=spec["attendance"], meeting=meeting, masthead=spec["masthead"])
        minutes.letter_id = letter.id
        self.audit.record(user, "meeting.minutes_drafted", "meeting", meeting.id, {
            "minutes": minutes.id, "letter": minutes.letter_id, "decisions": len(decisions_of(spec))})
        return minutes

    def _recipients(self, meeting: Meeting) -> list[Department]:
        """Every participating department except the issuing organisation itself."""
        issuer = permissions.issuing_organisation(meeting.convener)
        seen, out = set(), []
        for p in meeting.participants:
            org = permissions.issuing_organisation(p.department)
            if org.id != issuer.id and p.department_id not in seen:
                seen.add(p.department_id)
                out.append(p.department)
        return out

    # -- reading ---------------------------------------------------------------------------------
    def for_meeting(self, meeting: Meeting) -> MeetingMinutes | None:
        return self.s.scalar(select(MeetingMinutes).where(MeetingMinutes.meeting_id == meeting.id))

    def flow(self, minutes: MeetingMinutes) -> SignoffFlow | None:
        """The sign-off flow of the minutes letter."""
        if minutes.letter_id is None:
            return None
        return self.signoff.flow_for(LETTER_SUBJECT, minutes.letter_id)

    def status(self, minutes: MeetingMinutes) -> MinutesStatus:
        """Read the chain: who signed and when, the issue deadline (sign-off + 3 working days), issue."""
        flow = self.flow(minutes)
        today = self.clock.today()
        if flow is None:
            return MinutesStatus("drafting", None, "", None, minutes.issued_at, today)
        signs = [s for s in flow.valid_signatures() if s.action == "sign"]
        signed = signs[-1] if signs else None
        issued = next((s for s in reversed(flow.steps) if s.action == "issue"), None)
        due = load_calendar(self.s).add_workdays(local_day(signed.at), ISSUE_DAYS) if signed else None
        by_chair = signed is None or signed.actor_id == minutes.meeting.chair_id
        return MinutesStatus(flow.state, signed.at if signed else None, signed.actor_name if signed else "", due,
                             issued.at if issued else None, today, by_chair)

    def refresh(self, minutes: MeetingMinutes) -> MinutesStatus:
        """Store the deadline read from the chain on the minutes row; notify participants once issued."""
        st = self.status(minutes)
        minutes.signed_at, minutes.issue_due = st.signed_at, st.due
        if st.issued_at and minutes.issued_at is None:
            minutes.issued_at = st.issued_at
            meeting = minutes.meeting
            MeetingService(self.s, self.clock).notify(
                meeting, "minutes", f"会议纪要已印发：{minutes.title}（{meeting.kind_label}）")
        return st

    def pending_for(self, user) -> list[tuple[MeetingMinutes, MinutesStatus]]:
        """Minutes of the user's convening organisation that are signed and still to be issued."""
        rows = self.s.scalars(select(MeetingMinutes).where(MeetingMinutes.issued_at.is_(None))
                              .order_by(MeetingMinutes.id)).all()
        out = []
        for m in rows:
            if not permissions.can_manage_meeting(user, m.meeting.convener_id):
                continue
            st = self.status(m)
            if st.due is not None and st.issued_at is None:
                out.append((m, st))
        return out

def decisions_of(spec: dict) -> list[str]:
    return [p.split("、", 1)[1] for p in spec["body"][1:]]


def attendance_block(meeting: Meeting) -> dict[str, list[str]]:
    """出席 / 请假 / 列席 from the attendance recorded on the meeting: one entry per unit with its people."""
    groups: dict[str, dict[str, list[str]]] = {"出席": {}, "请假": {}, "列席": {}}
    for p in meeting.participants:
        if p.attendance == "present":
            label = "列席" if p.capacity == "observer" else "出席"
        elif p.attendance == "leave":
            label = "请假"
        else:
            continue
        people = groups[label].setdefault(p.department.name, [])
        if p.person and p.person not in people:
            people.append(p.person)
    return {label: [f"{dept} {'、'.join(people)}".strip() for dept, people in units.items()]
            for label, units in groups.items()}


def render_preview(spec: dict) -> bytes:
    """The minutes in 纪要格式 as PDF (nothing stored)."""
    try:
        return render_pdf(spec)
    except SpecError as exc:
        raise Unprocessable(f"纪要内容无法排版：{exc.field}：{exc.message}") from None


def mark_minutes_issued(session: Session, letter) -> None:
    """Called by 印发 (in the issuing transaction): an issued minutes letter marks its meeting's
    minutes issued and notifies every participant."""
    if letter.kind != "minutes":
        return
    row = session.scalar(select(MeetingMinutes).where(MeetingMinutes.letter_id == letter.id))
    if row is not None:
        MinutesService(session, FixedClock(letter.issued_at or datetime.utcnow())).refresh(row)
