"""Builds the collaborators once from Settings: engine, session factory, object store, clock.

The web app, the CLI and the worker all start from here; only the web factory reads current_app.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .clock import Clock
from .db import make_engine, make_session_factory
from .documents import DocumentService
from .settings import Settings
from .storage import open_store
from .storage.base import ObjectStore
from .worker import Worker


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    store: ObjectStore
    clock: Clock

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> "Runtime":
        engine = make_engine(settings.database_url)
        return cls(settings, engine, make_session_factory(engine), open_store(settings.storage_url),
                   clock or Clock())

    def documents(self, session: Session) -> DocumentService:
        return DocumentService(session, self.store, self.clock, self.settings.max_upload_bytes)

    def worker(self, **kw) -> Worker:
        kw.setdefault("gc_grace", timedelta(hours=self.settings.gc_grace_hours))
        return Worker(self.factory, self.store, self.clock, **kw)
