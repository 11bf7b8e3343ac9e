"""Builds the collaborators once from Settings: engine, session factory, object store, clock.

The web app, the CLI and the worker all start from here; only the web factory reads current_app.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .auth import Authenticator
from .clock import Clock
from .db import make_engine, make_session_factory, migrate, transaction
from .documents import DocumentService, blob_locator
from .features import Feature, FeatureSet
from .mediatype import UploadPolicy
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
    features: FeatureSet = field(default_factory=FeatureSet)

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None, features: Iterable[Feature] = ()) -> Runtime:
        """Everything from the settings; ``features`` are the feature packages to install (the wiring
        layer passes ``archive_service.wiring.FEATURES``)."""
        engine = make_engine(settings.database_url)
        store = open_store(settings.storage_url, connect_timeout=settings.s3_connect_timeout,
                           read_timeout=settings.s3_read_timeout, retries=settings.s3_retries)
        factory = make_session_factory(engine, settings.audit_key)
        store.use_locator(blob_locator(factory))  # readers name blobs by digest; the database knows the key
        installed = FeatureSet(features)
        installed.check(settings)  # configuration errors stop the start, naming the file or setting
        installed.setup()
        return cls(settings, engine, factory, store, clock or Clock(), installed)

    def migrate(self) -> None:
        """Upgrade the database to the core's and every installed feature's heads."""
        migrate(self.engine, locations=self.features.migration_locations())

    def ping_database(self) -> None:
        """One round trip to the database (readiness probe); raises what the driver raises."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def transaction(self):
        """One unit of work: a session that commits on leaving the block, or rolls back on an error."""
        return transaction(self.factory)

    def documents(self, session: Session) -> DocumentService:
        return DocumentService(session, self.store, self.clock, self.settings.max_upload_bytes,
                               policy=self.upload_policy)

    def authenticator(self, session: Session) -> Authenticator:
        """Logins, tokens and sessions with the configured limits and token lifetime."""
        return Authenticator(session, self.clock, self.settings.login_rate, self.settings.token_days,
                             self.settings.login_rate_address)

    def worker(self, **kw) -> Worker:
        kw.setdefault("gc_grace", timedelta(hours=self.settings.gc_grace_hours))
        kw.setdefault("anchor_every", timedelta(minutes=self.settings.audit_anchor_minutes))
        kw.setdefault("anchor_retention_days", self.settings.audit_anchor_retention_days)
        if "search" not in kw:
            from .indexing import SearchIndexer

            kw["search"] = SearchIndexer(self.search_engine, self.store, self.clock,
                                         self.features.record_extenders())
        if "extractor" not in kw:
            from .extraction import ExtractionQueue

            kw["extractor"] = ExtractionQueue(self.store, self.clock, self.sandbox)
        worker = Worker(self.factory, self.store, self.clock, **kw)
        for feature in self.features:
            for make in feature.jobs:
                worker.add_housekeeping(make(self))
            for make in feature.frequent_jobs:
                worker.add_frequent(make(self))
        return worker

    def close(self) -> None:
        """Release the search engine, the extraction sandbox and the database connections; all
        reopen on next use (as in a restarted process, e.g. after the index folder was replaced)."""
        engine = self.__dict__.pop("search_engine", None)
        if engine is not None:
            engine.close()
        sandbox = self.__dict__.pop("sandbox", None)
        if sandbox is not None:
            sandbox.close()
        self.engine.dispose()

    @cached_property
    def upload_policy(self) -> UploadPolicy:
        return UploadPolicy.parse(self.settings.upload_media_types, self.settings.upload_extensions)

    @cached_property
    def sandbox(self):
        """The extraction sandbox (one long-lived child process, started on first use)."""
        from .sandbox import Sandbox

        return Sandbox(self.settings.extract_limits)

    @cached_property
    def search_engine(self):
        """The search backend from ARCHIVE_SEARCH_URL (unset: tantivy index in the instance folder)."""
        from search.engine import open_engine

        return open_engine(self.settings.search_url, self.settings.instance)
