"""Bulk import of a JSON Lines corpus (``{"id", "title", "body"}`` per line, optionally gzip) as documents.

Each record goes the document core's way: its bytes are stored first (content-addressed), then the
document, its version, an audit event and a search outbox row are committed — each batch of many
documents is one unit of work of the import job (its own transaction), so a crash loses at most the
open batch (its stored blobs become orphans that ``gc`` collects). The body is plain text the importer
already holds, so it is decoded right away (``extract_plain_text``: bounded and linear, no parser —
nothing that needs the sandbox) into ``text_extractions``, and indexing needs no second read of the store.
"""
from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from . import mediatype, outbox
from .audit import AuditLog
from .clock import Clock
from .db import reserve_ids, transaction
from .documents import clean_filename, clean_title, record_blobs
from .errors import Unprocessable
from .extract import Limits, extract_plain_text
from .indexing_models import TextExtraction
from .models import Document, DocumentVersion, User
from .storage.base import ObjectStore

STORE_THREADS = 8


@dataclass
class ImportReport:
    imported: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def read_jsonl(path: Path) -> Iterator[dict]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise Unprocessable(f"第 {n} 行不是有效的 JSON：{exc.msg}") from None


def count_lines(path: Path) -> int:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


class BulkImporter:
    def __init__(self, factory: sessionmaker[Session], store: ObjectStore, clock: Clock, user: User,
                 batch: int = 500, catalogue: bool = False, max_bytes: int | None = None,
                 limits: Limits | None = None):
        self.factory = factory  # each batch is a unit of work of its own
        self.store = store
        self.clock = clock
        self.user = user
        self.batch = batch
        self.catalogue = catalogue
        self.max_bytes = max_bytes
        self.limits = limits or Limits()

    def _store(self, item: dict):
        """Store one record's bytes (first half of the write order); runs in a thread pool."""
        body = item.get("body")
        if not isinstance(body, str) or not body.strip():
            raise Unprocessable("缺少 body")
        data = body.encode("utf-8")
        stored = self.store.put_stream(io.BytesIO(data), self.max_bytes)
        media_type = mediatype.detect(stored.head)
        mediatype.check_allowed(media_type)
        filename = clean_filename(f"{item.get('id') or stored.sha256[:12]}.txt")
        title = clean_title(item.get("title"), filename[:-4])
        return stored, media_type, filename, title, extract_plain_text(data, self.limits)

    def _commit_batch(self, prepared: list) -> None:
        """Second half: documents, versions, audit events, extractions and outbox rows, one transaction."""
        with transaction(self.factory) as s:
            self._add_batch(s, prepared)

    def _add_batch(self, s: Session, prepared: list) -> None:
        """A batch as a few multi-row inserts: ids are reserved first (``db.reserve_ids``), so no row
        needs a flush of its own to learn its id, and the audit events are chained in one go
        (``record_many``: the head is locked once). Measured 2.5x the documents/s of one ORM object
        (and one flushed audit event) per document."""
        now, user = self.clock.now(), self.user
        # written first: on SQLite this takes the write lock, which makes reserve_ids safe
        record_blobs(s, [(p[0], p[1]) for p in prepared], now)  # idempotent: uploads may race the import
        doc_ids = reserve_ids(s, Document.__table__, len(prepared))
        version_ids = reserve_ids(s, DocumentVersion.__table__, len(prepared))
        rows = list(zip(doc_ids, version_ids, prepared, strict=True))
        s.execute(insert(Document), [
            dict(id=d, title=title, kind="file", department_id=user.department_id, created_by=user.id,
                 created_at=now, updated_at=now, current_version=1, revision=1, catalogue=self.catalogue)
            for d, _v, (_stored, _media_type, _filename, title, _text) in rows])
        s.execute(insert(DocumentVersion), [
            dict(id=v, document_id=d, number=1, blob_sha256=stored.sha256, filename=filename, created_by=user.id,
                 created_at=now)
            for d, v, (stored, _media_type, filename, _title, _text) in rows])
        AuditLog(s, self.clock).record_many(user, [
            ("document.upload", "document", d, {
                "title": title, "version": 1, "filename": filename, "size": stored.size, "sha256": stored.sha256,
                "sm3": stored.sm3, "media_type": media_type, "via": "import-corpus"})
            for d, _v, (stored, media_type, filename, title, _text) in rows])
        s.execute(insert(TextExtraction), [
            dict(version_id=v, document_id=d, status=text.status, method=text.method, text=text.text,
                 chars=len(text.text), error=text.error, extracted_at=now)
            for d, v, (_stored, _media_type, _filename, _title, text) in rows])
        outbox.enqueue_many(s, self.clock, [(d, 1) for d in doc_ids])

    def run(self, items: Iterator[dict], limit: int | None = None,
            progress: Callable[[int], None] | None = None) -> ImportReport:
        report = ImportReport()

        def finish(futures) -> None:
            prepared = []
            for n, (item, fut) in enumerate(futures):
                try:
                    prepared.append(fut.result())
                except Unprocessable as exc:
                    report.skipped += 1
                    report.errors.append(f"{item.get('id', n + 1)}: {exc.message}")
            if prepared:
                self._commit_batch(prepared)
                report.imported += len(prepared)
            if progress:
                progress(len(futures))

        # Pipeline: the next batch's blobs are stored (threads overlap the fsync waits) while the
        # current batch commits. A batch commits only after all of its blobs are stored.
        chunk: list = []
        waiting = None
        with ThreadPoolExecutor(max_workers=STORE_THREADS) as pool:
            for n, item in enumerate(items):
                if limit is not None and n >= limit:
                    break
                chunk.append((item, pool.submit(self._store, item)))
                if len(chunk) >= self.batch:
                    if waiting:
                        finish(waiting)
                    waiting, chunk = chunk, []
            for futures in (waiting, chunk):
                if futures:
                    finish(futures)
        return report
