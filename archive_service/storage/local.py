"""Object store on a local (or mounted) file system.

Layout under ``root``: ``sha256/ab/cd/<digest>`` for blobs (see ``blob_key``), ``records/<name>`` for
named records written once (audit anchors) and ``tmp/`` for uploads in progress. A blob is published
by an atomic rename only after its bytes are on disk (fsync), so a reader never sees a partial file.
Names on disk come from digests or ``mkstemp``, never from users.

Local disk cannot enforce retention: ``set_retention`` only makes the file read-only (0444), which
stops accidental writes but not a deletion by the service account or root. Use an S3 store with
object lock where retention must be enforced.

A crash mid-upload can leave a file in ``tmp/``; ``gc`` removes those older than its grace period.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from .. import errors
from ..hashing import DigestingReader, Readable
from .base import (
    _HEX64,
    CHUNK,
    ChunkIterator,
    PutResult,
    ReadAhead,
    StoredObject,
    blob_key,
    check_key,
    check_range,
    record_key,
)


class LocalStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp = self.root / "tmp"

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def _path(self, sha256: str) -> Path:
        return self.root / blob_key(sha256)

    # -- writing ---------------------------------------------------------------------------------

    def put_stream(self, stream: Readable, max_bytes: int | None = None) -> PutResult:
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        reader = DigestingReader(stream, max_bytes)
        try:
            with os.fdopen(fd, "wb") as out:
                # The first two reads happen here: a small file (most letters and imported records) ends
                # with them. Only a longer stream gets the read-ahead thread (hashing there while this one
                # writes), whose start costs more than it saves on a few KB.
                first = reader.read(CHUNK)
                out.write(first)
                more = reader.read(CHUNK) if first else b""
                if more:
                    out.write(more)
                    pipe = ReadAhead(reader)
                    try:
                        while chunk := pipe.read(CHUNK):
                            out.write(chunk)
                    finally:
                        pipe.close()
                out.flush()
                os.fsync(out.fileno())
            final = self._path(reader.sha256)
            created = not self._renew(final)
            if created:
                self._make_dirs(final.parent)
                os.replace(tmp_name, final)
                _fsync_dir(final.parent)
            else:
                os.unlink(tmp_name)
            return PutResult(reader.sha256, reader.sm3, reader.size, reader.head, created)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise

    @staticmethod
    def _renew(final: Path) -> bool:
        """Make an existing blob young again (so gc's grace period protects a revived orphan); False
        when there is none — also when gc removed it a moment ago, in which case it is stored anew."""
        try:
            os.utime(final)
            return True
        except FileNotFoundError:
            return False

    def _make_dirs(self, directory: Path) -> None:
        """mkdir -p, fsyncing each parent whose entries changed so the new path survives a crash."""
        missing = []
        while not directory.exists():
            missing.append(directory)
            directory = directory.parent
        for d in reversed(missing):
            try:
                d.mkdir()
            except FileExistsError:
                continue  # made by a concurrent upload
            _fsync_dir(d.parent)

    def abort_stale_uploads(self, before: datetime) -> int:
        """Remove uploads in progress (``tmp/``) last written before ``before`` (aware): left by a crash."""
        removed = 0
        if not self._tmp.exists():
            return 0
        for path in self._tmp.iterdir():
            try:
                if datetime.fromtimestamp(path.stat().st_mtime, tz=UTC) < before:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def set_retention(self, sha256: str, until: datetime) -> None:
        """Mark read-only; local disk cannot enforce retention (see module docstring)."""
        try:
            os.chmod(self._path(sha256), 0o444)
        except FileNotFoundError:
            raise errors.NotFound() from None

    def set_legal_hold(self, sha256: str) -> None:
        """Permanent keeping: read-only as for retention (local disk cannot enforce more)."""
        self.set_retention(sha256, datetime.max.replace(tzinfo=UTC))

    def use_locator(self, locate) -> None:
        """Blobs here are at their content address: no lookup needed."""

    def discard(self, key: str, older_than: datetime | None = None) -> bool:
        """gc's removal: moved aside first, then kept (moved back) if an upload of the same bytes
        renewed it after ``older_than`` — an upload that renews it later finds it gone and stores it
        again — so gc never removes bytes that a new version is about to point at."""
        path = self.root / check_key(key)
        self._tmp.mkdir(parents=True, exist_ok=True)
        aside = self._tmp / f"gc-{uuid.uuid4().hex}"
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return False
        modified = datetime.fromtimestamp(aside.stat().st_mtime, tz=UTC)
        if older_than is not None and modified > older_than:
            os.rename(aside, path)
            return False
        os.unlink(aside)
        return True

    def delete(self, sha256: str) -> None:
        try:
            os.unlink(self._path(sha256))
        except FileNotFoundError:
            raise errors.NotFound() from None

    # -- reading ---------------------------------------------------------------------------------

    def open(self, sha256: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        check_range(start, end)
        try:
            f = open(self._path(sha256), "rb")  # noqa: SIM115  (closed by the returned iterator)
        except FileNotFoundError:
            raise errors.NotFound() from None
        return ChunkIterator(_read_range(f, start, end), f.close)

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def size(self, sha256: str) -> int:
        try:
            return self._path(sha256).stat().st_size
        except FileNotFoundError:
            raise errors.NotFound() from None

    def list(self) -> Iterator[StoredObject]:
        top = self.root / "sha256"
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath, name)
                if not _HEX64.match(name) or path != self.root / blob_key(name):
                    continue  # not a blob (stray file)
                try:
                    st = path.stat()
                except FileNotFoundError:
                    continue  # deleted while listing
                modified = datetime.fromtimestamp(st.st_mtime, tz=UTC)
                yield StoredObject(name, st.st_size, modified)

    def ping(self) -> None:
        try:
            self._tmp.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self._tmp, prefix="ping-")
            os.close(fd)
            os.unlink(name)
        except OSError:
            raise errors.StorageUnavailable() from None


    # -- named records (audit anchors) ------------------------------------------------------------

    def put_record(self, name: str, data: bytes, retain_until: datetime | None = None) -> None:
        """Write once: published with ``os.link`` (fails when the name exists), then read-only.
        Local disk cannot enforce ``retain_until`` (see the module docstring)."""
        path = self.root / record_key(name)
        self._make_dirs(path.parent)
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="record-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp_name, 0o444)
            try:
                os.link(tmp_name, path)
            except FileExistsError:
                raise errors.Conflict("记录已存在，不能覆盖") from None
            _fsync_dir(path.parent)
        finally:
            os.unlink(tmp_name)

    def read_record(self, name: str) -> bytes:
        try:
            return (self.root / record_key(name)).read_bytes()
        except FileNotFoundError:
            raise errors.NotFound() from None

    def list_records(self, prefix: str) -> Iterator[str]:
        top = self.root / "records"
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        base = top / folder if folder else top
        names = []
        for dirpath, _dirnames, filenames in os.walk(base):
            for filename in filenames:
                names.append(Path(dirpath, filename).relative_to(top).as_posix())
        yield from sorted(n for n in names if n.startswith(prefix))


def _read_range(f: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
    f.seek(start)
    remaining = None if end is None else end - start + 1
    while remaining is None or remaining > 0:
        chunk = f.read(CHUNK if remaining is None else min(CHUNK, remaining))
        if not chunk:
            return
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
