"""The calendar override table: load it into a Calendar, and let administrators edit it."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import AuditLog
from .calendar import Calendar, parse_notice
from .clock import Clock
from .errors import NotFound, Unprocessable
from .models import CalendarNotice, CalendarOverride, User


def load_calendar(session: Session) -> Calendar:
    rows = session.execute(select(CalendarOverride)).scalars()
    years = session.scalars(select(CalendarNotice.year))
    return Calendar({r.day: r.is_workday for r in rows}, years)


def list_notices(session: Session) -> list[CalendarNotice]:
    return list(session.scalars(select(CalendarNotice).order_by(CalendarNotice.year)))


def confirm_year(session: Session, clock: Clock, actor: User | None, year: int, title: str = "") -> CalendarNotice:
    """Mark ``year``'s State Council notice as entered: the estimated holidays stop applying to it."""
    if not (2000 <= year <= 2100):
        raise Unprocessable("年份无效")
    row = session.get(CalendarNotice, year)
    if row is None:
        row = CalendarNotice(year=year)
        session.add(row)
    row.title = (title or "").strip()[:200] or f"国务院办公厅关于{year}年部分节假日安排的通知"
    row.entered_at = clock.now()
    row.entered_by = actor.username if actor is not None else ""
    AuditLog(session, clock).record(actor, "admin.calendar_notice", "calendar", str(year), {"title": row.title})
    return row


def withdraw_notice(session: Session, clock: Clock, actor: User | None, year: int) -> None:
    row = session.get(CalendarNotice, year)
    if row is None:
        raise NotFound(f"{year} 年没有录入国务院通知")
    session.delete(row)
    AuditLog(session, clock).record(actor, "admin.calendar_notice_removed", "calendar", str(year))


def import_notice(session: Session, clock: Clock, actor: User | None, year: int, text: str,
                  title: str = "") -> int:
    """Enter a State Council notice from CSV or ICS text: its days of ``year`` become overrides (the notice
    wins over estimates and over earlier entries for those days) and the year is confirmed. Returns the
    number of days entered; refuses a file without any day of ``year``."""
    try:
        days = parse_notice(text)
    except ValueError as e:
        raise Unprocessable(f"通知文件无法读取：{e}") from None
    days = {d: v for d, v in days.items() if d.year == year}
    if not days:
        raise Unprocessable(f"文件中没有 {year} 年的日期（CSV：日期,休|班,说明；或 ICS 日历文件）")
    if not any(not work for work, _ in days.values()):
        raise Unprocessable("文件中没有放假的日期，请检查“休”“班”标注")
    label = (title or "").strip()[:200] or f"国务院办公厅关于{year}年部分节假日安排的通知"
    for day, (work, note) in sorted(days.items()):
        set_override(session, clock, actor, day, work, note or label)
    confirm_year(session, clock, actor, year, label)
    return len(days)


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


class CalendarAdmin:
    """The administrators' calendar page over a unit of work's session: the overrides, the entered State
    Council notices and their edits (each audited by the functions above)."""

    def __init__(self, session: Session, clock: Clock):
        self.session = session
        self.clock = clock

    def calendar(self) -> Calendar:
        return load_calendar(self.session)

    def overrides(self) -> list[CalendarOverride]:
        return list_overrides(self.session)

    def notices(self) -> list[CalendarNotice]:
        return list_notices(self.session)

    def set_override(self, actor: User | None, day: date, is_workday: bool, note: str = "") -> CalendarOverride:
        return set_override(self.session, self.clock, actor, day, is_workday, note)

    def delete_override(self, actor: User | None, day: date) -> None:
        delete_override(self.session, self.clock, actor, day)

    def confirm_year(self, actor: User | None, year: int, title: str = "") -> CalendarNotice:
        return confirm_year(self.session, self.clock, actor, year, title)

    def withdraw_notice(self, actor: User | None, year: int) -> None:
        withdraw_notice(self.session, self.clock, actor, year)

    def import_notice(self, actor: User | None, year: int, text: str, title: str = "") -> int:
        return import_notice(self.session, self.clock, actor, year, text, title)
