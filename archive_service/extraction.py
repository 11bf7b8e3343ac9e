"""The extraction queue: text extraction runs beside indexing, one document at a time, in the sandbox.

The indexer never parses a file. A document whose current version has no extracted text yet is
indexed by its title at once and gets an ``ExtractionJob``; the worker's extraction thread takes one
job at a time (``run_one``):

1. a short transaction claims the job (a lease: ``available_at`` moves ahead of the clock),
2. the file is read and extracted in the sandbox, outside any transaction (limits in ``Limits``),
3. a short transaction stores the ``TextExtraction``, deletes the job and enqueues the document
   for indexing again, now with its text.

So a slow or hostile file holds neither a database transaction nor the search queue; it costs the
extraction thread at most its limits, and everything else stays searchable meanwhile. OCR progress
(``pages_done`` / ``pages_total``) is written as pages finish, which also renews the lease.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from . import outbox
from .clock import Clock
from .extract import Extraction
from .indexing_models import ExtractionJob, TextExtraction
from .models import Blob, Document, DocumentVersion
from .sandbox import Sandbox
from .storage.base import ObjectStore

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a job whose worker died this often during extraction is recorded as failed


def enqueue_many(session: Session, clock: Clock, versions: list[tuple[int, int]]) -> None:
    """Queue ``(version_id, document_id)`` pairs that have neither text nor a job yet."""
    if not versions:
        return
    ids = [v for v, _ in versions]
    known = set(session.scalars(select(ExtractionJob.version_id).where(ExtractionJob.version_id.in_(ids))))
    known |= set(session.scalars(select(TextExtraction.version_id).where(TextExtraction.version_id.in_(ids))))
    now = clock.now()
    for version_id, document_id in versions:
        if version_id not in known:
            known.add(version_id)
            session.add(ExtractionJob(version_id=version_id, document_id=document_id, attempts=0,
                                      available_at=now, pages_done=0, pages_total=0))


def store_extraction(session: Session, clock: Clock, version_id: int, document_id: int,
                     result: Extraction) -> TextExtraction:
    row = TextExtraction(version_id=version_id, document_id=document_id, status=result.status,
                         method=result.method, text=result.text, chars=len(result.text), error=result.error,
                         extracted_at=clock.now())
    session.add(row)
    return row


@dataclass
class _Claimed:
    version_id: int
    document_id: int
    sha256: str
    media_type: str
    filename: str
    attempts: int


class ExtractionQueue:
    """The worker's extraction job (see worker.py)."""

    def __init__(self, store: ObjectStore, clock: Clock, sandbox: Sandbox):
        self.store = store
        self.clock = clock
        self.sandbox = sandbox
        self.lease = timedelta(seconds=sandbox.limits.wall_seconds + 60)

    def run_one(self, factory: sessionmaker[Session], worker: str = "") -> int:
        """Extract one queued version; returns 1 if a job was handled, 0 if none was due."""
        job = self._claim(factory, worker)
        if job is None:
            return 0
        if isinstance(job, int):
            return job
        try:
            chunks = self.store.open(job.sha256)
            try:
                data = b"".join(chunks)
            finally:
                close = getattr(chunks, "close", None)
                if close:
                    close()
        except Exception as exc:  # the store failed: retry with backoff, then record it
            if job.attempts < MAX_ATTEMPTS:
                self._retry(factory, job, exc)
                return 1
            result = Extraction("failed", "read", error=f"读取文件失败：{exc}"[:2000])
        else:
            result = self.sandbox.extract(data, job.media_type, job.filename,
                                          progress=lambda done, total: self._progress(factory, job, done, total))
            del data
        self._finish(factory, job, result)
        return 1

    # -- the short transactions around the extraction ---------------------------------------------
    def _claim(self, factory, worker: str) -> _Claimed | int | None:
        with factory() as s:
            now = self.clock.now()
            row = s.scalars(select(ExtractionJob).where(ExtractionJob.available_at <= now)
                            .order_by(ExtractionJob.available_at, ExtractionJob.version_id).limit(1)
                            .with_for_update(skip_locked=True)).first()
            if row is None:
                s.rollback()
                return None
            version = s.get(DocumentVersion, row.version_id)
            doc = s.get(Document, row.document_id)
            if version is None or doc is None or s.get(TextExtraction, row.version_id) is not None:
                s.delete(row)
                if doc is not None:
                    outbox.enqueue(s, self.clock, doc.id, doc.revision)
                s.commit()
                return 1
            if row.attempts >= MAX_ATTEMPTS:  # extraction was interrupted every time (worker killed)
                store_extraction(s, self.clock, row.version_id, row.document_id, Extraction(
                    "failed", "sandbox", error=f"提取 {row.attempts} 次均未完成，已放弃"))
                s.delete(row)
                outbox.enqueue(s, self.clock, doc.id, doc.revision)
                s.commit()
                return 1
            row.attempts += 1
            row.available_at = now + self.lease
            row.started_at = now
            row.pages_done = row.pages_total = 0
            row.worker = worker[:80] or None
            blob = s.get(Blob, version.blob_sha256)
            job = _Claimed(row.version_id, row.document_id, version.blob_sha256,
                           blob.media_type if blob else "", version.filename, row.attempts)
            s.commit()
            return job

    def _progress(self, factory, job: _Claimed, done: int, total: int) -> None:
        try:
            with factory() as s:
                row = s.get(ExtractionJob, job.version_id)
                if row is not None:
                    row.pages_done, row.pages_total = done, total
                    row.available_at = self.clock.now() + self.lease
                    s.commit()
        except Exception:  # progress is for display; the extraction goes on
            log.exception("could not record extraction progress")

    def _retry(self, factory, job: _Claimed, exc: Exception) -> None:
        log.warning("extraction of version %s: store read failed (%s); retrying later", job.version_id, exc)
        with factory() as s:
            row = s.get(ExtractionJob, job.version_id)
            if row is not None:
                row.available_at = self.clock.now() + outbox.backoff(row.attempts)
                s.commit()

    def _finish(self, factory, job: _Claimed, result: Extraction) -> None:
        with factory() as s:
            try:
                if s.get(TextExtraction, job.version_id) is None:
                    store_extraction(s, self.clock, job.version_id, job.document_id, result)
                row = s.get(ExtractionJob, job.version_id)
                if row is not None:
                    s.delete(row)
                doc = s.get(Document, job.document_id)
                if doc is not None:
                    outbox.enqueue(s, self.clock, doc.id, doc.revision)
                s.commit()
            except IntegrityError:  # the version was deleted meanwhile, or another worker stored it first
                s.rollback()
