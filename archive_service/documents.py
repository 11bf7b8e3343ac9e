"""The document core: documents → versions → immutable, digested blobs.

Write order (ARCHITECTURE.md): stream the bytes into the store first, then add the version row,
the audit event and the search outbox row to the caller's unit of work (the service only flushes;
the request, command or job commits). A crash in between leaves only an orphan blob, which
``collect_orphans`` removes after a grace period — never a row pointing at nothing.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from sqlalchemy import delete, exists, func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError as DBIntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload, sessionmaker

from . import extraction, mediatype, outbox, permissions
from .audit import AuditLog
from .clock import Clock
from .errors import BadRequest, Conflict, Unprocessable
from .listing import Cursor, KeysetPage, bounded_count
from .models import Blob, Document, DocumentCount, DocumentVersion, User
from .storage.base import ObjectStore, PutResult, StoredObject

MAX_TITLE = 300
MAX_FILENAME = 255

# Write guards: ``guard(session, document) -> reason or None``. A feature that freezes documents (the
# archive: a filed document gets no new version and is never deleted) registers one when it is wired.
WriteGuard = Callable[[Session, Document], "str | None"]
_WRITE_GUARDS: list[WriteGuard] = []


def register_write_guard(guard: WriteGuard) -> None:
    if guard not in _WRITE_GUARDS:
        _WRITE_GUARDS.append(guard)


def ensure_writable(session: Session, doc: Document) -> None:
    """Raise Conflict (409) with the reason when a registered guard freezes ``doc``."""
    for guard in _WRITE_GUARDS:
        reason = guard(session, doc)
        if reason:
            raise Conflict(reason)


# A feature may keep a readable document's original bytes closed to some readers (an archive lookup
# grant reads through its own pages and watermarked copies): guard(session, user, doc) -> reason | None.
_DOWNLOAD_GUARDS: list = []


def register_download_guard(guard) -> None:
    if guard not in _DOWNLOAD_GUARDS:
        _DOWNLOAD_GUARDS.append(guard)


def ensure_downloadable(session: Session, user, doc: Document) -> None:
    """Raise Forbidden (403) with the reason when a registered guard closes the original to ``user``."""
    from .errors import Forbidden

    for guard in _DOWNLOAD_GUARDS:
        reason = guard(session, user, doc)
        if reason:
            raise Forbidden(reason)


# what a list row shows (file name, size, type, digests, department, creator) in a fixed number of queries
_LIST_LOADS = (selectinload(Document.versions).joinedload(DocumentVersion.blob),
               joinedload(Document.department), joinedload(Document.creator))


def clean_filename(name: str | None) -> str:
    """A display name only (never used as a path): last path segment, no control characters."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").split("/")[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if len(name) > MAX_FILENAME:  # shorten the stem, keep the extension
        stem, dot, ext = name.rpartition(".")
        if dot and stem and 0 < len(ext) <= 16:
            name = stem[: MAX_FILENAME - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_FILENAME]
    return name or "未命名文件"


def clean_title(title: str | None, fallback: str) -> str:
    title = " ".join((title or "").split())
    if len(title) > MAX_TITLE:
        raise Unprocessable(f"标题不能超过 {MAX_TITLE} 个字符")
    return title or fallback


@dataclass
class Page:
    items: list
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


class DocumentService:
    def __init__(self, session: Session, store: ObjectStore, clock: Clock, max_upload_bytes: int,
                 policy: mediatype.UploadPolicy = mediatype.DEFAULT_POLICY):
        self.session = session
        self.store = store
        self.clock = clock
        self.max_upload_bytes = max_upload_bytes
        self.policy = policy

    # -- writing ---------------------------------------------------------------------------------
    def upload(self, user: User, stream: BinaryIO, filename: str, title: str | None = None,
               kind: str = "file") -> Document:
        """Store a new document for the user's department (flushed; the unit of work commits)."""
        self.check_upload(user, filename, title)
        stored, media_type = self.store_bytes(stream)
        return self.create_from_stored(user, stored, media_type, filename, title, kind)

    def check_upload(self, user: User, filename: str | None, title: str | None = None) -> None:
        """Refuse what can be refused before any byte is stored (the title and file name so far)."""
        if not permissions.can_upload(user):
            raise BadRequest("账号已停用")
        self.policy.check_name(clean_filename(filename))
        clean_title(title, clean_filename(filename))

    def create_from_stored(self, user: User, stored: PutResult, media_type: str, filename: str,
                           title: str | None = None, kind: str = "file") -> Document:
        """Record a document for bytes already in the store (the second half of the write order)."""
        filename = clean_filename(filename)
        title = clean_title(title, filename.rsplit(".", 1)[0] if "." in filename else filename)
        now = self.clock.now()
        doc = Document(title=title, kind=kind, department_id=user.department_id, created_by=user.id,
                       created_at=now, updated_at=now, current_version=1, revision=1)
        self.session.add(doc)
        self._add_version(user, doc, 1, stored, media_type, filename, "document.upload")
        return doc

    def add_version(self, user: User, doc: Document, stream: BinaryIO, filename: str) -> DocumentVersion:
        permissions.ensure_readable(user, doc)
        ensure_writable(self.session, doc)
        stored, media_type = self.store_bytes(stream)
        return self.add_stored_version(user, doc, stored, media_type, filename)

    def add_stored_version(self, user: User, doc: Document, stored: PutResult, media_type: str,
                           filename: str) -> DocumentVersion:
        """A new version for bytes already in the store."""
        permissions.ensure_readable(user, doc)
        ensure_writable(self.session, doc)
        doc.current_version += 1
        doc.revision += 1
        doc.updated_at = self.clock.now()
        return self._add_version(user, doc, doc.current_version, stored, media_type, clean_filename(filename),
                                 "document.version_added")

    def store_bytes(self, stream: BinaryIO) -> tuple[PutResult, str]:
        """Stream into the store (first half of the write order); refuse empty content and media types
        off the allow-list as soon as the first bytes show them (the store then keeps nothing).

        A later refusal (e.g. a title that followed the file) leaves the stored bytes where they are:
        another request may be storing the same bytes right now, so the request path never deletes an
        object; ``collect_orphans`` removes unreferenced ones after the grace period."""
        screened = mediatype.Screened(stream, self.policy)  # refused content is never stored
        stored = self.store.put_stream(screened, self.max_upload_bytes)
        assert screened.media_type is not None
        return stored, screened.media_type

    def _add_version(self, user, doc, number, stored: PutResult, media_type, filename, action):
        s = self.session
        blob = record_blob(s, stored, media_type, self.clock.now())
        version = DocumentVersion(document=doc, number=number, blob_sha256=blob.sha256, filename=filename,
                                  created_by=user.id, created_at=self.clock.now())
        s.add(version)
        s.flush()
        AuditLog(s, self.clock).record(user, action, "document", doc.id, {
            "title": doc.title, "version": number, "filename": filename, "size": stored.size,
            "sha256": stored.sha256, "sm3": stored.sm3, "media_type": blob.media_type,
        })
        outbox.enqueue(s, self.clock, doc.id, doc.revision)
        extraction.enqueue_many(s, self.clock, [(version.id, doc.id)])  # text extraction starts right away
        s.flush()
        return version

    # -- reading ---------------------------------------------------------------------------------
    def find(self, doc_id: int) -> Document | None:
        """A document by id without a permission check (to decide how to refuse, never to show)."""
        return self.session.get(Document, doc_id)

    def extraction_of(self, version: DocumentVersion | None):
        """A version's text extraction row (or None) and, while it is pending, its queued job (or None)."""
        return extraction.state_of(self.session, version.id if version is not None else None)

    def searchable_copy(self, version: DocumentVersion, sandbox) -> bytes | None:
        """A searchable PDF of an OCR'd version, built in ``sandbox`` (None when it was not OCR'd)."""
        return extraction.searchable_copy(self.session, self.store, sandbox, version.id)

    def get(self, user: User, doc_id: int) -> Document:
        return permissions.ensure_readable(user, self.session.get(Document, doc_id))

    def ensure_writable(self, doc: Document) -> None:
        """Conflict (409) with the reason when a registered write guard freezes ``doc``."""
        ensure_writable(self.session, doc)

    def ensure_downloadable(self, user: User, doc: Document) -> None:
        """Forbidden (403) with the reason when a registered guard closes the original to ``user``."""
        ensure_downloadable(self.session, user, doc)

    def version(self, user: User, doc_id: int, number: int | None = None) -> DocumentVersion:
        doc = self.get(user, doc_id)
        number = number or doc.current_version
        for v in doc.versions:
            if v.number == number:
                return v
        from .errors import NotFound

        raise NotFound("版本不存在")

    def list(self, user: User, page: int = 1, size: int = 20) -> Page:
        page, size = max(1, page), min(max(1, size), 100)
        base = permissions.readable_documents(user, select(Document))
        total = self.session.scalar(select(func.count()).select_from(base.subquery())) or 0
        items: list[Document] = list(self.session.execute(
            base.order_by(Document.updated_at.desc(), Document.id.desc()).offset((page - 1) * size).limit(size)
        ).scalars())
        return Page(items, total, page, size)

    def page(self, user: User, size: int = 20, after: Cursor | None = None, before: Cursor | None = None,
             start: datetime | None = None, with_total: bool = True) -> KeysetPage:
        """The user's readable documents newest first (``updated_at``, ``id``), by keyset.

        Two index range scans — the department's own documents and the ones granted to it — merged;
        ``after``/``before`` continue from a cursor, ``start`` (UTC) jumps to a moment. The total is the
        trigger-kept count of the department's documents plus a bounded count of the granted ones."""
        size = min(max(1, size), 100)
        key = (Document.updated_at, Document.id)
        own = select(Document).where(Document.department_id == user.department_id)
        granted = select(Document).where(Document.id.in_(permissions.granted_document_ids(user)),
                                         Document.department_id != user.department_id)
        newest_first = before is None
        if before is not None:
            bound = tuple_(*key) > tuple_(literal(before.at), literal(before.id))
        elif after is not None:
            bound = tuple_(*key) < tuple_(literal(after.at), literal(after.id))
        elif start is not None:
            bound = Document.updated_at < start
        else:
            bound = None
        order = [c.desc() for c in key] if newest_first else list(key)
        rows: list[Document] = []
        for q in (own, granted):
            if bound is not None:
                q = q.where(bound)
            rows += self.session.scalars(q.order_by(*order).limit(size + 1).options(*_LIST_LOADS)).all()
        rows.sort(key=lambda d: (d.updated_at, d.id), reverse=newest_first)
        more = len(rows) > size
        rows = rows[:size]
        if not newest_first:
            rows.reverse()
        page = KeysetPage(rows, size, start=start)
        if rows:
            first, last = rows[0], rows[-1]
            older_exist = more if newest_first else True
            newer_exist = (after is not None or start is not None) if newest_first else more
            page.next_cursor = Cursor(last.updated_at, last.id).encode() if older_exist else None
            page.prev_cursor = Cursor(first.updated_at, first.id).encode() if newer_exist else None
        if with_total:
            own_n = self.session.scalar(select(DocumentCount.n).where(
                DocumentCount.department_id == user.department_id)) or 0
            granted_n, capped = bounded_count(self.session, granted.with_only_columns(Document.id))
            page.total, page.total_estimated = own_n + granted_n, capped
        return page

    def record_download(self, user: User, version: DocumentVersion) -> None:
        AuditLog(self.session, self.clock).record(user, "document.download", "document", version.document_id,
                                                  {"version": version.number})


def record_blob(session: Session, stored: PutResult, media_type: str, now) -> Blob:
    """The blob row for stored bytes, inserted idempotently: concurrent uploads of the same bytes
    both succeed (``INSERT … ON CONFLICT``), and the first row's object key stays the blob's (an
    object the other upload wrote is then unreferenced, for ``gc``). The no-op update on conflict
    locks an existing row until this transaction ends, so ``collect_orphans`` cannot delete it
    under a version being added."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(Blob).values(sha256=stored.sha256, sm3=stored.sm3, size=stored.size, media_type=media_type,
                               storage_key=stored.key, created_at=now)
    session.execute(stmt.on_conflict_do_update(index_elements=[Blob.sha256], set_={"media_type": Blob.media_type}))
    return session.get_one(Blob, stored.sha256)


def record_blobs(session: Session, items: list[tuple[PutResult, str]], now, lock: bool = False) -> None:
    """Blob rows for many stored blobs (stored, media type) in one ``INSERT … ON CONFLICT DO NOTHING``;
    with ``lock``, ``ON CONFLICT DO UPDATE`` (a no-op) locks existing rows as ``record_blob`` does."""
    rows = {stored.sha256: dict(sha256=stored.sha256, sm3=stored.sm3, size=stored.size, media_type=media_type,
                                storage_key=stored.key, created_at=now) for stored, media_type in items}
    if rows:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        stmt = insert(Blob).values(list(rows.values()))
        session.execute(stmt.on_conflict_do_update(index_elements=[Blob.sha256],
                                                   set_={"media_type": Blob.media_type}) if lock
                        else stmt.on_conflict_do_nothing(index_elements=[Blob.sha256]))


def blob_locator(factory: sessionmaker[Session]) -> Callable[[str], str | None]:
    """digest → the key the database records for it (committed rows), for ``ObjectStore.use_locator``."""

    def locate(sha256: str) -> str | None:
        with factory() as session:
            return session.scalar(select(Blob.storage_key).where(Blob.sha256 == sha256))

    return locate


def _referenced(key: str):
    """A blob row with this key that some version points at."""
    return exists().where(Blob.storage_key == key, DocumentVersion.blob_sha256 == Blob.sha256)


def orphan_objects(session: Session, store: ObjectStore, clock: Clock, grace: timedelta) -> list[StoredObject]:
    """Stored objects older than ``grace`` whose key no referenced blob row holds."""
    cutoff = clock.now() - grace
    orphans = []
    for obj in store.list():
        if obj.modified.replace(tzinfo=None) > cutoff:
            continue
        if not session.scalar(select(_referenced(obj.key))):
            orphans.append(obj)
    return orphans


def orphan_blob_keys(session: Session, store: ObjectStore, clock: Clock, grace: timedelta) -> list[str]:
    """The keys of ``orphan_objects`` (what ``gc --dry-run`` lists)."""
    return [obj.key for obj in orphan_objects(session, store, clock, grace)]


def collect_orphans(session: Session, store: ObjectStore, clock: Clock, grace: timedelta) -> list[str]:
    """Remove stored objects no version references once older than ``grace`` (with their blob rows),
    and abort uploads left unfinished that long.

    Rows go first, each only if still unreferenced (a version added meanwhile keeps it: the row lock
    of ``record_blob`` or the foreign key stops the delete) and committed; objects after, each only
    if no upload renewed it since the cutoff (``ObjectStore.discard``)."""
    cutoff = clock.now() - grace
    aware_cutoff = cutoff.replace(tzinfo=UTC)
    store.abort_stale_uploads(aware_cutoff)
    doomed = []
    for obj in orphan_objects(session, store, clock, grace):
        try:
            with session.begin_nested():
                session.execute(delete(Blob).where(
                    Blob.storage_key == obj.key,
                    ~exists().where(DocumentVersion.blob_sha256 == Blob.sha256)))
        except DBIntegrityError:
            continue  # a version was added at this moment: the blob is in use
        doomed.append(obj.key)
    session.commit()
    removed = [key for key in doomed if store.discard(key, older_than=aware_cutoff)]
    if removed:
        AuditLog(session, clock).record(None, "storage.gc", "blob", len(removed), {"removed": removed[:100]})
    session.flush()
    return removed
