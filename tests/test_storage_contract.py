"""One behavioural contract for every object store adapter (local disk and S3 via moto_server)."""
from __future__ import annotations

import hashlib
import inspect
import io
import os
import socket
import stat
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from minio.error import S3Error

from archive_service import errors
from archive_service.storage import open_store
from archive_service.storage.base import CHUNK, blob_key
from archive_service.storage.local import LocalStore
from archive_service.storage.s3 import S3Store
from s3peer import ACCESS_KEY, SECRET_KEY

MiB = 1024 * 1024
PART = 5 * MiB  # the smallest S3 part, so that multipart uploads stay quick in tests
SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def new_bucket() -> str:
    return f"contract-{uuid.uuid4().hex[:16]}"


def s3_store(endpoint: str, **kwargs) -> S3Store:
    return S3Store(endpoint, ACCESS_KEY, SECRET_KEY, kwargs.pop("bucket", None) or new_bucket(),
                   part_size=PART, **kwargs)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStore(tmp_path / "objects")
    return s3_store(request.getfixturevalue("s3_endpoint"))


def read_all(store, sha, start=0, end=None) -> bytes:
    return b"".join(store.open(sha, start, end))


def leftovers(store) -> list[str]:
    """Temp files or objects, and unfinished multipart uploads, left in the store."""
    if isinstance(store, LocalStore):
        tmp = store.root / "tmp"
        return [p.name for p in tmp.iterdir()] if tmp.exists() else []
    found = [o.object_name for o in store.client.list_objects(
        store.bucket, prefix="tmp/", recursive=True, include_version=True)]
    return found + [f"upload:{u.key}" for u in store.multipart_uploads()]


class FailingStream(io.RawIOBase):
    """Gives ``good`` bytes, then fails like a dropped client connection."""

    def __init__(self, good: int):
        self.left = good

    def readable(self):
        return True

    def read(self, n=-1):
        if self.left <= 0:
            raise ConnectionResetError("client went away")
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return b"x" * n


# -- the contract ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 10, PART, PART + 1, 2 * PART + 123_457])
def test_put_then_read_back_identical_with_both_digests(store, size):
    data = os.urandom(size)
    result = store.put_stream(io.BytesIO(data))
    assert result.created is True
    assert result.size == size
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.sm3 == hashlib.new("sm3", data).hexdigest()
    assert result.head == data[:8192]
    assert read_all(store, result.sha256) == data
    assert store.exists(result.sha256) and store.size(result.sha256) == size
    assert leftovers(store) == []


def test_sm3_test_vector(store):
    assert store.put_stream(io.BytesIO(b"abc")).sm3 == SM3_ABC


def test_same_bytes_twice_read_back_with_the_same_digests(store):
    """Local disk keeps one file per digest; S3 writes each upload once to its own key (no server-side
    copy) and the database deduplicates by digest — the extra object is gc's."""
    data = os.urandom(PART + 10)
    first = store.put_stream(io.BytesIO(data))
    second = store.put_stream(io.BytesIO(data))
    assert second.sha256 == first.sha256 and second.sm3 == first.sm3 and second.size == len(data)
    assert read_all(store, first.sha256) == data
    listed = {o.key: o.size for o in store.list()}
    if isinstance(store, LocalStore):
        assert (first.created, second.created) == (True, False)
        assert first.key == second.key == blob_key(first.sha256) and listed == {first.key: len(data)}
    else:
        assert first.key != second.key and listed == {first.key: len(data), second.key: len(data)}
    small = store.put_stream(io.BytesIO(b"small")), store.put_stream(io.BytesIO(b"small"))
    assert read_all(store, small[1].sha256) == b"small"
    assert leftovers(store) == []


def test_storing_existing_bytes_again_renews_their_age(store):
    """gc collects unreferenced blobs by age; bytes stored again must be held by a young object."""
    import time

    first = store.put_stream(io.BytesIO(b"revived orphan"))
    before = next(o.modified for o in store.list() if o.key == first.key)
    time.sleep(1.1)  # S3 reports modification times in whole seconds
    again = store.put_stream(io.BytesIO(b"revived orphan"))
    after = next(o.modified for o in store.list() if o.key == again.key)
    assert after > before


def test_discard_removes_by_key_unless_renewed(store):
    result = store.put_stream(io.BytesIO(b"collect me"))
    now = datetime.now(UTC)
    assert store.discard(result.key, older_than=now - timedelta(hours=1)) is False  # written since: kept
    assert read_all(store, result.sha256) == b"collect me"
    assert store.discard(result.key, older_than=now + timedelta(minutes=5)) is True
    assert result.key not in {o.key for o in store.list()}
    assert store.discard(result.key) is False  # already gone
    with pytest.raises(ValueError):
        store.discard("../" + result.key)


def test_range_reads_are_inclusive_and_clamped(store):
    data = os.urandom(2 * CHUNK + 100)
    sha = store.put_stream(io.BytesIO(data)).sha256
    for start, end in [(0, 0), (5, 9), (CHUNK - 1, CHUNK + 1), (100, None), (0, len(data) - 1)]:
        expected = data[start:] if end is None else data[start:end + 1]
        assert read_all(store, sha, start, end) == expected, (start, end)
    assert read_all(store, sha, len(data) - 3, len(data) + 1000) == data[-3:]  # end clamped
    assert read_all(store, sha, len(data)) == b""  # start at the end: nothing
    with pytest.raises(ValueError):
        store.open(sha, 10, 9)
    with pytest.raises(ValueError):
        store.open(sha, -1)


def test_open_can_be_closed_without_reading(store):
    sha = store.put_stream(io.BytesIO(b"x" * 100)).sha256
    chunks = store.open(sha)
    chunks.close()
    chunks.close()
    assert read_all(store, sha) == b"x" * 100  # the connection or file was released


@pytest.mark.parametrize("size, limit", [(1000, 100), (2 * PART + 1, PART + 7)])
def test_size_limit_raises_too_large_and_keeps_nothing(store, size, limit):
    with pytest.raises(errors.TooLarge):
        store.put_stream(io.BytesIO(os.urandom(size)), max_bytes=limit)
    assert list(store.list()) == []
    assert leftovers(store) == []
    exact = store.put_stream(io.BytesIO(b"y" * limit), max_bytes=limit)
    assert exact.size == limit


@pytest.mark.parametrize("good", [10, PART + 3])
def test_failing_input_stream_is_reraised_and_keeps_nothing(store, good):
    threads = threading.active_count()
    with pytest.raises(ConnectionResetError):  # the caller's error, not a storage outage
        store.put_stream(FailingStream(good))
    assert list(store.list()) == []
    assert leftovers(store) == []
    assert threading.active_count() == threads  # no reader or upload threads left behind


def test_delete(store):
    sha = store.put_stream(io.BytesIO(b"to be deleted")).sha256
    store.delete(sha)
    assert not store.exists(sha)
    assert list(store.list()) == []
    with pytest.raises(errors.NotFound):
        store.open(sha)
    with pytest.raises(errors.NotFound):
        store.delete(sha)
    again = store.put_stream(io.BytesIO(b"to be deleted"))
    assert again.created is True and read_all(store, sha) == b"to be deleted"


def test_missing_objects_are_not_found(store):
    sha = hashlib.sha256(b"never stored").hexdigest()
    assert store.exists(sha) is False
    with pytest.raises(errors.NotFound):
        store.open(sha)  # raised by open itself, before any iteration
    with pytest.raises(errors.NotFound):
        store.size(sha)
    with pytest.raises(errors.NotFound):
        store.delete(sha)


@pytest.mark.parametrize("bad", ["../etc/passwd", "", "A" * 64, "g" * 64, "a" * 63, "a" * 64 + "/"])
def test_only_digests_name_blobs(store, bad):
    with pytest.raises(ValueError):
        blob_key(bad)
    for call in (store.open, store.exists, store.size, store.delete):
        with pytest.raises(ValueError):
            call(bad)
    with pytest.raises(ValueError):
        store.set_retention(bad, datetime.now(UTC) + timedelta(days=1))


def test_list_yields_every_blob_with_size_and_utc_time(store):
    before = datetime.now(UTC) - timedelta(minutes=5)
    payloads = [b"", b"one", os.urandom(PART + 1)]
    keys = {store.put_stream(io.BytesIO(p)).key: len(p) for p in payloads}
    listed = list(store.list())
    assert {o.key: o.size for o in listed} == keys
    for obj in listed:
        assert obj.modified.utcoffset() == timedelta(0)
        assert before <= obj.modified <= datetime.now(UTC) + timedelta(minutes=5)


def test_ping(store):
    store.ping()


# -- S3 only -------------------------------------------------------------------------------------


def test_s3_creates_missing_bucket(s3_endpoint):
    name = new_bucket()
    store = s3_store(s3_endpoint, bucket=name)
    assert store.client.bucket_exists(name)
    s3_store(s3_endpoint, bucket=name).ping()  # an existing bucket is reused


def retention_headers(store, key):
    headers = store.client.stat_object(store.bucket, key).metadata
    return headers.get("x-amz-object-lock-mode"), headers.get("x-amz-object-lock-retain-until-date")


def test_s3_object_lock_retention_refuses_deletion(s3_endpoint):
    store = s3_store(s3_endpoint, object_lock=True)
    data = os.urandom(PART + 5)  # multipart path
    stored = store.put_stream(io.BytesIO(data))
    sha, key = stored.sha256, stored.key
    assert leftovers(store) == []
    until = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    store.set_retention(sha, until)
    mode, retain_until = retention_headers(store, key)
    assert mode == "COMPLIANCE"
    assert retain_until.startswith(until.strftime("%Y-%m-%dT%H:%M:%S"))

    version = store.client.stat_object(store.bucket, key).version_id
    with pytest.raises(S3Error):
        store.client.remove_object(store.bucket, key, version_id=version)
    with pytest.raises(errors.Conflict):
        store.delete(sha)
    with pytest.raises(errors.Conflict):
        store.discard(key)
    assert read_all(store, sha) == data
    assert read_all(store, store.put_stream(io.BytesIO(data)).sha256) == data


def test_s3_retention_needs_an_object_lock_bucket(s3_endpoint):
    store = s3_store(s3_endpoint)
    sha = store.put_stream(io.BytesIO(b"plain")).sha256
    with pytest.raises(errors.Conflict):
        store.set_retention(sha, datetime.now(UTC) + timedelta(days=1))


def test_s3_writes_each_upload_once_at_its_upload_key(s3_endpoint):
    """No temp object and no server-side copy: one PUT (or one multipart upload) to the final key."""
    store = s3_store(s3_endpoint)
    for size in (100, 2 * PART + 7):
        data = os.urandom(size)
        result = store.put_stream(io.BytesIO(data))
        assert result.key.startswith("objects/") and len(result.key) == len("objects/") + 32
        names = [o.object_name for o in store.client.list_objects(store.bucket, recursive=True, include_version=True)
                 if o.object_name == result.key or not o.object_name.startswith("objects/")]
        assert names == [result.key]
        assert b"".join(store.client.get_object(store.bucket, result.key).stream(CHUNK)) == data
        assert read_all(store, result.sha256) == data
    assert leftovers(store) == []


def test_s3_finds_blobs_through_the_locator(s3_endpoint):
    """Another process knows a digest's key only from the database (``use_locator``)."""
    writer = s3_store(s3_endpoint)
    data = os.urandom(PART + 3)
    result = writer.put_stream(io.BytesIO(data))
    reader = s3_store(s3_endpoint, bucket=writer.bucket)
    with pytest.raises(errors.NotFound):  # neither recorded nor written by this process
        reader.open(result.sha256)
    recorded = {result.sha256: result.key}
    reader.use_locator(recorded.get)
    assert read_all(reader, result.sha256) == data
    assert reader.exists(result.sha256) and reader.size(result.sha256) == len(data)
    with pytest.raises(ValueError):  # a key from the database is still checked
        s3_store(s3_endpoint, bucket=writer.bucket).use_locator(lambda _sha: "../../etc") or \
            read_all(_located(writer.bucket, s3_endpoint, "../../etc"), result.sha256)


def _located(bucket, endpoint, key):
    store = s3_store(endpoint, bucket=bucket)
    store.use_locator(lambda _sha: key)
    return store


def test_s3_outage_is_storage_unavailable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    t0 = time.monotonic()
    store = s3_store(f"127.0.0.1:{port}")  # constructing does not fail: the service may start first
    with pytest.raises(errors.StorageUnavailable):
        store.ping()
    with pytest.raises(errors.StorageUnavailable):
        store.put_stream(io.BytesIO(b"data"))
    with pytest.raises(errors.StorageUnavailable):
        store.open(hashlib.sha256(b"data").hexdigest())
    assert time.monotonic() - t0 < 20


# -- local only ----------------------------------------------------------------------------------


def test_local_blobs_are_reachable_only_by_digest(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not an archive object")
    store = LocalStore(tmp_path / "objects")
    sha = store.put_stream(io.BytesIO(b"stored")).sha256
    allowed = {"self", "stream", "max_bytes", "sha256", "start", "end", "until", "before", "key", "older_than",
               "locate", "name", "data", "retain_until", "prefix"}  # records: names checked by record_key
    for name, method in inspect.getmembers(store, inspect.ismethod):
        if not name.startswith("_"):
            assert set(inspect.signature(method).parameters) <= allowed, name
    for bad in ["../secret.txt", "../../secret.txt", str(secret)]:
        with pytest.raises(ValueError):
            store.open(bad)
        with pytest.raises(ValueError):
            store.read_record(bad)
    for bad in ["audit-anchors/../../secret.txt", "../secret.txt", "/etc/passwd", "audit-anchors/x/../../y"]:
        with pytest.raises(ValueError):
            store.put_record(bad, b"x")
    files = [p for p in (tmp_path / "objects").rglob("*") if p.is_file()]
    assert files == [store.root / blob_key(sha)]


def test_local_retention_makes_the_file_read_only(tmp_path):
    store = LocalStore(tmp_path / "objects")
    sha = store.put_stream(io.BytesIO(b"keep me")).sha256
    store.set_retention(sha, datetime.now(UTC) + timedelta(days=1))
    assert stat.S_IMODE((store.root / blob_key(sha)).stat().st_mode) == 0o444


def test_local_ping_fails_when_root_is_gone(tmp_path):
    store = LocalStore(tmp_path / "objects")
    (tmp_path / "objects").rmdir()
    (tmp_path / "objects").write_text("a file where the folder was")
    with pytest.raises(errors.StorageUnavailable):
        store.ping()


# -- open_store ----------------------------------------------------------------------------------


def test_open_store_file_url(tmp_path):
    store = open_store((tmp_path / "my objects").as_uri())
    assert isinstance(store, LocalStore) and store.root == tmp_path / "my objects"


def test_open_store_s3_url(s3_endpoint):
    bucket = new_bucket()
    store = open_store(f"s3://AK%2Fx:S%40cret%3A1@{s3_endpoint}/{bucket}?secure=false&object_lock=true")
    assert isinstance(store, S3Store)
    assert (store.bucket, store.object_lock) == (bucket, True)
    creds = store.client._provider.retrieve()
    assert (creds.access_key, creds.secret_key) == ("AK/x", "S@cret:1")


@pytest.mark.parametrize("url", [
    "", "/tmp/objects", "file://relative/objects", "http://host/bucket", "s3://host:9000/bucket",
    "s3://ak:SECRETVALUE@host:9000/", "s3://ak:SECRETVALUE@host:9000/a/b",
    "s3://ak:SECRETVALUE@host:9000/bucket?secure=maybe", "s3://ak:SECRETVALUE@host:9000/bucket?tls=1",
])
def test_open_store_rejects_bad_urls_without_echoing_secrets(url):
    with pytest.raises(ValueError) as caught:
        open_store(url)
    assert "SECRETVALUE" not in str(caught.value)
