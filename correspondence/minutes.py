"""Meeting minutes (纪要, 第二十五条): drafted from a meeting, signed off by its chair through the
core sign-off chain, issued within 3 working days of the sign-off.

The minutes text is a letter of kind "minutes" in the letters workflow when that workflow is
installed (``correspondence.letters``); the chain, numbering, rendering (纪要格式) and issue then
happen there. Without it, the minutes' render spec is kept as a JSON version of a core document and
the same core chain (``archive_service.signoff``) runs on subject "meeting_minutes".
Either way the deadline is read from the chain: sign-off day + 3 working days (``issue_due``).
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_service import permissions
from archive_service.audit import AuditLog
from archive_service.clock import CHINA, Clock
from archive_service.documents import DocumentService
from archive_service.errors import Forbidden, InvalidTransition, NotFound, Unprocessable
from archive_service.models import Department
from archive_service.signoff import Signoff, SignoffFlow, STATES
from archive_service.workdays import load_calendar

from .meeting_models import MINUTES_MASTHEADS, Meeting, MeetingMinutes
from .meetings import MeetingService, cn_date

ISSUE_DAYS = 3
ISSUE_RULE = "第二十五条：经审签后3个工作日内印发"
FALLBACK_SUBJECT = "meeting_minutes"
NUMERALS = "一二三四五六七八九十"
_LEADING_MARK = re.compile(r"^\s*(?:[一二三四五六七八九十百]+、|（[一二三四五六七八九十百]+）|\d+[.．、]|[(（]\d+[)）])\s*")


def chinese_number(n: int) -> str:
    if n <= 10:
        return NUMERALS[n - 1]
    if n < 20:
        return "十" + NUMERALS[n - 11]
    tens, ones = divmod(n, 10)
    return NUMERALS[tens - 1] + "十" + (NUMERALS[ones - 1] if ones else "")


def local_day(at: datetime) -> date:
    return at.replace(tzinfo=timezone.utc).astimezone(CHINA).date()


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


class LettersMinutes:
    """Adapter onto the letters workflow: the minutes become a letter of kind "minutes"."""

    def __init__(self, service):
        self.service = service

    def create_minutes(self, user, meeting: Meeting, spec: dict, recipients: list[Department]) -> tuple[int, str]:
        letter = self.service.create_draft(
            user, kind="minutes", title=spec["title"] or meeting.title, distribution=[d.id for d in recipients],
            body=spec["body"], attendance=spec["attendance"], meeting=meeting,
            masthead=spec["masthead"])  # commits
        return letter.id, f"letter:{letter.id}"


def letters_backend(session: Session, clock: Clock, documents: DocumentService | None):
    """The letters workflow's minutes adapter, or None when correspondence.letters is not installed."""
    try:
        from .letters import LetterService
    except ImportError:
        return None
    if documents is None:
        return None
    return LettersMinutes(LetterService(session, documents, clock))


class MinutesService:
    def __init__(self, session: Session, clock: Clock, documents: DocumentService | None = None, letters=None):
        self.s = session
        self.clock = clock
        self.documents = documents
        self.letters = letters  # adapter from letters_backend(); None → core-chain fallback
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
        topics = "；".join(t.title for t in meeting.topics)
        place = f"在{meeting.location}" if meeting.location else ""
        intro = (f"{cn_date(meeting.meeting_date)}，{meeting.chair.full_name}{place}主持召开{meeting.kind_label}，"
                 f"研究{topics}等议题。现将会议议定事项纪要如下：")
        body = [intro] + [f"{chinese_number(i)}、{d}" for i, d in enumerate(items, 1)]
        return {"kind": "minutes", "issuer": meeting.convener.name, "title": (title or "").strip()[:200],
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
        spec = self.spec_for(meeting, decisions, title)
        now = self.clock.now()
        minutes = MeetingMinutes(meeting_id=meeting.id, title=spec["title"] or meeting.title,
                                 decisions=json.dumps(decisions_of(spec), ensure_ascii=False),
                                 attendance=json.dumps(spec["attendance"], ensure_ascii=False),
                                 created_by=user.id, created_at=now, updated_at=now)
        self.s.add(minutes)
        self.s.flush()
        if self.letters is not None:
            letter_id, subject = self.letters.create_minutes(user, meeting, spec, self._recipients(meeting))
            minutes.letter_id, minutes.flow_subject = letter_id, subject
        else:
            minutes.flow_subject = self._start_fallback(user, meeting, minutes, spec)
        self.audit.record(user, "meeting.minutes_drafted", "meeting", meeting.id, {
            "minutes": minutes.id, "letter": minutes.letter_id, "subject": minutes.flow_subject,
            "decisions": len(decisions_of(spec))})
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

    def _start_fallback(self, user, meeting: Meeting, minutes: MeetingMinutes, spec: dict) -> str:
        if self.documents is None:
            raise Unprocessable("未配置文档服务，无法保存纪要")
        minutes_id = minutes.id
        data = json.dumps(spec, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
        self.s.flush()
        doc = self.documents.upload(user, io.BytesIO(data), f"会议纪要-{meeting.id}.json",
                                    minutes.title + "（纪要稿）", kind="minutes_draft")  # commits
        minutes = self.s.get(MeetingMinutes, minutes_id)
        minutes.letter_id = None
        flow = self.signoff.start(FALLBACK_SUBJECT, minutes.id, permissions.issuing_organisation(meeting.convener),
                                  doc.versions[-1].blob_sha256)
        if doc.department_id != meeting.convener_id:
            MeetingService(self.s, self.clock)._grant(doc.id, meeting.convener_id)
        return f"{FALLBACK_SUBJECT}:{minutes.id}:{doc.id}:{flow.id}"

    # -- reading ---------------------------------------------------------------------------------
    def for_meeting(self, meeting: Meeting) -> MeetingMinutes | None:
        return self.s.scalar(select(MeetingMinutes).where(MeetingMinutes.meeting_id == meeting.id))

    def flow(self, minutes: MeetingMinutes) -> SignoffFlow | None:
        parts = (minutes.flow_subject or "").split(":")
        if len(parts) < 2:
            return None
        return self.signoff.flow_for(parts[0], int(parts[1]))

    def draft_document_id(self, minutes: MeetingMinutes) -> int | None:
        parts = (minutes.flow_subject or "").split(":")
        return int(parts[2]) if parts[0] == FALLBACK_SUBJECT and len(parts) > 2 else None

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
            if minutes.letter_id is None:
                self._grant_fallback(minutes, meeting)
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

    # -- the core chain (fallback when the letters workflow is absent) ---------------------------
    def act(self, user, minutes: MeetingMinutes, action: str, opinion: str = "", seen_sha256: str | None = None):
        if minutes.letter_id is not None:
            raise InvalidTransition("纪要由公文流程办理，请在公文页面审签")
        flow = self.flow(minutes)
        if flow is None:
            raise NotFound("纪要审签流程不存在")
        meeting = minutes.meeting
        if action == "sign" and user.id != meeting.chair_id:
            raise Forbidden(f"纪要须由会议主持人（{meeting.chair.full_name}）审签")
        step = self.signoff.act(flow, user, action, seen_sha256 or flow.version_sha256, opinion)
        minutes.updated_at = self.clock.now()
        self.refresh(minutes)
        return step

    def _grant_fallback(self, minutes: MeetingMinutes, meeting: Meeting) -> None:
        doc_id = self.draft_document_id(minutes)
        if doc_id is None:
            return
        svc = MeetingService(self.s, self.clock)
        for dept in self._recipients(meeting):
            svc._grant(doc_id, dept.id)


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
    """The minutes in 纪要格式 as PDF (nothing stored); a clear error while the renderer is missing."""
    try:
        from .render_pdf import render_pdf
        from .spec import SpecError
    except ImportError:
        raise Unprocessable("公文排版模块尚未安装，暂不能预览纪要") from None
    try:
        return render_pdf(spec)
    except SpecError as exc:
        raise Unprocessable(f"纪要内容无法排版：{exc.field}：{exc.message}") from None


def on_letter_issued(session: Session, letter) -> None:
    """Issue hook of the letters workflow: an issued minutes letter marks its meeting's minutes issued
    and notifies every participant (in the issuing transaction)."""
    if getattr(letter, "kind", None) != "minutes":
        return
    row = session.scalar(select(MeetingMinutes).where(MeetingMinutes.letter_id == letter.id))
    if row is not None:
        from archive_service.clock import FixedClock

        MinutesService(session, FixedClock(letter.issued_at or datetime.utcnow())).refresh(row)


try:  # register with the letters workflow when it is installed
    from .issuing import ISSUE_HOOKS

    if on_letter_issued not in ISSUE_HOOKS:
        ISSUE_HOOKS.append(on_letter_issued)
except ImportError:  # pragma: no cover - the letters workflow is optional for meetings
    pass


def minutes_service(session: Session, clock: Clock, documents: DocumentService | None,
                    use_letters: bool = True) -> MinutesService:
    """The minutes service over the letters workflow when installed (else the core-chain fallback)."""
    letters = letters_backend(session, clock, documents) if use_letters else None
    return MinutesService(session, clock, documents, letters)
