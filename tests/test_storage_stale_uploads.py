"""gc aborts uploads left unfinished (S3 multipart uploads, local temp files) once older than its grace."""
from __future__ import annotations

import io
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from archive_service.documents import collect_orphans
from archive_service.storage.local import LocalStore
from archive_service.storage.s3 import S3Store, new_upload_name
from s3peer import ACCESS_KEY, SECRET_KEY


def _s3(endpoint) -> S3Store:
    return S3Store(endpoint, ACCESS_KEY, SECRET_KEY, f"stale-{uuid.uuid4().hex[:12]}", part_size=5 * 1024 * 1024)


def _leave_upload(endpoint: str, store: S3Store) -> str:
    """A multipart upload started and never finished, as a process that died mid-upload leaves it
    (started by another S3 client, boto3, through the public API)."""
    client = boto3.client("s3", endpoint_url=f"http://{endpoint}", aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, region_name="us-east-1")
    return client.create_multipart_upload(Bucket=store.bucket, Key=new_upload_name("objects"))["UploadId"]


def _uploads(store: S3Store) -> list[str]:
    return [u.upload_id for u in store.multipart_uploads()]


def test_s3_abort_stale_uploads(s3_endpoint):
    store = _s3(s3_endpoint)
    started = _leave_upload(s3_endpoint, store)
    assert _uploads(store) == [started]
    assert store.abort_stale_uploads(datetime.now(UTC) - timedelta(hours=1)) == 0  # still young
    assert _uploads(store) == [started]
    assert store.abort_stale_uploads(datetime.now(UTC) + timedelta(minutes=1)) == 1
    assert _uploads(store) == []


def test_local_abort_stale_uploads(tmp_path):
    store = LocalStore(tmp_path / "objects")
    (store.root / "tmp").mkdir()
    old, young = store.root / "tmp" / "put-old", store.root / "tmp" / "put-young"
    old.write_bytes(b"left by a crash")
    young.write_bytes(b"in progress")
    past = time.time() - 7200
    os.utime(old, (past, past))
    assert store.abort_stale_uploads(datetime.now(UTC) - timedelta(hours=1)) == 1
    assert not old.exists() and young.exists()


def test_gc_aborts_stale_multipart_uploads(rt, s3_endpoint):
    store = _s3(s3_endpoint)
    _leave_upload(s3_endpoint, store)
    kept = store.put_stream(io.BytesIO(b"not referenced, but young"))
    with rt.factory() as s:
        assert collect_orphans(s, store, rt.clock, timedelta(hours=1)) == []
        assert _uploads(store) != []
        collect_orphans(s, store, rt.clock, timedelta(seconds=-60))
    assert _uploads(store) == []
    assert not store.exists(kept.sha256)


@pytest.mark.parametrize("good", [5 * 1024 * 1024 + 3, 11 * 1024 * 1024])
def test_s3_failed_multipart_upload_is_aborted(s3_endpoint, good):
    from test_storage_contract import FailingStream

    store = _s3(s3_endpoint)
    with pytest.raises(ConnectionResetError):
        store.put_stream(FailingStream(good))
    assert _uploads(store) == []
