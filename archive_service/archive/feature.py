"""The archive feature as the Runtime sees it: its tables, its search fields, its write guard, its
periodic jobs and its demo fonds. Listed once in ``archive_service.wiring.FEATURES``."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ..documents import register_write_guard
from ..features import Feature
from . import models, search_fields
from .demo import load_archive_demo
from .jobs import ArchiveJobs
from .service import document_freeze_reason


def _setup() -> None:
    register_write_guard(document_freeze_reason)  # a filed document takes no new version


def _demo(session: Session, runtime) -> str | None:
    return "demo fonds (全宗号) created" if load_archive_demo(session, runtime.clock) else None


FEATURE = Feature(
    name="archive",
    models=(models,),
    record_extenders={kind: [search_fields.EXTENDER] for kind in search_fields.KINDS},
    demo=_demo,
    setup=_setup,
    jobs=(lambda rt: ArchiveJobs(rt).run,),
    frequent_jobs=(lambda rt: ArchiveJobs(rt).start_queued_imports, lambda rt: ArchiveJobs(rt).derive_pending_stamps),
)
