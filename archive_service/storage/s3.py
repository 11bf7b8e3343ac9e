"""Object store on an S3-compatible service (MinIO, Ceph RGW, cloud S3) through the ``minio`` client.

An upload is streamed once while ``DigestingReader`` hashes it (in a read-ahead thread, overlapping
the upload). One that fits in a part is stored directly at its content address (``blob_key``).
A larger one goes as a multipart upload to ``tmp/<uuid4>``, is then copied server-side to its
content address unless that already exists, and the temp object is removed (all its versions, in a
versioned bucket). Retention uses object lock in COMPLIANCE mode, which needs a bucket created with
object lock (``object_lock=True`` creates it so when missing).

Transport failures and unexpected service errors become ``errors.StorageUnavailable`` (the cause is
logged, not shown to users); a missing object becomes ``errors.NotFound``. Errors raised by the
caller's stream (a client that went away) are re-raised unchanged.
"""
from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import re
import secrets
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import BinaryIO, Iterator

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE, ComposeSource, CopySource
from minio.error import MinioException, S3Error
from minio.retention import Retention

from .. import errors
from ..hashing import DigestingReader
from .base import (
    CHUNK, ChunkIterator, PutResult, ReadAhead, StoredObject, _HEX64, blob_key, check_range, record_key,
)

log = logging.getLogger(__name__)

PART_SIZE = 16 * 1024 * 1024
MAX_COPY = 5 * 1024**3  # largest single CopyObject; beyond it compose (multipart copy)
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


def new_upload_name(prefix: str) -> str:
    """``prefix/<32 hex>``: the first 12 hex digits are the start time in ms, the rest random, so the
    name itself says when its upload began (some S3 services report no true start time)."""
    return f"{prefix}/{int(time.time() * 1000):012x}{secrets.token_hex(10)}"


def _upload_started(name: str, initiated: datetime | None) -> datetime:
    """When an upload began: the later of the service's account and the time in our own names."""
    times = []
    if initiated is not None:
        times.append(initiated if initiated.tzinfo else initiated.replace(tzinfo=timezone.utc))
    tail = name.rsplit("/", 1)[-1]
    if _UPLOAD_ID.match(tail):
        times.append(datetime.fromtimestamp(int(tail[:12], 16) / 1000, tz=timezone.utc))
    return max(times) if times else datetime.min.replace(tzinfo=timezone.utc)


class _Source:
    """Remembers an exception raised by the caller's stream, so it is not mistaken for a storage fault."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self.error: BaseException | None = None

    def read(self, n: int = -1) -> bytes:
        try:
            return self._stream.read(n)
        except BaseException as exc:
            self.error = exc
            raise


class _Prefixed:
    """``prefix`` followed by the rest of ``stream``."""

    def __init__(self, prefix: bytes, stream):
        self._prefix = prefix
        self._stream = stream

    def read(self, n: int = -1) -> bytes:
        if not self._prefix:
            return self._stream.read(n)
        if n < 0 or n >= len(self._prefix):
            data, self._prefix = self._prefix, b""
            return data
        data, self._prefix = self._prefix[:n], self._prefix[n:]
        return data


def _http_client(connect_timeout: float, read_timeout: float, retries: int) -> urllib3.PoolManager:
    """Every call is bounded: a store that stops answering costs at most ``read_timeout`` per call (a
    timed-out read is not retried), one that refuses connections or answers 5xx is retried ``retries``
    times with a short backoff."""
    return urllib3.PoolManager(
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
    ):
        if part_size < 5 * 1024 * 1024:
            raise ValueError("S3 multipart parts are at least 5 MiB")
        self.bucket = bucket
        self.object_lock = object_lock
        self.part_size = part_size
        self.client = Minio(
            endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region,
            http_client=_http_client(connect_timeout, read_timeout, retries),
        )
        self._bucket_ready = False
        try:
            self._ensure_bucket()
        except errors.StorageUnavailable:
            pass  # created on the next put or ping; the service may start before its storage

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

    def put_stream(self, stream: BinaryIO, max_bytes: int | None = None) -> PutResult:
        if not self._bucket_ready:
            self._ensure_bucket()
        source = _Source(stream)
        reader = DigestingReader(source, max_bytes)
        pipe = ReadAhead(reader)
        try:
            first = pipe.read(self.part_size + 1)
            if len(first) <= self.part_size:  # all in hand: digest known, store at its address
                created = self._put_small(blob_key(reader.sha256), first)
            else:
                data, first = _Prefixed(first, pipe), b""  # let the first part go once sent
                created = self._put_large(data, reader)
            return PutResult(reader.sha256, reader.sm3, reader.size, reader.head, created)
        except BaseException as exc:
            err = None if exc is source.error else _domain_error(exc)
            if err is None:
                raise
            raise err from None
        finally:
            pipe.close()

    def _refresh(self, key: str) -> None:
        """Renew an existing object's modification time (copy onto itself), so a blob revived by a
        new upload is not collected as an orphan before its version row commits."""
        self.client.copy_object(self.bucket, key, CopySource(self.bucket, key), metadata={"x-refreshed": "1"},
                                metadata_directive="REPLACE")

    def _put_small(self, key: str, data: bytes) -> bool:
        if self._exists(key):
            self._refresh(key)
            return False
        self.client.put_object(self.bucket, key, io.BytesIO(data), len(data))
        return True

    def _put_large(self, data: BinaryIO, reader: DigestingReader) -> bool:
        """Multipart upload to a temp object, then a server-side copy to the content address."""
        tmp, version, uploaded = new_upload_name("tmp"), None, False
        try:
            # One worker: the client's parallel-upload pool leaks its threads when the stream fails;
            # ReadAhead already overlaps reading and hashing with the upload.
            written = self.client.put_object(
                self.bucket, tmp, data, length=-1, part_size=self.part_size, num_parallel_uploads=1,
            )
            uploaded = True
            version = None if written.version_id in (None, "null") else written.version_id
            key = blob_key(reader.sha256)
            if self._exists(key):
                self._refresh(key)
                return False
            if reader.size > MAX_COPY:
                sources = [ComposeSource(self.bucket, tmp, version_id=version)]
                self.client.compose_object(self.bucket, key, sources)
            else:
                self.client.copy_object(self.bucket, key, CopySource(self.bucket, tmp, version_id=version))
            return True
        finally:
            self._discard(tmp, version, uploaded)

    def _discard(self, name: str, version: str | None, known: bool) -> None:
        """Remove a temp object (every version of it when its version is unknown); never raises."""
        try:
            if known:
                self.client.remove_object(self.bucket, name, version_id=version)
                return
            for obj in self.client.list_objects(self.bucket, prefix=name, include_version=True):
                if obj.object_name == name:
                    self.client.remove_object(self.bucket, name, version_id=obj.version_id)
        except Exception as exc:  # cleanup must not hide the original outcome
            log.warning("could not remove temp object %s: %s", name, exc)

    def abort_stale_uploads(self, before: datetime) -> int:
        """Abort multipart uploads started before ``before`` (aware); their parts are freed."""
        aborted = 0
        with _translated():
            key_marker = upload_marker = None
            while True:
                page = self.client._list_multipart_uploads(
                    self.bucket, key_marker=key_marker, upload_id_marker=upload_marker)
                for upload in page.uploads:
                    if _upload_started(upload.object_name, upload.initiated_time) < before:
                        try:
                            self.client._abort_multipart_upload(self.bucket, upload.object_name, upload.upload_id)
                            aborted += 1
                        except S3Error as exc:
                            if exc.code != "NoSuchUpload":
                                raise
                if not page.is_truncated or not page.uploads:
                    return aborted
                # (minio's result loses NextUploadIdMarker: continue after the last upload listed)
                key_marker, upload_marker = page.uploads[-1].object_name, page.uploads[-1].upload_id

    def set_retention(self, sha256: str, until: datetime) -> None:
        if until.tzinfo is None:
            raise ValueError("retention dates must be timezone-aware")
        key = blob_key(sha256)
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
        key = blob_key(sha256)
        if not self.object_lock:
            raise errors.Conflict("存储桶未启用对象锁定，无法设置保留期限")
        with _translated():
            self.client.enable_object_legal_hold(self.bucket, key)

    def delete(self, sha256: str) -> None:
        """Remove every version of the blob (in versioned buckets a plain delete keeps the data)."""
        key = blob_key(sha256)
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
        key = blob_key(sha256)
        length = 0 if end is None else end - start + 1
        with _translated():
            try:
                response = self.client.get_object(self.bucket, key, offset=start, length=length)
            except S3Error as exc:
                if exc.code == "InvalidRange":  # start at or past the end
                    self.size(sha256)  # NotFound still wins
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
        key = blob_key(sha256)
        with _translated():
            return self._exists(key)

    def size(self, sha256: str) -> int:
        key = blob_key(sha256)
        with _translated():
            return self.client.stat_object(self.bucket, key).size

    def list(self) -> Iterator[StoredObject]:
        with _translated():
            for obj in self.client.list_objects(self.bucket, prefix="sha256/", recursive=True):
                name = obj.object_name.rsplit("/", 1)[-1]
                if _HEX64.match(name) and obj.object_name == blob_key(name):
                    yield StoredObject(name, obj.size, obj.last_modified)

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
            checksum = {"x-amz-sdk-checksum-algorithm": "SHA256",
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
