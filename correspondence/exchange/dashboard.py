"""督办: per department and month, the figures behind the leaders' charts — pushes claimed on time by
hand, claimed late by hand, claimed by the system, still unclaimed (and overdue); revocation requests
pushed, pushed late, handled and open; information requests answered and overdue. Counted by GROUP BY
in the database (no row is loaded), and drawn as server-side SVG bars (``bar_chart``)."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from html import escape

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from archive_service import permissions
from archive_service.errors import Forbidden
from archive_service.models import Department, User

from .models import InfoRequest, Push, Revocation

PUSH_COLUMNS = {"total": "推送数", "on_time": "按期认领", "late": "逾期人工认领", "auto": "系统自动认领",
                "unclaimed": "待认领", "overdue": "逾期未认领"}
REVOCATION_COLUMNS = {"total": "撤销建议数", "late": "逾期推送", "handled": "已办结", "open": "办理中"}
INFO_COLUMNS = {"total": "信息请求数", "answered": "已答复", "overdue": "逾期未答复"}


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


def _by_day(session: Session, cols, day_col, year: int, where=()) -> list:
    """Counts grouped by (day, department, state…) in the order of a covering index (a streaming
    aggregate over the index alone); the months are summed here from at most 366 × departments rows."""
    # the day as text ('YYYY-MM-DD' on both dialects): no date object is built per row
    q = (select(cast(day_col, String(10)), *cols, func.count())
         .where(day_col >= date(year, 1, 1), day_col < date(year + 1, 1, 1), *where)
         .group_by(day_col, *cols))
    return [(str(row[0])[:7], *row[1:]) for row in session.execute(q)]


def _rows(session: Session, counts: dict, columns: dict[str, str]) -> list[Row]:
    names: dict[int, str] = {i: n for i, n in session.execute(select(Department.id, Department.name))}
    out = []
    for (dept_id, month), c in sorted(counts.items()):
        out.append(Row(names.get(dept_id, str(dept_id)), month, {k: c.get(k, 0) for k in columns}))
    return out


def dashboard(session: Session, user: User, today: date, year: int | None = None) -> Dashboard:
    require_leader(user)
    year = year or today.year
    pushes: dict = {}
    for day, dept, state, late, n in _by_day(session, (Push.regulator_id, Push.state, Push.claim_late),
                                             Push.pushed_on, year):
        c = pushes.setdefault((dept, day), {})
        c["total"] = c.get("total", 0) + n
        key = {"claimed": "late" if late else "on_time", "auto_claimed": "auto"}.get(state, state)
        c[key] = c.get(key, 0) + n
    for day, dept, n in _by_day(session, (Push.regulator_id,), Push.pushed_on, year,
                                (Push.state == "unclaimed", Push.due_on < today)):
        c = pushes.setdefault((dept, day), {})
        c["overdue"] = c.get("overdue", 0) + n
    revocations: dict = {}
    for day, dept, state, late, n in _by_day(session, (Revocation.regulator_id, Revocation.state, Revocation.late),
                                             Revocation.pushed_on, year):
        c = revocations.setdefault((dept, day), {})
        c["total"] = c.get("total", 0) + n
        if late:
            c["late"] = c.get("late", 0) + n
        key = "handled" if state in {"done", "not_done"} else "open"
        c[key] = c.get(key, 0) + n
    info: dict = {}
    q = (select(InfoRequest.due_on, Push.regulator_id, InfoRequest.answered_at.is_not(None), func.count())
         .select_from(InfoRequest).join(Push, InfoRequest.push_id == Push.id)
         .where(InfoRequest.due_on >= date(year, 1, 1), InfoRequest.due_on < date(year + 1, 1, 1))
         .group_by(InfoRequest.due_on, Push.regulator_id, InfoRequest.answered_at.is_not(None)))
    for day, dept, answered, n in session.execute(q):
        c = info.setdefault((dept, f"{day:%Y-%m}"), {})
        c["total"] = c.get("total", 0) + n
        if answered:
            c["answered"] = c.get("answered", 0) + n
        elif day < today:
            c["overdue"] = c.get("overdue", 0) + n
    return Dashboard(year, _rows(session, pushes, PUSH_COLUMNS), _rows(session, revocations, REVOCATION_COLUMNS),
                     _rows(session, info, INFO_COLUMNS))


def csv_rows(board: Dashboard) -> Iterator[str]:
    """The dashboard as CSV (with a BOM for spreadsheet programs), one line at a time."""
    from archive_service.audit import csv_cell

    buf = io.StringIO()
    writer = csv.writer(buf)
    yield "\ufeff"
    for title, rows, columns in (("审批推送", board.pushes, PUSH_COLUMNS),
                                 ("撤销建议", board.revocations, REVOCATION_COLUMNS),
                                 ("审批信息请求", board.info, INFO_COLUMNS)):
        writer.writerow(["类别", "部门", "月份", *columns.values()])
        for r in rows:
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
