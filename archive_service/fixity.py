"""Fixity: re-hash stored blobs and compare with the digests recorded at ingest."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit import AuditLog
from .clock import Clock
from .errors import DomainError
from .hashing import digest_stream
from .models import Blob
from .storage.base import ObjectStore


@dataclass
class FixityReport:
    checked: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (sha256, reason)

    @property
    def ok(self) -> bool:
        return not self.failures


def check_blob(store: ObjectStore, blob: Blob) -> str | None:
    """None when the stored bytes match the recorded size and both digests; else the reason."""
    try:
        sha, sm3, size = digest_stream(store.open(blob.sha256))
    except DomainError as exc:
        return f"无法读取：{exc.message}"
    if size != blob.size:
        return f"大小不符：记录 {blob.size}，实际 {size}"
    if sha != blob.sha256:
        return "SHA-256 不符"
    if sm3 != blob.sm3:
        return "SM3 不符"
    return None


def run_fixity(session: Session, store: ObjectStore, clock: Clock, limit: int | None = None) -> FixityReport:
    """Check blobs oldest-checked first (never-checked before all); ``limit`` samples that many.

    Flushes only: the command or worker job that runs it commits the results as one unit of work."""
    q = select(Blob).order_by(Blob.last_fixity_at.is_not(None), Blob.last_fixity_at, Blob.sha256)
    if limit:
        q = q.limit(limit)
    report = FixityReport()
    for blob in session.execute(q).scalars().all():
        reason = check_blob(store, blob)
        blob.last_fixity_at = clock.now()
        blob.last_fixity_ok = reason is None
        report.checked += 1
        if reason:
            report.failures.append((blob.sha256, reason))
            AuditLog(session, clock).record(None, "storage.fixity_failed", "blob", blob.sha256, {"reason": reason})
    session.flush()
    return report
