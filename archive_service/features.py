"""Feature packages plug into the core explicitly, never by import side effects.

Each feature package (letters and meetings today; archive, handover … later) declares one
``Feature``: the modules that declare its tables, its own Alembic branch (a versions folder), the
fields it adds to search records, and its demo data. The wiring layer (``archive_service.wiring``)
lists the features once; the web app, the CLI and the worker are built from that list through a
``Runtime``. The core itself names no feature package.

Web pages, API blueprints and 我的工作 sections are HTTP, so they are registered by the web layer
(``archive_service.web.create_app``), from the same list of web modules for every app.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class BatchExtender:
    """A record extender for many records at once: ``many(session, records)`` adds its fields with a few
    queries for the whole batch (each record's ``id`` and ``kind`` name its document) instead of a query
    or two per record: a reindex reads every document."""

    many: Callable[[Session, list[dict]], None]


#: ``fn(session, document, record)`` adds fields (``numbers``, ``retention``, ``date`` …) to a search record;
#: or a BatchExtender, which needs no document object.
RecordExtender = Callable[[Session, Any, dict], None] | BatchExtender


@dataclass(frozen=True)
class Feature:
    name: str
    #: modules declaring the feature's tables on ``models.Base`` (already imported by the feature module)
    models: Sequence[ModuleType] = ()
    #: the feature's Alembic versions folder: its own branch, off a core revision
    migrations: Path | None = None
    #: document kind → record extenders for the search index
    record_extenders: Mapping[str, Sequence[RecordExtender]] = field(default_factory=dict)
    #: ``demo(session, runtime) -> str | None`` loads the feature's demo data for ``init --demo`` and
    #: says what it created (None: already present)
    demo: Callable[[Session, Any], str | None] | None = None
    #: ``setup()`` registers the feature with registries other packages own (the archive's sources,
    #: the documents' write guards); run when a Runtime is built with the feature, idempotent
    setup: Callable[[], None] | None = None
    #: ``check(settings)`` validates the feature's configuration when a Runtime is built (start-up); it
    #: raises ValueError naming what is wrong (a file, a setting), and the process does not start
    check: Callable[[Any], None] | None = None
    #: periodic worker jobs: ``make(runtime) -> job()``, run with the core's housekeeping
    jobs: Sequence[Callable[[Any], Callable[[], Any]]] = ()
    #: worker jobs run on every pass of the worker's loop (each must be cheap when there is nothing to do)
    frequent_jobs: Sequence[Callable[[Any], Callable[[], Any]]] = ()


class FeatureSet:
    """The features installed into one Runtime, and what the core asks of them."""

    def __init__(self, features: Iterable[Feature] = ()):
        self.features: tuple[Feature, ...] = tuple(features)
        names = [f.name for f in self.features]
        if len(set(names)) != len(names):
            raise ValueError(f"feature listed twice: {names}")

    def __iter__(self):
        return iter(self.features)

    def setup(self) -> None:
        for f in self.features:
            if f.setup is not None:
                f.setup()

    def check(self, settings) -> None:
        for f in self.features:
            if f.check is not None:
                f.check(settings)

    def migration_locations(self) -> list[Path]:
        return [f.migrations for f in self.features if f.migrations is not None]

    def record_extenders(self) -> dict[str, list[RecordExtender]]:
        out: dict[str, list[RecordExtender]] = {}
        for f in self.features:
            for kind, fns in f.record_extenders.items():
                out.setdefault(kind, []).extend(fns)
        return out
