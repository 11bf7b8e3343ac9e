"""The 审管互动 exchange as the Runtime sees it: its tables, its Alembic branch, the automatic-claim
job and its demo register. Listed once in ``archive_service.wiring.FEATURES``."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from archive_service.features import Feature

from . import models
from .jobs import make_auto_claim, make_digest


def _demo(session: Session, runtime) -> str | None:
    from .demo import load_exchange_demo  # demo data (and what it imports) only for `init --demo`

    return "demo matter register and pushes created" if load_exchange_demo(session, runtime) else None


FEATURE = Feature(
    name="exchange",
    models=(models,),
    migrations=Path(__file__).parent / "migrations" / "versions",
    demo=_demo,
    jobs=(make_auto_claim, make_digest),
)
