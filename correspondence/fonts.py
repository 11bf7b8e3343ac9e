"""Re-export: the font roles moved to ``archive_service.rendering.fonts`` (shared with the archive)."""
from archive_service.rendering.fonts import *  # noqa: F403
from archive_service.rendering.fonts import _registered, _split  # noqa: F401
