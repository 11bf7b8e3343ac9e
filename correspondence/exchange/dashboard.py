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

from sqlalchemy import case, extract, func, select
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


def _grouped(session: Session, base, dept_col, day_col, year: int, measures: dict, joins=()) -> list[Row]:
    m = extract("month", day_col)
    q = select(Department.name, m.label("m"), *[expr.label(k) for k, expr in measures.items()]).select_from(base)
    for target, on in joins:
        q = q.join(target, on)
    q = (q.join(Department, Department.id == dept_col)
         .where(day_col >= date(year, 1, 1), day_col < date(year + 1, 1, 1))
         .group_by(Department.id, Department.name, m).order_by(Department.id, m))
    rows = []
    for rec in session.execute(q):
        counts = {k: int(getattr(rec, k) or 0) for k in measures}
        rows.append(Row(rec.name, f"{year:04d}-{int(rec.m):02d}", counts))
    return rows


def _count_if(cond):
    return func.sum(case((cond, 1), else_=0))


def dashboard(session: Session, user: User, today: date, year: int | None = None) -> Dashboard:
    require_leader(user)
    year = year or today.year
    pushes = _grouped(session, Push, Push.regulator_id, Push.pushed_on, year, {
        "total": func.count(Push.id),
        "on_time": _count_if((Push.state == "claimed") & Push.claim_late.is_(False)),
        "late": _count_if((Push.state == "claimed") & Push.claim_late.is_(True)),
        "auto": _count_if(Push.state == "auto_claimed"),
        "unclaimed": _count_if(Push.state == "unclaimed"),
        "overdue": _count_if((Push.state == "unclaimed") & (Push.due_on < today)),
    })
    revocations = _grouped(session, Revocation, Revocation.regulator_id, Revocation.pushed_on, year, {
        "total": func.count(Revocation.id),
        "late": _count_if(Revocation.late.is_(True)),
        "handled": _count_if(Revocation.state.in_(["done", "not_done"])),
        "open": _count_if(Revocation.state.in_(["pushed", "verifying", "handling"])),
    })
    info = _grouped(session, InfoRequest, Push.regulator_id, InfoRequest.due_on, year, {
        "total": func.count(InfoRequest.id),
        "answered": _count_if(InfoRequest.answered_at.is_not(None)),
        "overdue": _count_if(InfoRequest.answered_at.is_(None) & (InfoRequest.due_on < today)),
    }, joins=((Push, InfoRequest.push_id == Push.id),))
    return Dashboard(year, pushes, revocations, info)


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
