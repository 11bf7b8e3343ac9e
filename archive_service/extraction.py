"""The extraction queue: text extraction runs beside indexing, one document at a time, in the sandbox.

The indexer never parses a file. Every new version gets an ``ExtractionJob`` in its upload
transaction (the indexer also queues any version it finds without text); until its text is stored
the document is indexed by its title. The worker's extraction thread takes one
batch at a time (``run_batch``):

1. a short transaction claims a batch of due jobs (a lease: ``available_at`` moves ahead of the clock),
2. each file is read and extracted in the sandbox, outside any transaction (limits in ``Limits``),
3. a short transaction stores the ``TextExtraction`` rows, deletes the jobs and enqueues the
   documents for indexing again, now with their text — once per run of plain-text files, and
   before any other file starts, so a slow file never holds results that are ready.

So a slow or hostile file holds neither a database transaction nor the search queue; it costs the
extraction thread at most its limits, and everything else stays searchable meanwhile. OCR progress
(``pages_done`` / ``pages_total``) is written as pages finish, which also renews the lease.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from . import outbox
from .clock import Clock
from .extract import Extraction, kind_of
from .indexing_models import ExtractionJob, TextExtraction
from .models import Blob, Document, DocumentVersion
from .sandbox import Sandbox
from .storage.base import ObjectStore

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a job whose worker died this often during extraction is recorded as failed
BATCH = 50  # jobs claimed at once
BATCH_SECONDS = 1.0  # after this, the unstarted rest of a batch is handed back
PARTIAL = "partial"  # status of the text of the OCR pages read so far, while the rest is being read
PARTIAL_EVERY = 10.0  # seconds between stores of the pages read so far (each one re-indexes the document)


class _Pages:
    """The sandbox's progress callback for one job: counts pages, and every ``PARTIAL_EVERY``
    seconds stores the text read so far so the document is searchable page by page."""

    def __init__(self, queue: ExtractionQueue, factory, job: _Claimed):
        self.queue, self.factory, self.job = queue, factory, job
        self.pages: list[str] = []
        self.last = time.monotonic()

    def __call__(self, done: int, total: int, text: str) -> None:
        self.pages.append(text)
        partial = None
        if done < total and time.monotonic() - self.last >= PARTIAL_EVERY:
            partial, self.last = "\n".join(self.pages), time.monotonic()
        self.queue._progress(self.factory, self.job, done, total, partial)
        if self.queue.on_pages is not None:
            self.queue.on_pages(self.job.document_id, done, total)


def enqueue_many(session: Session, clock: Clock, versions: list[tuple[int, int]]) -> None:
    """Queue ``(version_id, document_id)`` pairs that have neither text nor a job yet."""
    if not versions:
        return
    ids = [v for v, _ in versions]
    known = set(session.scalars(select(ExtractionJob.version_id).where(ExtractionJob.version_id.in_(ids))))
    known |= set(session.scalars(select(TextExtraction.version_id).where(TextExtraction.version_id.in_(ids),
                                                                         TextExtraction.status != PARTIAL)))
    now = clock.now()
    rows = []
    for version_id, document_id in versions:
        if version_id not in known:
            known.add(version_id)
            rows.append(dict(version_id=version_id, document_id=document_id, attempts=0, available_at=now,
                             pages_done=0, pages_total=0))
    if rows:
        session.execute(insert(ExtractionJob), rows)  # one batch of plain rows


@dataclass(frozen=True)
class ExtractionProgress:
    """Where the text extraction of a set of documents stands (e.g. the files of one archive import)."""
    documents: int      # documents asked about
    waiting: int        # with a queued or running extraction job
    pages_done: int     # OCR pages read so far by the running jobs
    pages_total: int    # OCR pages of the running jobs (known once their OCR started)

    @property
    def done(self) -> int:
        return self.documents - self.waiting


def progress_of(session: Session, document_ids: list[int] | Select) -> ExtractionProgress:
    """Extraction and OCR progress of ``document_ids`` (a list, or a select of document ids: the files
    of one archive import) — for an import's progress bar."""
    if isinstance(document_ids, Select):
        count = session.scalar(select(func.count()).select_from(document_ids.subquery())) or 0
    else:
        count = len(set(document_ids))
    if not count:
        return ExtractionProgress(0, 0, 0, 0)
    waiting, done, total = session.execute(
        select(func.count(func.distinct(ExtractionJob.document_id)),
               func.coalesce(func.sum(ExtractionJob.pages_done), 0),
               func.coalesce(func.sum(ExtractionJob.pages_total), 0))
        .where(ExtractionJob.document_id.in_(document_ids))).one()
    return ExtractionProgress(count, int(waiting), int(done), int(total))


def store_extraction(session: Session, clock: Clock, version_id: int, document_id: int,
                     result: Extraction) -> TextExtraction:
    row = TextExtraction(version_id=version_id, document_id=document_id, status=result.status,
                         method=result.method, text=result.text, chars=len(result.text), error=result.error,
                         extracted_at=clock.now(), page_ends=result.page_ends,
                         layout=result.layout if any(result.layout) else None)
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

    @property
    def cheap(self) -> bool:
        """Plain text: decoded in linear time, so a batch of them shares its transactions."""
        return kind_of(self.media_type, self.filename) == "text"


class ExtractionQueue:
    """The worker's extraction job (see worker.py)."""

    def __init__(self, store: ObjectStore, clock: Clock, sandbox: Sandbox):
        self.store = store
        self.clock = clock
        self.sandbox = sandbox
        self.lease = timedelta(seconds=sandbox.limits.wall_seconds + 60)
        #: called with (document id, pages read, pages in all) as OCR pages finish (a progress bar)
        self.on_pages: Callable[[int, int, int], None] | None = None

    def run_batch(self, factory: sessionmaker[Session], worker: str = "",
                  documents: Collection[int] | None = None) -> int:
        """Extract a batch of due jobs (only those of ``documents`` when given: the files an import
        just filed); returns how many were handled (0: none was due).

        Results are stored in one transaction per run of cheap (plain text) files; before any other
        file the results so far are stored, and after ``BATCH_SECONDS`` the unstarted rest of the
        batch is handed back, so a slow file never holds the text of the files claimed with it.
        """
        jobs, handled = self._claim(factory, worker, documents)
        done: list[tuple[_Claimed, Extraction]] = []
        started = time.monotonic()
        for i, job in enumerate(jobs):
            if done and not job.cheap:
                handled += self._finish(factory, done)
                done = []
            result = self._extract(factory, job)
            if result is None:
                handled += 1  # retried later
            else:
                done.append((job, result))
            if time.monotonic() - started > BATCH_SECONDS and i + 1 < len(jobs):
                self._release(factory, jobs[i + 1:])
                break
        if done:
            handled += self._finish(factory, done)
        return handled

    def _extract(self, factory, job: _Claimed) -> Extraction | None:
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
                return None
            return Extraction("failed", "read", error=f"读取文件失败：{exc}"[:2000])
        return self.sandbox.extract(data, job.media_type, job.filename,
                                    progress=_Pages(self, factory, job))

    # -- the short transactions around the extraction ---------------------------------------------
    def _claim(self, factory, worker: str, documents: Collection[int] | None = None
               ) -> tuple[list[_Claimed], int]:
        with factory() as s:
            now = self.clock.now()
            q = select(ExtractionJob).where(ExtractionJob.available_at <= now)
            if documents is not None:
                q = q.where(ExtractionJob.document_id.in_(sorted(documents)))
            rows = s.scalars(q.order_by(ExtractionJob.available_at, ExtractionJob.version_id).limit(BATCH)
                             .with_for_update(skip_locked=True)).all()
            if not rows:
                s.rollback()
                return [], 0
            ids = [r.version_id for r in rows]
            info = {v.id: v for v in s.execute(
                select(DocumentVersion.id, DocumentVersion.document_id, DocumentVersion.blob_sha256,
                       DocumentVersion.filename, DocumentVersion.number, Blob.media_type, Document.revision,
                       Document.current_version)
                .join(Blob, Blob.sha256 == DocumentVersion.blob_sha256)
                .join(Document, Document.id == DocumentVersion.document_id)
                .where(DocumentVersion.id.in_(ids)))}
            have_text = set(s.scalars(select(TextExtraction.version_id).where(
                TextExtraction.version_id.in_(ids), TextExtraction.status != PARTIAL)))
            jobs, handled = [], 0
            for row in rows:
                v = info.get(row.version_id)
                if v is None or row.version_id in have_text or v.number != v.current_version:
                    s.delete(row)  # done, gone, or superseded by a newer version (which has its own job)
                    if v is not None:
                        outbox.enqueue(s, self.clock, v.document_id, v.revision)
                    handled += 1
                elif row.attempts >= MAX_ATTEMPTS:  # extraction was interrupted every time (worker killed)
                    partial = s.get(TextExtraction, row.version_id)
                    if partial is not None:
                        s.delete(partial)
                        s.flush()
                    store_extraction(s, self.clock, row.version_id, row.document_id, Extraction(
                        "failed", "sandbox", error=f"提取 {row.attempts} 次均未完成，已放弃"))
                    s.delete(row)
                    outbox.enqueue(s, self.clock, v.document_id, v.revision)
                    handled += 1
                else:
                    row.attempts += 1
                    row.available_at = now + self.lease
                    row.started_at = now
                    row.pages_done = row.pages_total = 0
                    row.worker = worker[:80] or None
                    jobs.append(_Claimed(row.version_id, v.document_id, v.blob_sha256, v.media_type or "",
                                         v.filename, row.attempts))
            s.commit()
            return jobs, handled

    def _progress(self, factory, job: _Claimed, done: int, total: int, partial: str | None) -> None:
        """Record OCR progress (and renew the lease); with ``partial`` text, store it as a ``partial``
        extraction and enqueue the document, so the pages read so far are searchable already."""
        try:
            with factory() as s:
                row = s.get(ExtractionJob, job.version_id)
                if row is None:
                    return
                row.pages_done, row.pages_total = done, total
                row.available_at = self.clock.now() + self.lease
                if partial is not None:
                    text = s.get(TextExtraction, job.version_id)
                    if text is None:
                        store_extraction(s, self.clock, job.version_id, job.document_id,
                                         Extraction("partial", "ocr", partial))
                    elif text.status == PARTIAL:
                        text.text, text.chars, text.extracted_at = partial, len(partial), self.clock.now()
                    doc = s.get(Document, job.document_id)
                    if doc is not None:
                        outbox.enqueue(s, self.clock, doc.id, doc.revision)
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

    def _release(self, factory, jobs: list[_Claimed]) -> None:
        """Hand back claimed jobs that were not started (due again at once, the attempt not counted)."""
        with factory() as s:
            for row in s.scalars(select(ExtractionJob).where(
                    ExtractionJob.version_id.in_([j.version_id for j in jobs]))):
                row.available_at = self.clock.now()
                row.attempts = max(0, row.attempts - 1)
                row.started_at = row.worker = None
            s.commit()

    def _finish(self, factory, done: list[tuple[_Claimed, Extraction]]) -> int:
        """Store results, delete their jobs and enqueue their documents for indexing: one transaction."""
        with factory() as s:
            try:
                self._store(s, done)
                s.commit()
                return len(done)
            except IntegrityError:  # a version was deleted meanwhile: store the others one by one
                s.rollback()
        for item in done:
            with factory() as s:
                try:
                    self._store(s, [item])
                    s.commit()
                except IntegrityError:
                    s.rollback()
        return len(done)

    def _store(self, s: Session, done: list[tuple[_Claimed, Extraction]]) -> None:
        ids = [job.version_id for job, _ in done]
        have = {row.version_id: row for row in s.scalars(select(TextExtraction).where(
            TextExtraction.version_id.in_(ids)))}
        for job, result in done:
            row = have.get(job.version_id)
            if row is not None and row.status == PARTIAL:  # the pages read so far: replaced by the result
                s.delete(row)
                s.flush()
                row = None
            if row is None:
                store_extraction(s, self.clock, job.version_id, job.document_id, result)
        s.execute(delete(ExtractionJob).where(ExtractionJob.version_id.in_(ids)))
        revisions = dict(s.execute(select(Document.id, Document.revision).where(
            Document.id.in_({job.document_id for job, _ in done}))).all())
        for doc_id, revision in revisions.items():
            outbox.enqueue(s, self.clock, doc_id, revision)


def state_of(session: Session, version_id: int | None) -> tuple[TextExtraction | None, ExtractionJob | None]:
    """A version's extraction row (or None) and, while none or partial, its queued job (or None)."""
    if version_id is None:
        return None, None
    row = session.get(TextExtraction, version_id)
    pending = row is None or row.status == "partial"
    return row, session.get(ExtractionJob, version_id) if pending else None


def searchable_copy(session: Session, store: ObjectStore, sandbox: Sandbox, version_id: int,
                    font: str | None = None) -> bytes | None:
    """A searchable PDF of an OCR'd version (scanned PDF or image): the pages untouched, an invisible
    text layer from the stored OCR boxes. None when the version was not OCR'd. The stored original is
    not changed; the caller decides where the copy goes (e.g. an archive item's rendition).

    Built in the sandbox (it parses the original); raises ``SandboxError`` when that fails."""
    from .rendering.fonts import FontConfig

    row = session.get(TextExtraction, version_id)
    if row is None or not row.layout:
        return None
    version = session.get(DocumentVersion, version_id)
    blob = session.get(Blob, version.blob_sha256) if version is not None else None
    if version is None or blob is None:
        return None
    chunks = store.open(version.blob_sha256)
    try:
        data = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()
    return sandbox.searchable_pdf(data, blob.media_type, version.filename, row.layout,
                                  font or FontConfig.from_env().files["fangsong"])
