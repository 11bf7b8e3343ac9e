"""Retention and WORM: on an S3 bucket with object lock every blob of a filed item gets COMPLIANCE
retention (Y: a legal hold) and cannot be deleted; local disk only makes files read-only and says so;
a filed document gets no new version (409); the disposal review is signed off, never automatic."""
from __future__ import annotations

import io
import uuid

import pytest
from minio.error import S3Error

from archive_service import errors
from archive_service.archive.models import ArchiveItem
from archive_service.clock import FixedClock
from archive_service.models import Blob
from archive_service.runtime import Runtime
from archive_service.settings import Settings
from archive_service.wiring import FEATURES
from archive_support import (  # noqa: F401  (fixtures)
    arch_clients,
    arch_people,
    county_in,
    make_pdf,
    service,
    upload_pdf,
    users,
)
from s3peer import ACCESS_KEY, SECRET_KEY


@pytest.fixture
def s3rt(county_copy, s3_endpoint):
    bucket = f"archive-{uuid.uuid4().hex[:12]}"
    instance, url = county_copy
    settings = Settings.from_env(env={
        "ARCHIVE_INSTANCE": str(instance), "ARCHIVE_DATABASE_URL": url,
        "ARCHIVE_STORAGE_URL": f"s3://{ACCESS_KEY}:{SECRET_KEY}@{s3_endpoint}/{bucket}?secure=false&object_lock=true",
    }, testing=True)
    rt = Runtime.build(settings, features=FEATURES)
    county_in(rt, over_small_county=True)
    yield rt
    rt.engine.dispose()


def _file(rt, retention):
    with rt.factory() as s:
        u = users(s)["zjj_staff"]
        doc = upload_pdf(rt, s, "zjj_staff", f"住建局{retention}")
        svc = service(rt, s)
        item = svc.file(u, svc.bundle(u, document_id=doc.id), retention)
        s.commit()
        note = svc.apply_retention(item)
        s.commit()
        return item.id, [p.sha256 for p in item.parts], note, item.retention_until


def blob_key(rt, sha):
    """The object key the database records for a blob (S3 writes each upload to its own key)."""
    with rt.factory() as s:
        return s.get(Blob, sha).storage_key


def test_s3_object_lock_retention_on_every_part_and_deletes_refused(s3rt):
    store = s3rt.store
    _item_id, shas, note, until = _file(s3rt, "D10")
    assert until.year == s3rt.clock.today().year + 10 and (until.month, until.day) == (12, 31)
    assert "对象锁定" in note
    assert len(shas) == 2  # the PDF and its 归档章 copy
    for sha in shas:
        stat = store.client.stat_object(store.bucket, blob_key(s3rt, sha))
        assert stat.metadata.get("x-amz-object-lock-mode") == "COMPLIANCE"
        assert stat.metadata.get("x-amz-object-lock-retain-until-date", "").startswith(f"{until.isoformat()}T23:59:59")
        with pytest.raises(S3Error):
            store.client.remove_object(store.bucket, blob_key(s3rt, sha), version_id=stat.version_id)
        with pytest.raises(errors.Conflict):
            store.delete(sha)


def test_s3_permanent_items_get_a_legal_hold(s3rt):
    store = s3rt.store
    _item_id, shas, note, until = _file(s3rt, "Y")
    assert until is None and "法律保留" in note
    for sha in shas:
        assert store.client.is_object_legal_hold_enabled(store.bucket, blob_key(s3rt, sha))
        stat = store.client.stat_object(store.bucket, blob_key(s3rt, sha))
        with pytest.raises(S3Error):
            store.client.remove_object(store.bucket, blob_key(s3rt, sha), version_id=stat.version_id)


@pytest.fixture
def arch(rt, arch_people):  # noqa: F811
    return rt


def test_local_store_is_read_only_and_says_it_cannot_enforce(arch):
    _item_id, shas, note, _until = _file(arch, "D30")
    assert "本地存储只能设为只读" in note
    for sha in shas:
        assert arch.store._path(sha).stat().st_mode & 0o222 == 0


def test_a_filed_document_refuses_a_new_version_over_the_api(arch, arch_clients):  # noqa: F811
    clients = arch_clients
    client, h = clients("zjj_staff")
    doc_id = client.post("/api/v1/documents", headers=h, data={
        "title": "住建局通知", "file": (io.BytesIO(make_pdf("x")), "x.pdf")}).get_json()["id"]
    filed = client.post("/api/v1/archive/items", headers=h, json={"document_id": doc_id, "retention": "D10"})
    assert filed.status_code == 201
    resp = client.post(f"/api/v1/documents/{doc_id}/versions", headers=h,
                       data={"file": (io.BytesIO(make_pdf("y")), "y.pdf")})
    assert resp.status_code == 409, resp.get_json()
    assert "已归档" in resp.get_json()["error"]["message"]


def test_disposal_review_is_proposed_and_signed_off_nothing_deleted(county_copy):
    from datetime import datetime

    clock = FixedClock(datetime(2026, 3, 1, 2, 0))
    instance, url = county_copy
    settings = Settings.from_env(env={"ARCHIVE_INSTANCE": str(instance), "ARCHIVE_DATABASE_URL": url}, testing=True)
    rt = Runtime.build(settings, clock=clock, features=FEATURES)
    county_in(rt, over_small_county=True)
    item_id, shas, _note, until = _file(rt, "D10")
    clock.advance(days=(until - clock.today()).days + 2)
    with rt.factory() as s:
        u = users(s)
        svc = service(rt, s)
        due = svc.disposal_due(u["zjj_staff"])
        assert [i.id for i in due] == [item_id]
        item = s.get(ArchiveItem, item_id)
        with pytest.raises(errors.Conflict):
            svc.release(u["zjj_staff"], svc.propose_disposal(u["zjj_staff"], item, "destroy", "已无保存价值"))
        review = svc.review_for(item)
        with pytest.raises(errors.Forbidden):
            svc.sign_disposal(u["zjj_staff"], review, "同意")  # an archivist cannot sign
        svc.sign_disposal(u["zjj_leader"], review, "同意销毁")
        svc.release(u["zjj_staff"], review)
        s.commit()
        assert review.released_at is not None
        for sha in shas:
            assert rt.store.exists(sha)  # released, never deleted automatically
    rt.engine.dispose()


def test_the_worker_locks_items_whose_retention_is_still_pending(arch):
    from archive_service.archive.jobs import ArchiveJobs

    with arch.factory() as s:
        u = users(s)["zjj_staff"]
        doc = upload_pdf(arch, s, "zjj_staff", "待加锁的文件")
        svc = service(arch, s)
        item = svc.file(u, svc.bundle(u, document_id=doc.id), "Y")
        s.commit()  # committed, but the process stopped before the lock was set
        item_id, shas = item.id, [p.sha256 for p in item.parts]
    assert ArchiveJobs(arch).apply_pending_retention() == 1
    with arch.factory() as s:
        item = s.get(ArchiveItem, item_id)
        assert item.retention_applied_at is not None and "本地存储" in item.retention_note
    for sha in shas:
        assert arch.store._path(sha).stat().st_mode & 0o222 == 0
    assert ArchiveJobs(arch).apply_pending_retention() == 0
