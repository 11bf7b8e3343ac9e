"""Object store on an S3-compatible service (MinIO, Ceph RGW, cloud S3) through the ``minio`` client.

Every upload is written once, to a new key named by its upload (``objects/<32 hex>``: start time and
randomness, see ``new_upload_name``), while ``DigestingReader`` hashes it in a read-ahead thread. One
that fits in a part is a single PUT; a larger one a multipart upload with a few parts in flight at
once from a small pool of reused part buffers (memory stays at about ``(upload_threads + 1) ×
part_size`` whatever the size). There is no server-side copy: the database records which key holds
which digest (``blobs.storage_key``) and deduplicates by digest; an object whose bytes were already
stored under another key is simply never referenced, and ``gc`` removes it after its grace period.
A key is never written twice, so removing an unreferenced old key cannot race with a new upload.

Readers still name blobs by digest: ``use_locator`` gives the store the database lookup (digest →
key); digests written by this process and not yet committed are found in a small in-memory map; a
digest known to neither is looked for at its content address (``blob_key``), where stores before
this layout kept every blob.

A failed multipart upload is aborted; ``abort_stale_uploads`` (run by ``gc``) aborts any left behind.
Retention uses object lock in COMPLIANCE mode, which needs a bucket created with object lock
(``object_lock=True`` creates it so when missing).

Transport failures and unexpected service errors become ``errors.StorageUnavailable`` (the cause is
logged, not shown to users); a missing object becomes ``errors.NotFound``. Errors raised by the
caller's stream (a client that went away) are re-raised unchanged.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import logging
import os
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.datatypes import Part
from minio.error import MinioException, S3Error
from minio.retention import Retention

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

log = logging.getLogger(__name__)

PART_SIZE = 10 * 1024 * 1024
UPLOAD_THREADS = 3  # parts in flight at once (one buffer is filled while the others are sent)
RECENT = 4096  # digests written by this process, remembered until their rows are surely committed
OBJECTS = "objects"
COMPLETE_SECONDS_PER_PART = 1.0  # extra read timeout for completing a multipart upload (it joins the parts)
_OCTETS = {"Content-Type": "application/octet-stream"}
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_MISSING = {"NoSuchKey", "NoSuchObject", "NoSuchVersion", "ResourceNotFound"}
_TRANSPORT = (urllib3.exceptions.HTTPError, MinioException, OSError)
_RETENTION_REFUSED = {
    "AccessDenied": "保留期限只能延长，不能缩短或解除",
    "InvalidRequest": "存储桶未启用对象锁定，无法设置保留期限",
    "ObjectLockConfigurationNotFoundError": "存储桶未启用对象锁定，无法设置保留期限",
    "InvalidArgument": "保留期限无效（须晚于当前时间）",
}


def _domain_error(exc: BaseException) -> errors.DomainError | None:
    """The domain error for a client/transport exception, or None when it is not one."""
    if isinstance(exc, S3Error) and exc.code in _MISSING:
        return errors.NotFound()
    if isinstance(exc, _TRANSPORT):
        log.warning("object store unavailable: %s: %s", type(exc).__name__, exc)
        return errors.StorageUnavailable()
    return None


@contextmanager
def _translated():
    try:
        yield
    except Exception as exc:
        err = _domain_error(exc)
        if err is None:
            raise
        raise err from None


def is_upload_key(key: str) -> bool:
    prefix, _, tail = key.partition("/")
    return prefix == OBJECTS and bool(_UPLOAD_ID.match(tail))


def new_upload_name(prefix: str) -> str:
    """``prefix/<32 hex>``: the first 12 hex digits are the start time in ms, the rest random, so the
    name itself says when its upload began (some S3 services report no true start time)."""
    return f"{prefix}/{int(time.time() * 1000):012x}{secrets.token_hex(10)}"


def _upload_started(name: str, initiated: datetime | None) -> datetime:
    """When an upload began: the later of the service's account and the time in our own names."""
    times = []
    if initiated is not None:
        times.append(initiated if initiated.tzinfo else initiated.replace(tzinfo=UTC))
    tail = name.rsplit("/", 1)[-1]
    if _UPLOAD_ID.match(tail):
        times.append(datetime.fromtimestamp(int(tail[:12], 16) / 1000, tz=UTC))
    return max(times) if times else datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class PendingUpload:
    """A multipart upload neither completed nor aborted."""

    key: str
    upload_id: str
    initiated: datetime | None


class _Source:
    """Remembers an exception raised by the caller's stream, so it is not mistaken for a storage fault."""

    def __init__(self, stream: Readable):
        self._stream = stream
        self.error: BaseException | None = None

    def read(self, n: int = -1) -> bytes:
        try:
            return self._stream.read(n)
        except BaseException as exc:
            self.error = exc
            raise


class _HttpClient(urllib3.PoolManager):
    """A pool whose read timeout one call may lengthen (``longer``): completing a large multipart
    upload takes the service a while (it joins the parts), far longer than any other call."""

    def __init__(self, connect_timeout: float, **kw):
        super().__init__(**kw)
        self._connect_timeout = connect_timeout
        self._longer = threading.local()

    @contextmanager
    def longer(self, read_timeout: float):
        self._longer.read = read_timeout
        try:
            yield
        finally:
            self._longer.read = None

    def urlopen(self, method, url, redirect=True, **kw):  # type: ignore[override]
        read = getattr(self._longer, "read", None)
        if read is not None:
            kw["timeout"] = urllib3.Timeout(connect=self._connect_timeout, read=read)
        return super().urlopen(method, url, redirect=redirect, **kw)


def _http_client(connect_timeout: float, read_timeout: float, retries: int) -> _HttpClient:
    """Every call is bounded: a store that stops answering costs at most ``read_timeout`` per call (a
    timed-out read is not retried), one that refuses connections or answers 5xx is retried ``retries``
    times with a short backoff."""
    return _HttpClient(
        connect_timeout,
        timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        retries=urllib3.Retry(total=retries, connect=retries, read=0, status=retries, other=0,
                              backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
    )


class S3Store:
    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool = False,
        region: str = "us-east-1",
        object_lock: bool = False,
        part_size: int = PART_SIZE,
        connect_timeout: float = 3.0,
        read_timeout: float = 20.0,
        retries: int = 2,
        upload_threads: int = UPLOAD_THREADS,
    ):
        if part_size < 5 * 1024 * 1024:
            raise ValueError("S3 multipart parts are at least 5 MiB")
        self.bucket = bucket
        self.object_lock = object_lock
        self.part_size = part_size
        self.upload_threads = max(1, upload_threads)
        self._locate: Callable[[str], str | None] | None = None
        self._located: OrderedDict[str, str] = OrderedDict()  # digest -> key found in the database
        self._recent: OrderedDict[str, str] = OrderedDict()  # digest -> key written by this process
        self._lock = threading.Lock()
        self.read_timeout = read_timeout
        self._http = _http_client(connect_timeout, read_timeout, retries)
        self.client = Minio(
            endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region,
            http_client=self._http,
        )
        self._bucket_ready = False
        with contextlib.suppress(errors.StorageUnavailable):
            self._ensure_bucket()  # else created on the next put or ping: the service may start before its storage

    def __repr__(self) -> str:
        return f"S3Store(bucket={self.bucket!r})"

    def _ensure_bucket(self) -> None:
        with _translated():
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket, object_lock=self.object_lock)
                except S3Error as exc:
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
        self._bucket_ready = True

    def ping(self) -> None:
        self._ensure_bucket()

    # -- writing ---------------------------------------------------------------------------------

    def use_locator(self, locate: Callable[[str], str | None]) -> None:
        """Where the database says a digest's bytes are (``blobs.storage_key``), or None."""
        self._locate = locate

    def _key(self, sha256: str, fresh: bool = False) -> str:
        """The key holding ``sha256``: recorded in the database, else written by this process, else
        its content address (the layout before upload keys)."""
        legacy = blob_key(sha256)  # validates the digest
        with self._lock:
            if not fresh and sha256 in self._located:
                self._located.move_to_end(sha256)
                return self._located[sha256]
        key = self._locate(sha256) if self._locate is not None else None
        with self._lock:
            if key is not None:
                check_key(key)
                self._remember(self._located, sha256, key)
                return key
            self._located.pop(sha256, None)
            return self._recent.get(sha256, legacy)

    @staticmethod
    def _remember(cache: OrderedDict, sha256: str, key: str) -> None:
        cache[sha256] = key
        cache.move_to_end(sha256)
        while len(cache) > RECENT:
            cache.popitem(last=False)

    def _with_key(self, sha256: str, call: Callable[[str], object]):
        """``call(key)``; a key remembered from the database that has gone missing is looked up again."""
        key = self._key(sha256)
        try:
            return call(key)
        except errors.NotFound:
            fresh = self._key(sha256, fresh=True)
            if fresh == key:
                raise
            return call(fresh)

    # -- writing ---------------------------------------------------------------------------------

    def put_stream(self, stream: Readable, max_bytes: int | None = None) -> PutResult:
        if not self._bucket_ready:
            self._ensure_bucket()
        source = _Source(stream)
        reader = DigestingReader(source, max_bytes)
        pipe = ReadAhead(reader, depth=max(4, self.part_size // CHUNK))  # a part hashed ahead of its upload
        key = new_upload_name(OBJECTS)
        try:
            first = bytearray(self.part_size)  # pages are only touched as far as they are filled
            size, carry = self._fill(first, b"", pipe)
            if not carry:  # all in hand: one PUT
                self.client._put_object(self.bucket, key, memoryview(first)[:size], dict(_OCTETS))
            else:
                self._put_multipart(key, first, carry, pipe)
        except BaseException as exc:
            err = None if exc is source.error else _domain_error(exc)
            if err is None:
                raise
            raise err from None
        finally:
            pipe.close()
        with self._lock:
            self._remember(self._recent, reader.sha256, key)
        return PutResult(reader.sha256, reader.sm3, reader.size, reader.head, True, key)

    def _put_multipart(self, key: str, first: bytearray, carry: bytes, pipe: ReadAhead) -> None:
        """Parts go up ``upload_threads`` at a time from reused buffers (at most ``upload_threads`` of
        them: one is filled while the others are sent); any failure aborts the upload (its parts are
        freed) and is re-raised."""
        upload_id = self.client._create_multipart_upload(self.bucket, key, dict(_OCTETS))
        free: deque[bytearray] = deque()
        inflight: deque = deque()
        parts: list[Part] = []
        pool = ThreadPoolExecutor(self.upload_threads, thread_name_prefix="s3-part")
        try:
            def send(number: int, body, buffer: bytearray | None) -> None:
                inflight.append((number, buffer, pool.submit(
                    self.client._upload_part, self.bucket, key, body, None, upload_id, number)))

            def settle(limit: int) -> None:
                while len(inflight) > limit:
                    number, buffer, future = inflight.popleft()
                    parts.append(Part(number, future.result()))
                    if buffer is not None:
                        free.append(buffer)

            send(1, first, first)
            number = 1
            while carry:
                settle(self.upload_threads - 1)
                buffer = free.popleft() if free else bytearray(self.part_size)
                size, carry = self._fill(buffer, carry, pipe)
                number += 1
                send(number, memoryview(buffer)[:size], buffer)
            settle(0)
            with self._http.longer(self.read_timeout + COMPLETE_SECONDS_PER_PART * len(parts)):
                self.client._complete_multipart_upload(self.bucket, key, upload_id, parts)
        except BaseException:
            for _number, _buffer, future in inflight:
                future.cancel()
            pool.shutdown(wait=True)
            self._abort(key, upload_id)
            raise
        finally:
            pool.shutdown(wait=True)

    def _fill(self, buffer: bytearray, carry: bytes, pipe: ReadAhead) -> tuple[int, bytes]:
        """Fill ``buffer`` with ``carry`` and what follows; (bytes in it, the first bytes after it —
        empty at the end of the stream)."""
        size = len(carry)
        buffer[:size] = carry
        while size < self.part_size:
            chunk = pipe.read(min(CHUNK, self.part_size - size))
            if not chunk:
                return size, b""
            buffer[size:size + len(chunk)] = chunk
            size += len(chunk)
        return size, pipe.read(CHUNK)

    def _abort(self, key: str, upload_id: str) -> None:
        """Abort a multipart upload; never raises (``gc`` aborts what is left over)."""
        try:
            self.client._abort_multipart_upload(self.bucket, key, upload_id)
        except Exception as exc:  # cleanup must not hide the original outcome
            log.warning("could not abort the multipart upload of %s: %s", key, exc)

    def multipart_uploads(self) -> list[PendingUpload]:
        """Multipart uploads started in the bucket and neither completed nor aborted (every page)."""
        found: list[PendingUpload] = []
        with _translated():
            key_marker = upload_marker = None
            while True:  # (the minio client lists multipart uploads only through this internal call)
                page = self.client._list_multipart_uploads(
                    self.bucket, key_marker=key_marker, upload_id_marker=upload_marker)
                found += [PendingUpload(u.object_name, u.upload_id, u.initiated_time)
                          for u in page.uploads if u.upload_id]
                if not page.is_truncated or not page.uploads:
                    return found
                # (minio's result loses NextUploadIdMarker: continue after the last upload listed)
                key_marker, upload_marker = page.uploads[-1].object_name, page.uploads[-1].upload_id

    def abort_stale_uploads(self, before: datetime) -> int:
        """Abort multipart uploads started before ``before`` (aware); their parts are freed."""
        aborted = 0
        for upload in self.multipart_uploads():
            if _upload_started(upload.key, upload.initiated) < before:
                with _translated():
                    try:
                        self.client._abort_multipart_upload(self.bucket, upload.key, upload.upload_id)
                        aborted += 1
                    except S3Error as exc:
                        if exc.code != "NoSuchUpload":
                            raise
        return aborted

    def set_retention(self, sha256: str, until: datetime) -> None:
        if until.tzinfo is None:
            raise ValueError("retention dates must be timezone-aware")
        key = self._key(sha256)
        if not self.object_lock:
            raise errors.Conflict("存储桶未启用对象锁定，无法设置保留期限")
        with _translated():
            try:
                self.client.set_object_retention(self.bucket, key, Retention(COMPLIANCE, until))
            except S3Error as exc:
                if exc.code in _RETENTION_REFUSED:
                    raise errors.Conflict(_RETENTION_REFUSED[exc.code]) from None
                raise

    def set_legal_hold(self, sha256: str) -> None:
        """Permanent keeping (保管期限 永久): an object-lock legal hold, until explicitly lifted."""
        key = self._key(sha256)
        if not self.object_lock:
            raise errors.Conflict("存储桶未启用对象锁定，无法设置保留期限")
        with _translated():
            self.client.enable_object_legal_hold(self.bucket, key)

    def delete(self, sha256: str) -> None:
        """Remove every version of the blob (in versioned buckets a plain delete keeps the data)."""
        self._with_key(sha256, self._remove)
        with self._lock:
            self._located.pop(sha256, None)
            self._recent.pop(sha256, None)

    def discard(self, key: str, older_than: datetime | None = None) -> bool:
        """Remove the object at ``key`` (every version) unless it was written after ``older_than``.

        Keys of this store are written once, so an old object cannot be renewed under ``gc``'s feet;
        the check is for objects at their content address, which older versions renewed in place."""
        check_key(key)
        with _translated():
            if older_than is not None:
                try:
                    modified = self.client.stat_object(self.bucket, key).last_modified
                except S3Error as exc:
                    if exc.code in _MISSING:
                        return False
                    raise
                if modified is not None and modified > older_than:
                    return False
        try:
            self._remove(key)
        except errors.NotFound:
            return False
        return True

    def _remove(self, key: str) -> None:
        with _translated():
            versions = [
                o for o in self.client.list_objects(self.bucket, prefix=key, include_version=True)
                if o.object_name == key
            ]
            if all(o.is_delete_marker for o in versions):
                raise errors.NotFound()
            for obj in versions:
                try:
                    self.client.remove_object(self.bucket, key, version_id=obj.version_id)
                except S3Error as exc:
                    if exc.code == "AccessDenied":
                        raise errors.Conflict("对象处于保留期内，不能删除") from None
                    raise

    # -- reading ---------------------------------------------------------------------------------

    def open(self, sha256: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        check_range(start, end)
        return self._with_key(sha256, lambda key: self._open(key, start, end))

    def _open(self, key: str, start: int, end: int | None) -> Iterator[bytes]:
        length = 0 if end is None else end - start + 1
        with _translated():
            try:
                response = self.client.get_object(self.bucket, key, offset=start, length=length)
            except S3Error as exc:
                if exc.code == "InvalidRange":  # start at or past the end
                    self._size(key)  # NotFound still wins
                    return ChunkIterator(iter(()), lambda: None)
                raise

        def chunks() -> Iterator[bytes]:
            with _translated():
                yield from response.stream(CHUNK, decode_content=False)

        def release() -> None:
            response.close()
            response.release_conn()

        return ChunkIterator(chunks(), release)

    def _exists(self, key: str) -> bool:
        try:
            self.client.stat_object(self.bucket, key)
            return True
        except S3Error as exc:
            if exc.code in _MISSING:
                return False
            raise

    def exists(self, sha256: str) -> bool:
        def check(key: str) -> bool:
            with _translated():
                if not self._exists(key):
                    raise errors.NotFound()
                return True

        try:
            return self._with_key(sha256, check)
        except errors.NotFound:
            return False

    def size(self, sha256: str) -> int:
        return self._with_key(sha256, self._size)

    def _size(self, key: str) -> int:
        with _translated():
            size = self.client.stat_object(self.bucket, key).size
        if size is None:  # S3 always sends Content-Length; a peer that does not is broken
            raise errors.StorageUnavailable("对象存储未返回对象大小")
        return size

    def list(self) -> Iterator[StoredObject]:
        """Every blob object: at its content address (older layout) or at an upload key."""
        with _translated():
            for obj in self.client.list_objects(self.bucket, prefix="sha256/", recursive=True):
                name = obj.object_name.rsplit("/", 1)[-1]
                if _HEX64.match(name) and obj.object_name == blob_key(name):
                    yield StoredObject(name, obj.size, obj.last_modified, obj.object_name)
            for obj in self.client.list_objects(self.bucket, prefix=f"{OBJECTS}/", recursive=True):
                if is_upload_key(obj.object_name):
                    yield StoredObject(None, obj.size, obj.last_modified, obj.object_name)

    # -- named records (audit anchors) ------------------------------------------------------------

    def put_record(self, name: str, data: bytes, retain_until: datetime | None = None) -> None:
        """Write once under ``records/<name>``; with object lock, in COMPLIANCE mode until
        ``retain_until`` (nobody, not even the bucket owner, can change or delete it before)."""
        key = record_key(name)
        with _translated():
            if self._exists(key):
                raise errors.Conflict("记录已存在，不能覆盖")
            retention = Retention(COMPLIANCE, retain_until) if retain_until is not None and self.object_lock else None
            # object lock needs an integrity header on the write (minio adds Content-MD5 only over https)
            checksum: dict[str, str | list[str] | tuple[str]] = {
                "x-amz-sdk-checksum-algorithm": "SHA256",
                "x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(data).digest()).decode()}
            self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type="application/json",
                                   metadata=checksum, retention=retention)

    def read_record(self, name: str) -> bytes:
        key = record_key(name)
        with _translated():
            resp = self.client.get_object(self.bucket, key)
            try:
                return resp.read()
            finally:
                resp.close()
                resp.release_conn()

    def list_records(self, prefix: str) -> Iterator[str]:
        with _translated():
            names = [obj.object_name[len("records/"):] for obj in
                     self.client.list_objects(self.bucket, prefix="records/" + prefix, recursive=True)]
        yield from sorted(names)
