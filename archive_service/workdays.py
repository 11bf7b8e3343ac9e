"""The calendar override table: load it into a Calendar, and let administrators edit it."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import AuditLog
from .calendar import Calendar
from .clock import Clock
from .errors import NotFound, Unprocessable
from .models import CalendarOverride, User


def load_calendar(session: Session) -> Calendar:
    rows = session.execute(select(CalendarOverride)).scalars()
    return Calendar({r.day: r.is_workday for r in rows})


def set_override(session: Session, clock: Clock, actor: User | None, day: date, is_workday: bool,
                 note: str = "") -> CalendarOverride:
    if not isinstance(day, date) or not (2000 <= day.year <= 2100):
        raise Unprocessable("日期无效")
    row = session.get(CalendarOverride, day)
    before = None if row is None else row.is_workday
    if row is None:
        row = CalendarOverride(day=day, is_workday=is_workday, note=(note or "").strip()[:200])
        session.add(row)
    else:
        row.is_workday, row.note = is_workday, (note or "").strip()[:200]
    AuditLog(session, clock).record(actor, "admin.calendar_override", "calendar", day.isoformat(),
                                    {"before": before, "is_workday": is_workday, "note": row.note})
    return row


def delete_override(session: Session, clock: Clock, actor: User | None, day: date) -> None:
    row = session.get(CalendarOverride, day)
    if row is None:
        raise NotFound("该日期没有调整记录")
    session.delete(row)
    AuditLog(session, clock).record(actor, "admin.calendar_override_removed", "calendar", day.isoformat())


def list_overrides(session: Session) -> list[CalendarOverride]:
    """The administrators' overrides, by day."""
    return list(session.scalars(select(CalendarOverride).order_by(CalendarOverride.day)))
