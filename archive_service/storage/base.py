"""The object-store port: immutable, content-addressed blobs.

Keys are always derived from a SHA-256 hex digest (``blob_key``), never from user input.
"""
from __future__ import annotations

import queue
import re
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..hashing import DigestingReader, Readable

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1024 * 1024


def blob_key(sha256_hex: str) -> str:
    """Object key for a digest: ``sha256/ab/cd/<digest>``. Rejects anything that is not a digest."""
    if not _HEX64.match(sha256_hex or ""):
        raise ValueError("blob keys are SHA-256 hex digests")
    return f"sha256/{sha256_hex[:2]}/{sha256_hex[2:4]}/{sha256_hex}"


_RECORD_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}(/[A-Za-z0-9][A-Za-z0-9._-]{0,120}){1,3}$")


def record_key(name: str) -> str:
    """Object key of a named record (``records/<name>``, e.g. an audit anchor); names are made by
    the service (``audit-anchors/000000000123-….json``), never taken from users."""
    if not _RECORD_NAME.match(name or "") or ".." in name:
        raise ValueError(f"invalid record name {name!r}")
    return f"records/{name}"


_UPLOAD_KEY = re.compile(r"^objects/[0-9a-f]{32}$")


def check_key(key: str) -> str:
    """An object key as stores write them: a content address (``blob_key``) or an upload key
    (``objects/<32 hex>``); ValueError for anything else (keys never come from users)."""
    if _UPLOAD_KEY.match(key or ""):
        return key
    digest = (key or "").rsplit("/", 1)[-1]
    if _HEX64.match(digest) and key == blob_key(digest):
        return key
    raise ValueError("not an object key")


def check_range(start: int, end: int | None) -> None:
    """Validate an inclusive byte range as given to ``ObjectStore.open``."""
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"invalid byte range {start}-{end}")


class ChunkIterator:
    """Byte chunks of an opened object, with ``close()``.

    Adapters open the object eagerly (so ``NotFound`` is raised by ``open`` itself, before a response
    starts) and hand back this iterator; ``close()`` releases the file or connection even when the
    iteration was never started (WSGI servers call it on response iterables).
    """

    def __init__(self, chunks: Iterator[bytes], release: Callable[[], None]):
        self._chunks = chunks
        self._release = release
        self._closed = False

    def __iter__(self) -> ChunkIterator:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._release()


class ReadAhead:
    """Reads ``stream`` (and so hashes it, for a ``DigestingReader``) in a background thread, a few
    chunks ahead of the consumer, so hashing overlaps writing or uploading. Exceptions raised by the
    stream are re-raised, as the same objects, by ``read``. Always ``close()`` it (in ``finally``).
    """

    def __init__(self, stream, chunk: int = CHUNK, depth: int = 4):
        self._stream, self._chunk = stream, chunk
        self._queue: queue.Queue = queue.Queue(depth)
        self._stop = threading.Event()
        self._pending = b""
        self._eof = False
        self._thread = threading.Thread(target=self._run, name="store-read-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                data = self._stream.read(self._chunk)
                self._offer(data)
                if not data:
                    return
        except BaseException as exc:
            self._offer(exc)

    def _offer(self, item) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all that is left when ``n < 0``); fewer only at the end of the stream."""
        parts, want = [], (n if n >= 0 else sys.maxsize)
        while want > 0:
            if not self._pending:
                if self._eof:
                    break
                item = self._queue.get()
                if isinstance(item, BaseException):
                    self._eof = True
                    raise item
                if not item:
                    self._eof = True
                    break
                self._pending = item
            take = self._pending if want >= len(self._pending) else self._pending[:want]
            self._pending = self._pending[len(take):]
            parts.append(take)
            want -= len(take)
        return b"".join(parts)

    def close(self) -> None:
        """Stop reading; returns once the thread is done with the stream, so the caller may use it."""
        self._stop.set()
        self._thread.join()


@dataclass(frozen=True)
class PutResult:
    sha256: str
    sm3: str
    size: int
    head: bytes  # first bytes, for media-type detection
    created: bool  # False when identical bytes were already stored (under ``key``)
    key: str = ""  # where the bytes are: record it as the blob's storage key

    def __post_init__(self):
        if not self.key:
            object.__setattr__(self, "key", blob_key(self.sha256))


@dataclass(frozen=True)
class StoredObject:
    sha256: str | None  # None for an object at an upload key (its digest is in the database)
    size: int
    modified: datetime
    key: str = ""

    def __post_init__(self):
        if not self.key and self.sha256:
            object.__setattr__(self, "key", blob_key(self.sha256))


class ObjectStore(Protocol):
    def put_stream(self, stream: Readable, max_bytes: int | None = None) -> PutResult:
        """Stream once into the store while hashing; raise TooLarge past max_bytes (nothing kept)."""

    def open(self, sha256: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield the bytes [start, end] (inclusive end, as HTTP ranges) in chunks.

        Raises NotFound at once (not on first iteration). ``end`` past the object is clamped; a
        ``start`` at or past the end yields nothing. The result has ``close()`` (``ChunkIterator``).
        """

    def exists(self, sha256: str) -> bool: ...

    def size(self, sha256: str) -> int:
        """Size in bytes; NotFound when missing."""

    def delete(self, sha256: str) -> None:
        """Remove the blob; NotFound when missing, Conflict when a retention period forbids it."""

    def discard(self, key: str, older_than: datetime | None = None) -> bool:
        """gc's removal by key (``StoredObject.key``): remove the object unless it was written after
        ``older_than`` (aware); False when it was kept or was already gone."""

    def use_locator(self, locate: Callable[[str], str | None]) -> None:
        """Give the store the database's digest → key lookup (``blobs.storage_key``)."""

    def list(self) -> Iterator[StoredObject]: ...

    def set_retention(self, sha256: str, until: datetime) -> None:
        """Keep the blob unchanged and undeletable until ``until`` (aware datetime), where the store can."""

    def set_legal_hold(self, sha256: str) -> None:
        """Keep the blob unchanged and undeletable until the hold is lifted (permanent retention)."""

    def ping(self) -> None:
        """Raise StorageUnavailable when the store cannot be reached."""

    def abort_stale_uploads(self, before: datetime) -> int:
        """Abort (and free) uploads left unfinished since before ``before`` (aware); return how many."""

    def put_record(self, name: str, data: bytes, retain_until: datetime | None = None) -> None:
        """Write a small named record once (Conflict when it exists: records are never overwritten),
        kept unchanged until ``retain_until`` where the store can enforce it (object lock)."""

    def read_record(self, name: str) -> bytes:
        """The record's bytes; NotFound when missing."""

    def list_records(self, prefix: str) -> Iterator[str]:
        """Names of the records under ``prefix`` (e.g. ``audit-anchors/``), in name order."""


__all__ = [
    "CHUNK",
    "ChunkIterator",
    "DigestingReader",
    "ObjectStore",
    "PutResult",
    "ReadAhead",
    "StoredObject",
    "blob_key",
    "check_key",
    "check_range",
    "record_key",
]
