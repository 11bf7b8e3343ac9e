"""督办: which items are overdue (the dashboard's counts say how many) — incoming letters past their
handling deadline, revocation requests pushed after their 2 working days (第二十八条), signed minutes not
issued within 3 working days (第二十五条), pushes still unclaimed after their due day (until the worker's
next pass). Oldest deadline first, at most ``limit`` of each kind, within the dashboard's year."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_service.models import Department
from archive_service.workdays import load_calendar
from correspondence.inbox import DONE
from correspondence.meeting_models import Meeting, MeetingMinutes
from correspondence.models import Letter, LetterRecipient

from .models import ApprovalRecord, Matter, Push, Revocation


@dataclass
class OverdueItem:
    kind: str  # 来函办理 | 撤销建议推送 | 会议纪要印发 | 审批推送认领
    department: str  # whose work it is (the receiving department, the regulator, the convener)
    title: str
    due_on: date
    days: int  # working days past the deadline (for a late revocation push: how late it was pushed)


def overdue_items(session: Session, today: date, year: int, limit: int = 50) -> list[OverdueItem]:
    first, year_end = date(year, 1, 1), date(year + 1, 1, 1)
    after = min(year_end, today)
    cal = load_calendar(session)
    names: dict[int, str] = {i: n for i, n in session.execute(select(Department.id, Department.name))}
    out: list[OverdueItem] = []
    for dept, due, title, number in session.execute(
            select(LetterRecipient.department_id, LetterRecipient.due_on, Letter.title, Letter.number)
            .join(Letter, LetterRecipient.letter_id == Letter.id)
            .where(LetterRecipient.due_on >= first, LetterRecipient.due_on < after,
                   LetterRecipient.state.not_in(DONE)).order_by(LetterRecipient.due_on).limit(limit)):
        if due is None:  # (the WHERE excludes it)
            continue
        out.append(OverdueItem("来函办理", names.get(dept, ""), f"{title}（{number}）" if number else title, due,
                               cal.workdays_between(due, today)))
    for dept, due, licensee, matter, late_days in session.execute(
            select(Revocation.regulator_id, Revocation.due_on, Revocation.licensee, Matter.name, Revocation.late_days)
            .join(Matter, Revocation.matter_id == Matter.id)
            .where(Revocation.late.is_(True), Revocation.pushed_on >= first, Revocation.pushed_on < year_end)
            .order_by(Revocation.pushed_on.desc()).limit(limit)):
        out.append(OverdueItem("撤销建议推送", names.get(dept, ""), f"{matter}（{licensee}）", due, late_days))
    for dept, due, title in session.execute(
            select(Meeting.convener_id, MeetingMinutes.issue_due, MeetingMinutes.title)
            .join(Meeting, MeetingMinutes.meeting_id == Meeting.id)
            .where(MeetingMinutes.issued_at.is_(None), MeetingMinutes.issue_due >= first,
                   MeetingMinutes.issue_due < after).order_by(MeetingMinutes.issue_due).limit(limit)):
        if due is not None:
            out.append(OverdueItem("会议纪要印发", names.get(dept, ""), title, due, cal.workdays_between(due, today)))
    for dept, due, matter, applicant in session.execute(
            select(Push.regulator_id, Push.due_on, Matter.name, ApprovalRecord.applicant)
            .join(ApprovalRecord, Push.record_id == ApprovalRecord.id)
            .join(Matter, ApprovalRecord.matter_id == Matter.id)
            .where(Push.state == "unclaimed", Push.due_on < today, Push.pushed_on >= first,
                   Push.pushed_on < year_end).order_by(Push.due_on).limit(limit)):
        out.append(OverdueItem("审批推送认领", names.get(dept, ""), f"{matter}（{applicant}）", due,
                               cal.workdays_between(due, today)))
    return out
