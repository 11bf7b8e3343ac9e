"""The handover feature as the Runtime sees it: its tables (migration ``handover_0001`` in the core's
versions folder, next to the archive's). Listed once in ``archive_service.wiring.FEATURES``."""
from __future__ import annotations

from ..features import Feature
from . import models

FEATURE = Feature(name="handover", models=(models,))
