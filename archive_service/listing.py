"""Keyset (cursor) paging and cheap counts for long lists.

A list ordered newest first by ``(at, id)`` pages with ``after=<cursor>``: the next page is
``WHERE (at, id) < (cursor.at, cursor.id) ORDER BY at DESC, id DESC LIMIT n`` — one index range scan,
the same cost on page 7,000 as on page 1 (OFFSET would read and discard every earlier row).
``before=<cursor>`` pages back the same way in the other direction; ``from=<time>`` jumps to a date.

Cursors are opaque to clients (URL-safe base64 of ``<iso time>|<id>``).
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, select

from .clock import CHINA
from .errors import BadRequest

#: counts up to this are exact (a bounded index scan); above it a list shows an estimate
EXACT_COUNT_CAP = 10_000


@dataclass(frozen=True)
class Cursor:
    at: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str | None, name: str = "after") -> Cursor | None:
        if not token:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            at, ident = raw.rsplit("|", 1)
            return cls(datetime.fromisoformat(at), int(ident))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise BadRequest(f"{name} 参数不是有效的翻页游标（请使用上一页返回的 next_cursor）") from None


@dataclass
class KeysetPage:
    items: list
    size: int
    next_cursor: str | None = None      # older items follow (pass as after=)
    prev_cursor: str | None = None      # newer items precede (pass as before=)
    total: int | None = None
    total_estimated: bool = False
    start: datetime | None = field(default=None)  # the from= point, UTC

    @property
    def total_label(self) -> str:
        """The count as the UI shows it: exact, or 约 N (rounded) when it is an estimate."""
        if self.total is None:
            return ""
        if self.total_estimated:
            return f"约 {round_estimate(self.total):,} 件"
        return f"共 {self.total:,} 件"


def round_estimate(n: int) -> int:
    """Two to three significant figures, e.g. 147,288 → 147,000."""
    if n < 1000:
        return n
    step = 10 ** (len(str(n)) - 3)
    return round(n / step) * step


def bounded_count(session, query: Select, cap: int = EXACT_COUNT_CAP) -> tuple[int, bool]:
    """``(count, capped)``: counts at most ``cap + 1`` rows of ``query`` (an index range scan, bounded)."""
    n = session.scalar(select(func.count()).select_from(query.limit(cap + 1).subquery())) or 0
    return (cap, True) if n > cap else (n, False)


def parse_instant(value: str | None, name: str = "from", end_of_day: bool = False) -> datetime | None:
    """A user's point in time → naive UTC. Accepts ``…Z``, ``…+08:00`` and local (Beijing) times
    without an offset; a bare date means its start (or, with ``end_of_day``, the start of the next day)."""
    if not value:
        return None
    value = value.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            if end_of_day:
                day += timedelta(days=1)
            at = datetime.combine(day, time(), CHINA)
        else:
            at = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
            if at.tzinfo is None:
                at = at.replace(tzinfo=CHINA)
    except ValueError:
        raise BadRequest(f"{name} 须为日期或时间，如 2026-03-05、2026-03-05T09:30:00+08:00") from None
    return at.astimezone(UTC).replace(tzinfo=None)


def beijing_iso(utc_naive: datetime | None) -> str | None:
    """A stored UTC time as ISO 8601 with +08:00 (how the API echoes times the user gave)."""
    if utc_naive is None:
        return None
    return utc_naive.replace(tzinfo=UTC).astimezone(CHINA).isoformat()


def keyset_rows(session, query: Select, at_col, id_col, size: int, after: Cursor | None = None,
                before: Cursor | None = None, start: datetime | None = None) -> KeysetPage:
    """One keyset page of ``query`` (selecting rows that have ``at_col``/``id_col``), newest first.

    ``at_col`` and ``id_col`` may be columns of a joined table; cursors carry their values."""
    from sqlalchemy import literal, tuple_

    newest_first = before is None
    key = tuple_(at_col, id_col)
    if before is not None:
        query = query.where(key > tuple_(literal(before.at), literal(before.id)))
    elif after is not None:
        query = query.where(key < tuple_(literal(after.at), literal(after.id)))
    elif start is not None:
        query = query.where(at_col < start)
    order = (at_col.desc(), id_col.desc()) if newest_first else (at_col.asc(), id_col.asc())
    rows = session.execute(query.add_columns(at_col, id_col).order_by(*order).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    if not newest_first:
        rows.reverse()
    page = KeysetPage([r[0] for r in rows], size, start=start)
    if rows:
        older_exist = more if newest_first else True
        newer_exist = (after is not None or start is not None) if newest_first else more
        page.next_cursor = Cursor(rows[-1][-2], rows[-1][-1]).encode() if older_exist else None
        page.prev_cursor = Cursor(rows[0][-2], rows[0][-1]).encode() if newer_exist else None
    return page
