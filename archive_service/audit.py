"""Append-only audit log with a hash chain.

Each event's hash covers its fields and the previous event's hash. Appending locks the single
``audit_head`` row (``FOR UPDATE`` on PostgreSQL; SQLite serialises writers), so concurrent writers
never fork the chain. ``verify_chain`` names the first event whose link is broken.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .clock import Clock, local_time
from .models import AuditEvent, AuditHead

GENESIS = "0" * 64


def canonical(details: dict | None) -> str:
    return json.dumps(details or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def event_hash(ev: AuditEvent) -> str:
    fields = [
        str(ev.id), ev.at.isoformat(timespec="microseconds"), str(ev.actor_id or ""), ev.actor_name,
        str(ev.department_id or ""), ev.action, ev.target_type, ev.target_id, ev.details, ev.prev_hash,
    ]
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


class AuditLog:
    def __init__(self, session: Session, clock: Clock):
        self.session = session
        self.clock = clock

    def record(self, actor, action: str, target_type: str, target_id, details: dict | None = None) -> AuditEvent:
        """Append an event inside the caller's transaction. ``actor`` is a User or None (system)."""
        s = self.session
        head = s.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
        if head is None:
            head = AuditHead(id=1, last_hash=GENESIS)
            s.add(head)
            s.flush()
        ev = AuditEvent(
            at=self.clock.now(),
            actor_id=getattr(actor, "id", None),
            actor_name=getattr(actor, "username", None) or "system",
            department_id=getattr(actor, "department_id", None),
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            details=canonical(details),
            prev_hash=head.last_hash,
            hash="",
        )
        s.add(ev)
        s.flush()  # assigns the id, which the hash covers
        ev.hash = event_hash(ev)
        head.last_hash = ev.hash
        return ev


@dataclass
class ChainReport:
    checked: int
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    prev, checked, last_id = GENESIS, 0, 0
    while True:
        table = AuditEvent.__table__  # plain rows: nothing enters (or leaves) the session's identity map
        rows = session.execute(
            select(table).where(table.c.id > last_id).order_by(table.c.id).limit(batch)
        ).all()
        if not rows:
            break
        for ev in rows:
            if ev.prev_hash != prev:
                return ChainReport(checked, ev.id, "前一事件哈希不匹配（事件被删除或插入）")
            if event_hash(ev) != ev.hash:
                return ChainReport(checked, ev.id, "事件内容被篡改")
            prev, last_id = ev.hash, ev.id
            checked += 1
    head = session.get(AuditHead, 1)
    if head is not None and head.last_hash != prev:
        return ChainReport(checked, last_id + 1, "链尾事件缺失")
    return ChainReport(checked)


CSV_COLUMNS = ["id", "时间", "操作人", "部门ID", "操作", "对象类型", "对象ID", "详情", "前一哈希", "哈希"]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: a leading ``= + - @``, tab or CR would start a formula
    (``=HYPERLINK(…)`` in a failed login's user name), so such cells get a leading ``'``."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_csv(events: Iterable[AuditEvent]) -> Iterable[str]:
    """Yield CSV text (with a BOM so spreadsheet programs read the Chinese right); every cell passes
    through ``csv_cell``."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    yield buf.getvalue()
    for ev in events:
        buf.seek(0)
        buf.truncate()
        writer.writerow([csv_cell(v) for v in (
            ev.id, local_time(ev.at), ev.actor_name, ev.department_id or "", ev.action,
            ev.target_type, ev.target_id, ev.details, ev.prev_hash, ev.hash)])
        yield buf.getvalue()
