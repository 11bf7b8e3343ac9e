"""Re-export: the GB/T 9704 geometry moved to ``archive_service.rendering.layout`` (shared with the archive)."""
from archive_service.rendering.layout import *  # noqa: F403
from archive_service.rendering.layout import _first_slot_below  # noqa: F401
