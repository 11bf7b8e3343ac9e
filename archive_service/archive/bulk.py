"""Filing many new items at once: one chunk of a bulk import as one set of statements.

The rows of a chunk are the same rows ``ArchiveService.file`` writes for each source — document and
version, item and part, the audit events (chained in id order), the four-property check report, the
search outbox and text-extraction entries — but inserted together: the 件号 counters are locked once
per (全宗, 年度, 保管期限, 机构) and a range taken, the blob rows go in one statement, and the checks
read what they need from the database once for the whole chunk (``checks.prefetch``). If any item
fails a blocking check, ``FilingRefused`` is raised and the caller rolls the chunk back (then files
its rows one by one, so each failing row is reported on its own).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, update

from .. import extraction, outbox
from ..audit import AuditLog
from ..db import reserve_ids
from ..documents import record_blobs
from ..models import Department, Document, DocumentVersion, User
from ..storage.base import PutResult
from .checks import DOCX, PDF, opens, prefetch, run_checks
from .codes import format_code, parse_code
from .models import CATEGORY, ArchiveItem, CheckReport, ItemCounter, ItemPart
from .service import ArchiveService, FilingRefused, retention_until


@dataclass
class NewItem:
    """One catalogue row to file: the stored file and the row's cleaned metadata."""
    key: str  # the row key (source_id of the item)
    stored: PutResult
    media_type: str
    data: bytes | None  # the file's bytes when small enough to keep (else read back from the store)
    filename: str
    title: str  # the document's title (cleaned)
    item_title: str
    doc_number: str
    responsible: str
    doc_date: date | None
    doc_type: str
    remarks: str
    retention: str
    unit: str
    archival_code: str | None  # given by the catalogue, else allocated


def file_new_items(archive: ArchiveService, user: User, holding: Department, rows: list[NewItem],
                   action: str = "archive.import", trigger: str = "import",
                   import_run_id: int | None = None) -> list[ArchiveItem]:
    """File every row as a new item (flushed, not committed); raises FilingRefused when one fails."""
    s, clock = archive.s, archive.clock
    archive._require_filer(user, holding)
    fonds = archive.fondses.for_department(holding)
    now, today = clock.now(), clock.today()
    record_blobs(s, [(r.stored, r.media_type) for r in rows], now, lock=True)

    # 件号: in row order, as one-by-one filing would give them; one locked counter per group
    counters: dict[tuple, ItemCounter] = {}
    placed = []
    for r in rows:
        if r.archival_code:
            parsed = parse_code(r.archival_code)
            year, retention, given = parsed.year, parsed.retention, parsed.number
        else:
            year, retention, given = (r.doc_date.year if r.doc_date else today.year), r.retention, None
        group = (fonds.code, year, retention, r.unit)
        counter = counters.get(group)
        if counter is None:
            counter = counters[group] = archive._locked_counter(*group)
        if given is None:
            counter.last += 1
            number = counter.last
        else:
            counter.last = max(counter.last, given)
            number = given
        placed.append((year, retention, number))

    opened: dict[str, tuple[bool, str, int]] = {}
    known: dict[str, bytes] = {}
    # ids reserved up front; the rows go as plain dicts, one executemany per table (no ORM objects to
    # build, track and flush: that was most of the CPU time per item)
    n = len(rows)
    ids = zip(reserve_ids(s, Document.__table__, n), reserve_ids(s, DocumentVersion.__table__, n),
              reserve_ids(s, ArchiveItem.__table__, n), reserve_ids(s, ItemPart.__table__, n), strict=True)
    doc_rows: list[dict] = []
    version_rows: list[dict] = []
    item_rows: list[dict] = []
    part_rows: list[dict] = []
    items: list[ArchiveItem] = []
    for r, (year, retention, number), (doc_id, version_id, item_id, part_id) in zip(rows, placed, ids, strict=True):
        sha = r.stored.sha256
        data = r.data
        if r.media_type.startswith("image/"):
            pages = 1
        elif r.media_type in (PDF, DOCX):
            if data is None:
                data = archive._read(sha)
            if sha not in opened:
                opened[sha] = opens(r.media_type, data)
            pages = opened[sha][2]
        else:
            pages = 0
        if r.data is not None:
            known[sha] = r.data
        doc_rows.append(dict(id=doc_id, catalogue=False, title=r.title, kind="archive",
                             department_id=user.department_id, created_by=user.id, created_at=now, updated_at=now,
                             current_version=1, revision=2))  # uploaded, then filed
        version_rows.append(dict(id=version_id, document_id=doc_id, number=1, blob_sha256=sha, filename=r.filename,
                                 created_by=user.id, created_at=now))
        # checked when filed: a report that does not pass marks the item below
        item_row = dict(
            id=item_id, archival_code=format_code(fonds.code, year, retention, r.unit, number), fonds_id=fonds.id,
            department_id=holding.id, fonds=fonds.code, category=CATEGORY, year=year, retention=retention,
            unit=r.unit, item_number=number, title=r.item_title.strip()[:300], doc_number=r.doc_number,
            responsible=r.responsible or holding.name, doc_date=r.doc_date, doc_type=r.doc_type, secrecy="非密",
            pages=pages, remarks=r.remarks, source_type="import", source_id=r.key, filed_by=user.id, filed_at=now,
            retention_until=retention_until(retention, today), stamp_pending=r.media_type == PDF, part_count=1,
            import_run_id=import_run_id, last_checked_at=now, last_check_passed=True)
        part = dict(id=part_id, item_id=item_id, position=0, document_id=doc_id, version=1, role="main",
                    filename=r.filename, size=r.stored.size, media_type=r.media_type, sha256=sha, sm3=r.stored.sm3)
        item_rows.append(item_row)
        part_rows.append(part)
        # what the checks read: the same values, as objects outside the session (never flushed)
        filed = ArchiveItem(**item_row)
        filed.parts = [ItemPart(**part)]
        items.append(filed)
    for model, table_rows in ((Document, doc_rows), (DocumentVersion, version_rows), (ArchiveItem, item_rows),
                              (ItemPart, part_rows)):
        s.execute(insert(model), table_rows)

    events: list[tuple[str, str, object, dict | None]] = []
    for r, item in zip(rows, items, strict=True):
        doc_id = item.parts[0].document_id
        events.append(("document.upload", "document", doc_id, {
            "title": r.title, "version": 1, "filename": r.filename, "size": r.stored.size,
            "sha256": r.stored.sha256, "sm3": r.stored.sm3, "media_type": r.media_type}))
        events.append((action, "archive_item", item.id, archive.audit_fields(item)))
    log = AuditLog(s, clock)
    log.record_many(user, events)
    outbox.enqueue_many(s, clock, [(d["id"], d["revision"]) for d in doc_rows])
    extraction.enqueue_many(s, clock, [(v["id"], v["document_id"]) for v in version_rows])

    # the checks, with what they look up fetched once; digests and media type as computed while storing
    facts = prefetch(s, items)
    digested = {r.stored.sha256: (r.stored.sha256, r.stored.sm3, r.stored.size, r.media_type) for r in rows}
    reports: list[dict] = []
    failed: list[tuple[str, str, object, dict | None]] = []
    for r, item in zip(rows, items, strict=True):
        report = run_checks(s, archive.store, item, archive.verifier, known, opened, facts, digested)
        blocking = [c for c in report.failures if not (r.archival_code and c.name == "item_numbers_gapless")]
        if blocking:
            raise FilingRefused(f"四性检测未通过，未归档：{report.summary()}",
                                checks=[c.__dict__ for c in report.failures], title=item.title)
        reports.append(dict(item_id=item.id, at=now, trigger=trigger, passed=report.passed,
                            results=report.to_json(), actor_id=user.id))
        item.last_check_passed = report.passed
        if not report.passed:
            failed.append(("archive.check", "archive_item", item.id,
                           {"trigger": trigger, "passed": False, "failed": [c.name for c in report.failures]}))
    s.execute(insert(CheckReport), reports)
    if failed:
        s.execute(update(ArchiveItem).where(ArchiveItem.id.in_([f[2] for f in failed]))
                  .values(last_check_passed=False))
        log.record_many(user, failed)
    s.flush()
    return items
