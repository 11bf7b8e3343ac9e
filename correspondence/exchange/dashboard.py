"""督办: per department and month, the figures behind the leaders' charts — pushes claimed on time by
hand, claimed late by hand, claimed by the system, still unclaimed (and overdue); revocation requests
pushed, pushed late, handled and open; information requests answered and overdue; letters with a
handling deadline replied on time or late (复函); meeting minutes issued on time or late (第二十五条).
Pushes, revocations and information requests are read from the counters (``counts``) the services keep;
the overdue figures, letters and minutes are counted from their open or dated rows, which are few.
Drawn as server-side SVG bars (``bar_chart``)."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from html import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_service import permissions
from archive_service.clock import CHINA, Clock
from archive_service.errors import Forbidden
from archive_service.models import Department, User
from correspondence.inbox import DONE
from correspondence.meeting_models import Meeting, MeetingMinutes
from correspondence.models import LetterRecipient

from . import counts
from .models import InfoRequest, Push

PUSH_COLUMNS = {"total": "推送数", "on_time": "按期认领", "late": "逾期人工认领", "auto": "系统自动认领",
                "unclaimed": "待认领", "overdue": "逾期未认领"}
REVOCATION_COLUMNS = {"total": "撤销建议数", "late": "逾期推送", "handled": "已办结", "open": "办理中"}
INFO_COLUMNS = {"total": "信息请求数", "answered": "已答复", "overdue": "逾期未答复"}
LETTER_COLUMNS = {"total": "限期办理来函", "on_time": "按期复函", "late": "逾期复函", "closed": "办结未复函",
                  "open": "办理中", "overdue": "逾期未办结"}
MINUTES_COLUMNS = {"total": "应印发纪要", "on_time": "按期印发", "late": "逾期印发", "pending": "待印发",
                   "overdue": "逾期未印发"}
#: on-time rate per measure: (numerator keys, denominator keys)
RATES = {"pushes": (("on_time",), ("on_time", "late", "auto"), "按期认领率"),
         "revocations": (("total",), ("total",), "按期推送率"),  # minus the late ones, see ``rate``
         "info": (("answered",), ("total",), "答复率"),
         "letters": (("on_time",), ("on_time", "late"), "按期复函率"),
         "minutes": (("on_time",), ("on_time", "late"), "按期印发率")}


def rate(kind: str, c: dict[str, int]) -> str:
    """The on-time rate as a percentage (— when nothing is due yet)."""
    num_keys, den_keys, _ = RATES[kind]
    den = sum(c.get(k, 0) for k in den_keys)
    num = sum(c.get(k, 0) for k in num_keys) - (c.get("late", 0) if kind == "revocations" else 0)
    return f"{100 * num / den:.1f}%" if den else "—"


@dataclass
class Row:
    department: str
    month: str  # YYYY-MM
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Dashboard:
    year: int
    pushes: list[Row]
    revocations: list[Row]
    info: list[Row]
    letters: list[Row] = field(default_factory=list)
    minutes: list[Row] = field(default_factory=list)

    def totals(self, rows: list[Row], columns: dict[str, str]) -> dict[str, int]:
        return {k: sum(r.counts.get(k, 0) for r in rows) for k in columns}

    def by_department(self, rows: list[Row], columns: dict[str, str]) -> list[Row]:
        out: dict[str, Row] = {}
        for r in rows:
            agg = out.setdefault(r.department, Row(r.department, "", {k: 0 for k in columns}))
            for k, v in r.counts.items():
                agg.counts[k] += v
        return list(out.values())


def require_leader(user: User) -> None:
    """督办 is for leaders: a signer (单位负责人) of any department, or the administrator."""
    if not permissions.has_role(user, "signer", "admin"):
        raise Forbidden("督办页面仅供各单位负责人（签发人）查看")


def _rows(names: dict[int, str], figures: dict, columns: dict[str, str]) -> list[Row]:
    return [Row(names.get(dept_id, str(dept_id)), month, {k: c.get(k, 0) for k in columns})
            for (dept_id, month), c in sorted(figures.items())]


def _add(figures: dict, dept: int, month: str, key: str, n: int = 1) -> None:
    c = figures.setdefault((dept, month), {})
    c[key] = c.get(key, 0) + n


def _day_end_utc(day: date) -> datetime:
    """The first instant after ``day`` in China, as the naive UTC the database keeps."""
    return datetime.combine(day + timedelta(days=1), time(), CHINA).astimezone(UTC).replace(tzinfo=None)


def dashboard(session: Session, user: User, today: date, year: int | None = None) -> Dashboard:
    require_leader(user)
    year = year or today.year
    first, after = date(year, 1, 1), date(year + 1, 1, 1)
    by_kind: dict[str, dict] = {"push": {}, "revocation": {}, "info": {}}
    for (kind, month, dept, measure), n in counts.read(session, year).items():
        if kind in by_kind:
            _add(by_kind[kind], dept, month, measure, n)
    # overdue: unclaimed pushes past their due day (the worker claims them on its next pass)
    for pushed_on, dept in session.execute(select(Push.pushed_on, Push.regulator_id).where(
            Push.state == "unclaimed", Push.due_on < today, Push.pushed_on >= first, Push.pushed_on < after)):
        _add(by_kind["push"], dept, counts.month_of(pushed_on), "overdue")
    for info_due, dept in session.execute(
            select(InfoRequest.due_on, Push.regulator_id).join(Push, InfoRequest.push_id == Push.id).where(
                InfoRequest.answered_at.is_(None), InfoRequest.due_on < today, InfoRequest.due_on >= first)):
        if info_due < after:
            _add(by_kind["info"], dept, counts.month_of(info_due), "overdue")
    letters: dict = {}
    for dept, due_on, state, replied_at in session.execute(
            select(LetterRecipient.department_id, LetterRecipient.due_on, LetterRecipient.state,
                   LetterRecipient.replied_at).where(LetterRecipient.due_on >= first, LetterRecipient.due_on < after)):
        if due_on is None:  # (the WHERE excludes it)
            continue
        month = counts.month_of(due_on)
        _add(letters, dept, month, "total")
        if state == "replied" and replied_at is not None:
            _add(letters, dept, month, "on_time" if replied_at < _day_end_utc(due_on) else "late")
        elif state in DONE:
            _add(letters, dept, month, "closed")
        else:
            _add(letters, dept, month, "open")
            if today > due_on:
                _add(letters, dept, month, "overdue")
    minutes: dict = {}
    for dept, due, issued_at in session.execute(
            select(Meeting.convener_id, MeetingMinutes.issue_due, MeetingMinutes.issued_at)
            .join(Meeting, MeetingMinutes.meeting_id == Meeting.id)
            .where(MeetingMinutes.issue_due >= first, MeetingMinutes.issue_due < after)):
        if due is None:  # (the WHERE excludes it)
            continue
        month = counts.month_of(due)
        _add(minutes, dept, month, "total")
        if issued_at is not None:
            _add(minutes, dept, month, "on_time" if issued_at < _day_end_utc(due) else "late")
        else:
            _add(minutes, dept, month, "pending")
            if today > due:
                _add(minutes, dept, month, "overdue")
    names: dict[int, str] = {i: n for i, n in session.execute(select(Department.id, Department.name))}
    return Dashboard(year, _rows(names, by_kind["push"], PUSH_COLUMNS),
                     _rows(names, by_kind["revocation"], REVOCATION_COLUMNS),
                     _rows(names, by_kind["info"], INFO_COLUMNS), _rows(names, letters, LETTER_COLUMNS),
                     _rows(names, minutes, MINUTES_COLUMNS))


SECTIONS = (("审批推送", "pushes", PUSH_COLUMNS), ("撤销建议", "revocations", REVOCATION_COLUMNS),
            ("审批信息请求", "info", INFO_COLUMNS), ("来函办理与复函", "letters", LETTER_COLUMNS),
            ("会议纪要印发", "minutes", MINUTES_COLUMNS))


class DashboardService:
    """The 督办 dashboard over a unit of work's session (the web looks it up in its service registry)."""

    def __init__(self, session: Session, clock: Clock):
        self.session = session
        self.clock = clock

    def board(self, user: User, year: int | None = None) -> Dashboard:
        """The year's counts (this year by default) for a leader or administrator; Forbidden otherwise."""
        return dashboard(self.session, user, self.clock.today(), year)

    def overdue(self, user: User, year: int, limit: int = 50) -> list:
        """Which items are overdue in the year (``overdue.overdue_items``), for a leader or administrator."""
        from .overdue import overdue_items

        require_leader(user)
        return overdue_items(self.session, self.clock.today(), year, limit)


def csv_rows(board: Dashboard) -> Iterator[str]:
    """The dashboard as CSV (with a BOM for spreadsheet programs), one line at a time."""
    from archive_service.audit import csv_cell

    buf = io.StringIO()
    writer = csv.writer(buf)
    yield "\ufeff"
    for title, attr, columns in SECTIONS:
        writer.writerow(["类别", "部门", "月份", *columns.values()])
        for r in getattr(board, attr):
            writer.writerow([title, csv_cell(r.department), r.month, *[r.counts.get(k, 0) for k in columns]])
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
        writer.writerow([])
    yield buf.getvalue()


PALETTE = ("#2e7d32", "#f9a825", "#1565c0", "#9e9e9e", "#c62828", "#6a1b9a")


def bar_chart(title: str, rows: Iterable[Row], columns: dict[str, str], keys: Iterable[str]) -> str:
    """A horizontal stacked bar per department as inline SVG (no script, no external library), with a
    <title> and <desc> for screen readers; the same figures are in the table next to it."""
    keys = list(keys)
    rows = list(rows)
    width, label_w, bar_h, gap = 640, 170, 22, 10
    height = 40 + len(rows) * (bar_h + gap) + 30
    biggest = max([sum(r.counts.get(k, 0) for k in keys) for r in rows] + [1])
    scale = (width - label_w - 60) / biggest
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
             f'aria-labelledby="t-{id(rows)} d-{id(rows)}" class="chart">',
             f'<title id="t-{id(rows)}">{escape(title)}</title>',
             f'<desc id="d-{id(rows)}">' + escape("；".join(
                 f"{r.department}：" + "，".join(f"{columns[k]}{r.counts.get(k, 0)}" for k in keys) for r in rows)
                 or "暂无数据") + "</desc>"]
    x0 = label_w
    for i, k in enumerate(keys):  # legend
        parts.append(f'<rect x="{x0 + i * 110}" y="6" width="12" height="12" fill="{PALETTE[i % len(PALETTE)]}"/>'
                     f'<text x="{x0 + i * 110 + 16}" y="17" font-size="12">{escape(columns[k])}</text>')
    for n, r in enumerate(rows):
        y = 32 + n * (bar_h + gap)
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" font-size="12" text-anchor="end">'
                     f'{escape(r.department)}</text>')
        x = float(x0)
        for i, k in enumerate(keys):
            v = r.counts.get(k, 0)
            if v:
                w = v * scale
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                             f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(columns[k])}：{v}</title></rect>')
                x += w
        total = sum(r.counts.get(k, 0) for k in keys)
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}" font-size="12">{total}</text>')
    if not rows:
        parts.append(f'<text x="{label_w}" y="50" font-size="13">暂无数据</text>')
    parts.append("</svg>")
    return "".join(parts)
