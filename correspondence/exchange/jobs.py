"""The exchange's periodic worker job: automatic claim of pushes left unclaimed past their due day."""
from __future__ import annotations

import logging

from .service import ExchangeService

log = logging.getLogger(__name__)


def make_auto_claim(runtime):
    """``job()`` for the worker's housekeeping: one transaction per pass."""

    def job() -> int:
        with runtime.transaction() as session:
            n = ExchangeService(session, runtime.clock).auto_claim()
        if n:
            log.info("auto-claimed %d pushes", n)
        return n

    return job
