"""督办 counters (``BoardCount``): per kind, month and department, the figures the dashboard draws. Every
service that inserts a push, a revocation request or an information request, or changes its state,
calls ``bump`` in the same transaction; ``recount`` computes the same figures from the rows (the test
compares both, the migration and the benchmark fill the table with ``rebuild``).

Kinds and measures (the month is the push month; for information requests the due month):
  push:       total, on_time, late (claimed by hand after the due day), auto, unclaimed
  revocation: total, late (pushed late), handled (done / not_done), open
  info:       total, answered
Figures that depend on today (overdue) are counted live from the open rows, which are few."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import String, cast, delete, func, insert, literal_column, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .models import BoardCount, InfoRequest, Push, Revocation

Key = tuple[str, str, int, str]  # kind, month, department_id, measure
HANDLED = ("done", "not_done")


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def bump(session: Session, deltas: Mapping[Key, int] | Iterable[tuple[Key, int]]) -> None:
    """Add the deltas to the counters in one upsert, rows in key order. Callers bump after their audit
    record: the audit head is locked first in every transaction that counts (the sign-off of a revocation
    audits before its state changes), so two transactions never wait on each other's counter rows and
    the audit head in opposite orders (a deadlock on PostgreSQL)."""
    total: Counter = Counter()
    for key, d in (deltas.items() if isinstance(deltas, Mapping) else deltas):
        total[key] += d
    rows = [{"kind": k, "month": m, "department_id": dept, "measure": measure, "n": n}
            for (k, m, dept, measure), n in sorted(total.items()) if n]
    if not rows:
        return
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = upsert(BoardCount).values(rows)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["kind", "month", "department_id", "measure"],
        set_={"n": BoardCount.n + stmt.excluded.n}))


def push_state_key(state: str, late: bool) -> str:
    return {"claimed": "late" if late else "on_time", "auto_claimed": "auto"}.get(state, state)


def read(session: Session, year: int) -> dict[Key, int]:
    q = select(BoardCount.kind, BoardCount.month, BoardCount.department_id, BoardCount.measure, BoardCount.n).where(
        BoardCount.month >= f"{year:04d}-01", BoardCount.month <= f"{year:04d}-12", BoardCount.n != 0)
    return {(k, m, d, measure): n for k, m, d, measure, n in session.execute(q)}


def _month(col):
    # 'YYYY-MM' from a date on both dialects (a date cast to text is ISO on both)
    # (literal positions: a bound parameter in both SELECT and GROUP BY is two parameters to PostgreSQL)
    return func.substr(cast(col, String(10)), literal_column("1"), literal_column("7"))


def _rows(session: Session, stmt) -> list[Any]:
    return list(session.execute(stmt))


def recount(session: Session, year: int | None = None) -> dict[Key, int]:
    """The counters computed from the rows (GROUP BY); for one year, or all."""
    out: Counter[Key] = Counter()

    def year_of(col):
        return () if year is None else (col >= date(year, 1, 1), col < date(year + 1, 1, 1))

    cols: tuple[Any, ...] = (_month(Push.pushed_on), Push.regulator_id, Push.state, Push.claim_late)
    for month, dept, state, late, n in _rows(session,
            select(*cols, func.count()).where(*year_of(Push.pushed_on)).group_by(*cols)):
        out[("push", month, dept, "total")] += n
        out[("push", month, dept, push_state_key(state, bool(late)))] += n
    cols = (_month(Revocation.pushed_on), Revocation.regulator_id, Revocation.state, Revocation.late)
    for month, dept, state, late, n in _rows(session,
            select(*cols, func.count()).where(*year_of(Revocation.pushed_on)).group_by(*cols)):
        out[("revocation", month, dept, "total")] += n
        out[("revocation", month, dept, "handled" if state in HANDLED else "open")] += n
        if late:
            out[("revocation", month, dept, "late")] += n
    cols = (_month(InfoRequest.due_on), Push.regulator_id, InfoRequest.answered_at.is_not(None))
    for month, dept, answered, n in _rows(session,
            select(*cols, func.count()).select_from(InfoRequest).join(Push, InfoRequest.push_id == Push.id)
            .where(*year_of(InfoRequest.due_on)).group_by(*cols)):
        out[("info", month, dept, "total")] += n
        if answered:
            out[("info", month, dept, "answered")] += n
    return {k: v for k, v in out.items() if v}


def rebuild(session: Session) -> int:
    """Replace every counter by a recount (after a bulk load, or to repair); returns the number of rows."""
    session.execute(delete(BoardCount))
    counts = recount(session)
    if counts:
        session.execute(insert(BoardCount), [
            {"kind": k, "month": m, "department_id": d, "measure": measure, "n": n}
            for (k, m, d, measure), n in sorted(counts.items())])
    return len(counts)
