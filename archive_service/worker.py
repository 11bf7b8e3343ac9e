"""The worker: idempotent jobs run in a loop (outbox drain, text extraction, orphan collection, fixity).

Several workers may run at once: outbox rows are claimed with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so each row is handled exactly once. The search issue plugs its indexer in through
``SearchSink``; until then the sink accepts every record. Text extraction (``ExtractionJob`` rows,
see extraction.py) runs in its own thread beside the drain, so a slow file never holds indexing.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from . import outbox
from .audit import write_anchor
from .clock import Clock
from .db import transaction
from .documents import collect_orphans
from .errors import Conflict
from .fixity import run_fixity
from .models import OutboxEntry
from .storage.base import ObjectStore

log = logging.getLogger(__name__)


class SearchSink(Protocol):
    def apply(self, session: Session, entries: list[OutboxEntry]) -> None:
        """Index (or delete from the index) the documents the entries name; raise to retry later."""


class NullSearchSink:
    """Accepts everything: used until a search backend is configured."""

    def apply(self, session: Session, entries: list[OutboxEntry]) -> None:
        return None


class Extractor(Protocol):
    def run_batch(self, factory: sessionmaker[Session], worker: str = "") -> int:
        """Handle a batch of due extraction jobs; how many were handled (0: none was due)."""


class Worker:
    def __init__(self, factory: sessionmaker[Session], store: ObjectStore, clock: Clock,
                 search: SearchSink | None = None, gc_grace: timedelta = timedelta(hours=24),
                 batch: int = 200, fixity_sample: int = 20, name: str | None = None,
                 extractor: Extractor | None = None, extraction_check: Callable[[], object] | None = None,
                 anchor_every: timedelta = timedelta(hours=1), anchor_retention_days: int = 3650):
        self.factory = factory
        self.anchor_every = anchor_every
        self.anchor_retention_days = anchor_retention_days
        self.store = store
        self.clock = clock
        self.search = search or NullSearchSink()
        self.extractor = extractor
        self.extraction_check = extraction_check  # run by the extraction thread before its first job
        self.gc_grace = gc_grace
        self.batch = batch
        self.fixity_sample = fixity_sample
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self._stop = threading.Event()
        self._housekeeping: list = []
        self._frequent: list = []

    def add_frequent(self, job) -> None:
        """A feature's job ``job() -> None`` run on every pass of the loop (cheap when idle, e.g. the
        archive's pending 归档章 copies); a failing job is logged and does not stop the others."""
        self._frequent.append(job)

    def add_housekeeping(self, job) -> None:
        """A feature's periodic job ``job() -> None`` (e.g. the archive's check sample), run with the
        core's housekeeping; a failing job is logged and does not stop the others."""
        self._housekeeping.append(job)

    # -- jobs ------------------------------------------------------------------------------------
    def drain_outbox(self) -> int:
        """Handle one batch of search outbox rows; returns how many were handled."""
        session = self.factory()
        try:
            entries = outbox.claim(session, self.clock, outbox.SEARCH, self.batch)
            if not entries:
                session.rollback()
                return 0
            try:
                self.search.apply(session, entries)
            except Exception as exc:  # the sink failed: retry later, keep the reason
                log.warning("search sink failed: %s", exc)
                for e in entries:
                    e.attempts += 1
                    e.last_error = str(exc)[:2000]
                    e.available_at = self.clock.now() + outbox.backoff(e.attempts)
                session.commit()
                return 0
            now = self.clock.now()
            for e in entries:
                e.processed_at = now
                e.processed_by = self.name
                e.attempts += 1
                e.last_error = None
            session.commit()
            return len(entries)
        except OperationalError as exc:  # SQLite writer contention: another worker got there first
            session.rollback()
            log.info("outbox claim contended: %s", exc.orig)
            return 0
        finally:
            session.close()

    def extract_next(self) -> int:
        """Extract the text of a batch of queued document versions (in the sandbox); 0 if none was due."""
        if self.extractor is None:
            return 0
        try:
            return self.extractor.run_batch(self.factory, self.name)
        except OperationalError as exc:  # SQLite writer contention: try again on the next round
            log.info("extraction claim contended: %s", exc.orig)
            return 0

    def drain(self) -> int:
        """Handle everything due now: search outbox and extraction queue, until both are empty."""
        total = 0
        while True:  # extraction first: a document whose text is ready is indexed once, with it
            n = 0
            while k := self.extract_next():
                n += k
            while k := self.drain_outbox():
                n += k
            if not n:
                return total
            total += n

    # Each job is one unit of work: it commits when it ends, or rolls everything back.
    def collect_orphans(self) -> list[str]:
        with transaction(self.factory) as session:
            return collect_orphans(session, self.store, self.clock, self.gc_grace)

    def sample_fixity(self) -> int:
        with transaction(self.factory) as session:
            return run_fixity(session, self.store, self.clock, limit=self.fixity_sample).checked

    def anchor_audit(self) -> str | None:
        """Write the audit chain's head to the object store (write-once, object lock where available)."""
        with self.factory() as session:
            try:
                return write_anchor(session, self.store, self.clock, self.anchor_retention_days)
            except Conflict:  # another worker anchored the same head a moment ago
                return None

    # -- loop ------------------------------------------------------------------------------------
    def run(self, interval: float = 1.0, housekeeping_every: float = 3600.0, once: bool = False) -> None:
        """Drain continuously; collect orphans and sample fixity every ``housekeeping_every`` seconds."""
        last_housekeeping = last_anchor = None
        extracting = None
        if not once and self.extractor is not None:
            extracting = threading.Thread(target=self._extract_loop, args=(interval,), name="archive-extract",
                                          daemon=True)
            extracting.start()
        while not self._stop.is_set():
            try:
                if once:
                    self.drain()
                while self.drain_outbox():
                    pass
                for job in self._frequent:
                    try:
                        job()
                    except Exception:
                        log.exception("worker job failed")
                now = self.clock.now()
                if last_anchor is None or now - last_anchor >= self.anchor_every:
                    last_anchor = now
                    try:
                        self.anchor_audit()
                    except Exception:
                        log.exception("audit anchoring failed")
                if last_housekeeping is None or (now - last_housekeeping).total_seconds() >= housekeeping_every:
                    last_housekeeping = now
                    self.collect_orphans()
                    self.sample_fixity()
                    for job in self._housekeeping:
                        try:
                            job()
                        except Exception:
                            log.exception("housekeeping job failed")
            except Exception:  # a job failing must not stop the worker
                log.exception("worker job failed")
            if once:
                return
            self._stop.wait(interval)
        if extracting is not None:
            extracting.join(5)

    def _extract_loop(self, interval: float) -> None:
        if self.extraction_check is not None:
            try:
                self.extraction_check()
            except Exception:  # e.g. the OCR smoke page was not read: extract nothing rather than wrongly
                log.critical("text extraction NOT started: sandbox check failed", exc_info=True)
                return
        while not self._stop.is_set():
            try:
                if self.extract_next():
                    continue
            except Exception:  # a job failing must not stop the thread
                log.exception("extraction job failed")
            self._stop.wait(interval)

    def stop(self) -> None:
        self._stop.set()

    def start_thread(self, interval: float = 1.0) -> threading.Thread:
        t = threading.Thread(target=self.run, kwargs={"interval": interval}, name="archive-worker", daemon=True)
        t.start()
        return t
