"""The correspondence feature as the core sees it: its tables, its Alembic branch, its search fields,
its archive source and its demo data. Listed once in ``archive_service.wiring.FEATURES``."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from archive_service.features import Feature

from . import archive_source, meeting_models, models
from .pki import key_source
from .seal import check_seal_dir
from .search_fields import RECORD_EXTENDERS


def _demo(session: Session, runtime) -> str | None:
    from .demo import load_correspondence_demo  # demo data (and what it imports) only for `init --demo`

    if load_correspondence_demo(session, runtime, key_source(runtime.settings)):
        return "demo letters and meeting created"
    return None


FEATURE = Feature(
    name="correspondence",
    models=(models, meeting_models),
    migrations=Path(__file__).parent / "migrations" / "versions",
    record_extenders=RECORD_EXTENDERS,
    demo=_demo,
    setup=archive_source.register,  # issued letters and minutes are archive sources
    check=check_seal_dir,  # ARCHIVE_SEAL_DIR: transparent PNGs of at most 2 MB, or no start
)
