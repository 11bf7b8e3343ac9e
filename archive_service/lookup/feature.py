"""Archive lookup as the Runtime sees it: its tables, its download guard and its expiry job.
Listed once in ``archive_service.wiring.FEATURES``."""
from __future__ import annotations

from ..documents import register_download_guard
from ..features import Feature
from . import models, original_closed
from .service import expiry_pass


def _setup() -> None:
    register_download_guard(original_closed)  # a lookup grant reads pages and copies, never the original


FEATURE = Feature(
    name="lookup",
    models=(models,),
    setup=_setup,
    jobs=(lambda rt: (lambda: expiry_pass(rt)),),  # access checks compare `until` to the clock meanwhile
)
