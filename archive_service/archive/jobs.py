"""The archive's worker jobs: uploaded imports (queued, or left running by a worker that stopped), 归档章
copies still pending (bulk import), retention locks still pending, and a sample of four-property checks
(oldest-checked first), each in its own unit of work."""
from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
from datetime import timedelta

from sqlalchemy import and_, or_, select

from ..errors import DomainError
from ..models import Department, User
from .importer import Importer, find_catalogue
from .models import ImportRun
from .service import archive_for

log = logging.getLogger(__name__)

IMPORT_LEASE = timedelta(minutes=10)  # renewed after every chunk; past it, another worker takes the run up
IMPORT_ATTEMPTS = 3  # a run interrupted this often is marked failed (the page can queue it again)


class ArchiveJobs:
    def __init__(self, rt, sample: int = 20, import_batch: int = 50):
        self.rt, self.sample, self.import_batch = rt, sample, import_batch
        self._importing: threading.Thread | None = None

    def start_queued_imports(self) -> bool:
        """The worker loop's job: import waiting uploads in a thread of their own (the loop goes on
        draining the search outbox meanwhile, so imported items become searchable as chunks commit)."""
        if self._importing is not None and self._importing.is_alive():
            return False
        with self.rt.factory() as session:
            if session.scalar(select(ImportRun.id).where(self._claimable(self.rt.clock.now())).limit(1)) is None:
                return False
        # not a daemon: `worker --once` (and a normal exit) waits for the import to finish its runs; a
        # killed process leaves the run to its lease
        self._importing = threading.Thread(target=self.run_queued_imports, name="archive-import", daemon=False)
        self._importing.start()
        return True

    # -- uploaded imports ---------------------------------------------------------------------------
    def run_queued_imports(self) -> int:
        """Import the uploads waiting for a worker, one after the other; a run still "running" past its
        lease (its worker was stopped or restarted half-way) is resumed: the rows it committed are
        found again and skipped, the rest imported."""
        done = 0
        while (run_id := self._claim_import()) is not None:
            self._import(run_id)
            done += 1
        return done

    def _claim_import(self) -> int | None:
        """The oldest claimable run, leased to this worker (one unit of work per run looked at: a run
        given up on is marked failed and the next one is looked at)."""
        clock = self.rt.clock
        while True:
            with self.rt.transaction() as session:
                now = clock.now()
                run = session.scalar(select(ImportRun).where(self._claimable(now))
                                     .order_by(ImportRun.id).limit(1).with_for_update(skip_locked=True))
                if run is None:
                    return None
                run.attempts = (run.attempts or 0) + 1
                if run.folder and run.attempts <= IMPORT_ATTEMPTS:
                    run.status, run.worker = "running", f"{socket.gethostname()}:{os.getpid()}"
                    run.lease_until = now + IMPORT_LEASE
                    return run.id
                run.status, run.finished_at = "failed", now
                run.message = ("导入中断：服务重启时上传的文件已不可用，请重新上传" if not run.folder
                               else f"导入多次中断（{IMPORT_ATTEMPTS} 次），请检查文件后点击“继续导入”")

    @staticmethod
    def _claimable(now):
        """Queued, or left running past its lease (by a worker that stopped)."""
        stale = and_(ImportRun.status == "running", or_(ImportRun.lease_until.is_(None), ImportRun.lease_until < now))
        return or_(ImportRun.status == "queued", stale)

    def _import(self, run_id: int) -> None:
        """One uploaded import. Each chunk of rows is its own unit of work (committed as the chunk ends,
        with the lease renewed), so a run cut off half-way resumes after its last chunk."""
        rt = self.rt
        with rt.factory() as session:
            run = session.get_one(ImportRun, run_id)
            folder = rt.settings.instance / run.folder
            try:
                importer = Importer(session, archive_for(rt, session), session.get_one(User, run.started_by),
                                    session.get_one(Department, run.department_id))

                def end_batch(keep: bool) -> None:
                    run.lease_until = rt.clock.now() + IMPORT_LEASE  # still alive: renew the lease
                    session.commit()

                catalogue = find_catalogue(folder / "files")  # file names are relative to the catalogue
                importer.run(catalogue.parent, catalogue, end_batch, run=run, batch=self.import_batch)
                run.status, run.finished_at, run.lease_until = "done", rt.clock.now(), None
                session.commit()
                shutil.rmtree(folder, ignore_errors=True)  # the files are in the store now
                return
            except DomainError as exc:
                session.rollback()
                run = session.get_one(ImportRun, run_id)
                run.status, run.message = "refused", exc.message
            except Exception as exc:
                log.exception("archive import %s failed", run_id)
                session.rollback()
                run = session.get_one(ImportRun, run_id)
                run.status, run.message = "failed", f"导入中断：{str(exc)[:500]}"
            run.finished_at, run.lease_until = rt.clock.now(), None
            session.commit()

    def derive_pending_stamps(self, batch: int = 50) -> int:
        """归档章 copies of items filed by a bulk import, a batch per unit of work, until none is left."""
        total = 0
        while True:
            with self.rt.transaction() as session:
                svc = archive_for(self.rt, session)
                items = svc.pending_stamps(batch)
                for item in items:
                    svc.derive_stamp(item)
            total += len(items)
            if len(items) < batch:
                return total

    def apply_pending_retention(self) -> int:
        with self.rt.transaction() as session:
            svc = archive_for(self.rt, session)
            items = svc.pending_retention()
            for item in items:
                svc.apply_retention(item)
        return len(items)

    def check_sample(self) -> int:
        with self.rt.transaction() as session:
            svc = archive_for(self.rt, session)
            items = svc.sample_for_checks(self.sample)
            for item, report in zip(items, svc.check_many(items, "worker"), strict=True):
                if not report.passed:
                    log.warning("archive item %s failed its checks: %s", item.archival_code, report.summary())
        return len(items)

    def run(self) -> None:
        self.run_queued_imports()
        self.derive_pending_stamps()
        self.apply_pending_retention()
        self.check_sample()
