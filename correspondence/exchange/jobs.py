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


def make_digest(runtime):
    """``job()`` for the worker's housekeeping: the daily e-mail digests (nothing without ARCHIVE_SMTP_URL)."""
    from .mail import send_digests

    def job() -> int:
        n = send_digests(runtime)
        if n:
            log.info("sent %d notification digests", n)
        return n

    return job
