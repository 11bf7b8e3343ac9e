"""The wiring layer's list of feature packages: the one place that names them.

The web app (``web.create_app``), the CLI and the worker build their Runtime with these features;
the core below never imports a feature package. A new feature package adds its ``Feature`` here
(and its web modules to ``web.WEB_MODULES``).
"""
from __future__ import annotations

from correspondence.exchange.feature import FEATURE as EXCHANGE
from correspondence.feature import FEATURE as CORRESPONDENCE

from .archive.feature import FEATURE as ARCHIVE
from .features import Feature
from .handover.feature import FEATURE as HANDOVER
from .lookup.feature import FEATURE as LOOKUP
from .runtime import Runtime
from .settings import Settings

FEATURES: tuple[Feature, ...] = (CORRESPONDENCE, ARCHIVE, LOOKUP, HANDOVER, EXCHANGE)


def build_runtime(settings: Settings | None = None, **kw) -> Runtime:
    """A Runtime with every feature installed (settings from the environment by default)."""
    return Runtime.build(settings or Settings.from_env(), features=FEATURES, **kw)
