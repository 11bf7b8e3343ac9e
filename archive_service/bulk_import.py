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

from sqlalchemy.orm import Session, sessionmaker

from . import mediatype, outbox
from .audit import AuditLog
from .clock import Clock
from .db import transaction
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
        now, audit = self.clock.now(), AuditLog(s, self.clock)
        record_blobs(s, [(p[0], p[1]) for p in prepared], now)  # idempotent: uploads may race the import
        docs = []
        for stored, _media_type, filename, title, _text in prepared:
            doc = Document(title=title, kind="file", department_id=self.user.department_id,
                           created_by=self.user.id, created_at=now, updated_at=now, current_version=1,
                           revision=1, catalogue=self.catalogue)
            version = DocumentVersion(document=doc, number=1, blob_sha256=stored.sha256, filename=filename,
                                      created_by=self.user.id, created_at=now)
            s.add_all([doc, version])
            docs.append((doc, version))
        s.flush()
        for (doc, _version), (stored, media_type, filename, title, _text) in zip(docs, prepared, strict=True):
            audit.record(self.user, "document.upload", "document", doc.id, {
                "title": title, "version": 1, "filename": filename, "size": stored.size,
                "sha256": stored.sha256, "sm3": stored.sm3, "media_type": media_type, "via": "import-corpus"})
        # after the audit events (each flushes): these go in as a few multi-row inserts at commit
        for (doc, version), (_stored, _media_type, _filename, _title, text) in zip(docs, prepared, strict=True):
            s.add(TextExtraction(version_id=version.id, document_id=doc.id, status=text.status,
                                 method=text.method, text=text.text, chars=len(text.text), error=text.error,
                                 extracted_at=now))
            outbox.enqueue(s, self.clock, doc.id, doc.revision)

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
