"""Append-only audit log with a keyed hash chain, anchored outside the database.

Each event's hash is an HMAC-SHA256 (key ``ARCHIVE_AUDIT_KEY``, kept outside the database and handed
to sessions by the session factory) over its fields and the previous event's hash, so someone who
can write to the database but does not hold the key cannot edit a row and recompute the chain.
Events written before the chain was keyed keep their plain SHA-256 hashes (``key_era`` 0); an era-0
event after an era-1 one is reported. Appending locks the single ``audit_head`` row (``FOR UPDATE``
on PostgreSQL; SQLite serialises writers), so concurrent writers never fork the chain.

Deleting the newest rows and moving the head back leaves a consistent chain; the **anchors** catch
it: the worker (and ``init``) periodically writes the head — event id, hash, number of events —
HMACed with the key, as a write-once record in the object store (COMPLIANCE object lock where the
bucket has it). ``verify_chain`` checks every link and reports every broken one; ``verify_anchors``
checks that each anchored event is still there with the anchored hash; ``verify_versions`` checks
that every document version points at the blob its audit event recorded.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from .clock import Clock, local_time
from .models import AuditEvent, AuditHead, DocumentVersion

GENESIS = "0" * 64
KEYED = 1  # the key era of events written now
ANCHORS = "audit-anchors/"
#: audit actions that record a document version (details: version, sha256)
VERSION_ACTIONS = ("document.upload", "document.version_added")


def canonical(details: dict | None) -> str:
    return json.dumps(details or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def audit_key(session: Session) -> bytes:
    """The chain's HMAC key, handed to every session by ``make_session_factory``."""
    key = session.info.get("audit_key")
    if not key:
        raise RuntimeError("this session carries no audit key (build sessions with make_session_factory)")
    return key.encode("utf-8")


def _verify_key(session: Session) -> bytes:
    """The key for checking: an empty one (no key configured) makes every keyed event fail."""
    return (session.info.get("audit_key") or "").encode("utf-8")


def _message(ev) -> bytes:
    fields = [
        str(ev.id), ev.at.isoformat(timespec="microseconds"), str(ev.actor_id or ""), ev.actor_name,
        str(ev.department_id or ""), ev.action, ev.target_type, ev.target_id, ev.details, ev.prev_hash,
    ]
    return "\x1f".join(fields).encode("utf-8")


def event_hash(ev, key: bytes) -> str:
    """The hash ``ev`` must carry: HMAC-SHA256 for keyed events, SHA-256 for era-0 events."""
    if ev.key_era == 0:
        return hashlib.sha256(_message(ev)).hexdigest()
    return hmac.new(key, _message(ev), hashlib.sha256).hexdigest()


def event_intact(session: Session, ev) -> bool:
    """``ev``'s stored hash is the one its fields give (with the session's audit key)."""
    return hmac.compare_digest(event_hash(ev, _verify_key(session)), ev.hash)


class AuditLog:
    def __init__(self, session: Session, clock: Clock):
        self.session = session
        self.clock = clock

    def record(self, actor, action: str, target_type: str, target_id, details: dict | None = None) -> AuditEvent:
        """Append an event inside the caller's transaction. ``actor`` is a User or None (system)."""
        s = self.session
        key = audit_key(s)
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
            key_era=KEYED,
        )
        s.add(ev)
        s.flush()  # assigns the id, which the hash covers
        ev.hash = event_hash(ev, key)
        head.last_hash = ev.hash
        return ev

    def record_many(self, actor, events: Sequence[tuple[str, str, object, dict | None]]) -> int:
        """Append many events (``(action, target_type, target_id, details)``) as one batch: the head is
        locked once and the ids reserved first (``db.reserve_ids``), so every hash is computed before
        one Core insert (no ORM object per event: a bulk import, a pass of the worker). On SQLite the
        transaction must have written already. Returns the number of events."""
        from types import SimpleNamespace

        from .db import reserve_ids

        s = self.session
        key = audit_key(s)
        head = s.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
        if head is None:
            head = AuditHead(id=1, last_hash=GENESIS)
            s.add(head)
        now = self.clock.now()
        ids = sorted(reserve_ids(s, AuditEvent.__table__, len(events)))
        actor_id, department_id = getattr(actor, "id", None), getattr(actor, "department_id", None)
        actor_name = getattr(actor, "username", None) or "system"
        rows = []
        last = head.last_hash
        for ev_id, (action, target_type, target_id, details) in zip(ids, events, strict=True):
            row = {"id": ev_id, "at": now, "actor_id": actor_id, "actor_name": actor_name,
                   "department_id": department_id, "action": action, "target_type": target_type,
                   "target_id": str(target_id), "details": canonical(details), "prev_hash": last, "key_era": KEYED}
            row["hash"] = last = event_hash(SimpleNamespace(**row), key)
            rows.append(row)
        if rows:
            s.execute(insert(cast(Table, AuditEvent.__table__)), rows)
        head.last_hash = last
        s.flush()
        return len(rows)


@dataclass
class ChainReport:
    """Every problem found, in event order; ``broken_id``/``reason`` name the first."""
    checked: int
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def broken_id(self) -> int | None:
        return self.problems[0][0] if self.problems else None

    @property
    def reason(self) -> str:
        return self.problems[0][1] if self.problems else ""


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    """Check every link; a broken one does not stop the walk, so every tampered event is named."""
    key = _verify_key(session)
    report = ChainReport(0)
    prev, last_id, keyed_seen = GENESIS, 0, False
    table = AuditEvent.__table__  # plain rows: nothing enters (or leaves) the session's identity map
    while True:
        rows = session.execute(
            select(table).where(table.c.id > last_id).order_by(table.c.id).limit(batch)
        ).all()
        if not rows:
            break
        for ev in rows:
            if ev.prev_hash != prev:
                report.problems.append((ev.id, "前一事件哈希不匹配（事件被删除、插入或改写）"))
            if ev.key_era == 0 and keyed_seen:
                report.problems.append((ev.id, "未加密钥的事件出现在加密钥事件之后（事件被改写）"))
            elif not hmac.compare_digest(event_hash(ev, key), ev.hash):
                report.problems.append((ev.id, "事件内容被篡改（或审计密钥不符）"))
            keyed_seen = keyed_seen or ev.key_era != 0
            prev, last_id = ev.hash, ev.id
            report.checked += 1
    head = session.get(AuditHead, 1)
    if head is not None and head.last_hash != prev:
        report.problems.append((last_id + 1, "链尾事件缺失"))
    return report


# -- anchors -------------------------------------------------------------------------------------
def _anchor_mac(key: bytes, payload: dict) -> str:
    return hmac.new(key, canonical(payload).encode("utf-8"), hashlib.sha256).hexdigest()


def write_anchor(session: Session, store, clock: Clock, retention_days: int = 3650) -> str | None:
    """Write the chain head as a write-once record in the object store; returns its name, or None
    when there is nothing new to anchor (no events, or the newest anchor already names the head)."""
    key = audit_key(session)
    last = session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    if last is None:
        return None
    prefix = f"{ANCHORS}{last.id:012d}-"
    if any(True for _ in store.list_records(prefix)):
        return None
    count = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.id <= last.id))
    now = clock.now()
    payload = {"event_id": last.id, "hash": last.hash, "count": count, "at": now.isoformat() + "Z"}
    body = json.dumps({**payload, "mac": _anchor_mac(key, payload)}, ensure_ascii=False, sort_keys=True)
    name = f"{prefix}{now.strftime('%Y%m%dT%H%M%S')}.json"
    until = now.replace(tzinfo=UTC) + timedelta(days=retention_days)
    store.put_record(name, body.encode("utf-8"), retain_until=until)
    return name


def verify_anchors(session: Session, store) -> tuple[int, list[tuple[str, str]]]:
    """Check every anchor against the chain: (anchors checked, [(anchor name, problem)])."""
    key = _verify_key(session)
    problems: list[tuple[str, str]] = []
    names = list(store.list_records(ANCHORS))
    for name in names:
        try:
            data = json.loads(store.read_record(name))
            payload = {k: data[k] for k in ("event_id", "hash", "count", "at")}
            mac = str(data["mac"])
        except (ValueError, KeyError, TypeError):
            problems.append((name, "锚点无法读取"))
            continue
        if not hmac.compare_digest(_anchor_mac(key, payload), mac):
            problems.append((name, "锚点签名无效（锚点被伪造或审计密钥不符）"))
            continue
        ev = session.execute(select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id == payload["event_id"])).first()
        if ev is None:
            problems.append((name, f"锚定的事件 {payload['event_id']} 已不存在（链尾或中间事件被删除）"))
        elif ev.hash != payload["hash"]:
            problems.append((name, f"事件 {ev.id} 的哈希与锚点不符（事件被改写）"))
        else:
            count = session.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.id <= payload["event_id"]))
            if count != payload["count"]:
                problems.append((name, f"锚定时有 {payload['count']} 条事件，现有 {count} 条（事件被删除或插入）"))
    return len(names), problems


# -- document versions against their audit events ------------------------------------------------
def verify_versions(session: Session, batch: int = 5000) -> tuple[int, list[tuple[int, int, str]]]:
    """Every document version must point at the blob its audit event recorded (a version re-pointed
    at another stored blob swaps the content silently otherwise). Returns (versions checked,
    [(document id, version number, problem)])."""
    recorded: dict[tuple[int, int], str] = {}
    table = AuditEvent.__table__
    last_id = 0
    while True:
        rows = session.execute(
            select(table.c.id, table.c.target_id, table.c.details)
            .where(table.c.id > last_id, table.c.target_type == "document", table.c.action.in_(VERSION_ACTIONS))
            .order_by(table.c.id).limit(batch)).all()
        if not rows:
            break
        for row in rows:
            last_id = row.id
            try:
                details = json.loads(row.details)
                recorded[(int(row.target_id), int(details["version"]))] = str(details["sha256"])
            except (ValueError, KeyError, TypeError):
                continue
    problems: list[tuple[int, int, str]] = []
    checked = 0
    vt = DocumentVersion.__table__
    for row in session.execute(
            select(vt.c.document_id, vt.c.number, vt.c.blob_sha256).order_by(vt.c.document_id, vt.c.number)):
        doc_id, number, sha = int(row[0]), int(row[1]), str(row[2])
        checked += 1
        expected = recorded.get((doc_id, number))
        if expected is None:
            problems.append((doc_id, number, "没有记录该版本的审计事件"))
        elif expected != sha:
            problems.append((doc_id, number,
                             f"版本指向的内容 {sha[:12]}… 与审计记录 {expected[:12]}… 不符（版本被改指）"))
    return checked, problems


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
