"""The archive's worker jobs: 归档章 copies still pending (bulk import), retention locks still pending,
and a sample of four-property checks (oldest-checked first), each in its own unit of work."""
from __future__ import annotations

import logging

from .service import archive_for

log = logging.getLogger(__name__)


class ArchiveJobs:
    def __init__(self, rt, sample: int = 20):
        self.rt, self.sample = rt, sample

    def derive_pending_stamps(self, batch: int = 50) -> int:
        """归档章 copies of items filed by a bulk import, a batch per unit of work, until none is left."""
        total = 0
        while True:
            with self.rt.factory() as session:
                svc = archive_for(self.rt, session)
                items = svc.pending_stamps(batch)
                for item in items:
                    svc.derive_stamp(item)
                session.commit()
            total += len(items)
            if len(items) < batch:
                return total

    def apply_pending_retention(self) -> int:
        with self.rt.factory() as session:
            svc = archive_for(self.rt, session)
            items = svc.pending_retention()
            for item in items:
                svc.apply_retention(item)
            session.commit()
            return len(items)

    def check_sample(self) -> int:
        with self.rt.factory() as session:
            svc = archive_for(self.rt, session)
            items = svc.sample_for_checks(self.sample)
            for item in items:
                report = svc.check(item, "worker")
                if not report.passed:
                    log.warning("archive item %s failed its checks: %s", item.archival_code, report.summary())
                session.commit()
            return len(items)

    def run(self) -> None:
        self.derive_pending_stamps()
        self.apply_pending_retention()
        self.check_sample()
