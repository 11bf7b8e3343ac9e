"""Issue 8 part 10 end to end: on an S3 store every upload is written once to its own key; the database
deduplicates by digest (blobs.storage_key), readers find the bytes by digest, gc removes the extra
object, and verify/fixity keep working. The dedup race of issue 7 finding 1 also holds on S3."""
from __future__ import annotations

import os
import threading
import uuid
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from archive_service.cli import main
from archive_service.db import migrate
from archive_service.documents import collect_orphans
from archive_service.models import Blob
from archive_service.runtime import Runtime
from archive_service.settings import Settings
from archive_service.web import create_app
from s3peer import ACCESS_KEY, SECRET_KEY
from storage_support import make_uploader, multipart

PDF = b"%PDF-1.4\n% s3 dedup\n"


def _runtime(tmp_path, database_url, endpoint) -> Runtime:
    env = {"ARCHIVE_INSTANCE": str(tmp_path / "inst"), "ARCHIVE_DATABASE_URL": database_url,
           "ARCHIVE_STORAGE_URL": f"s3://{ACCESS_KEY}:{SECRET_KEY}@{endpoint}/dedup-{uuid.uuid4().hex[:12]}"}
    rt = Runtime.build(Settings.from_env(env=env, testing=True))
    migrate(rt.engine)
    return rt


def _post(client, token, data, title="同一文件", name="a.pdf"):
    body, ctype = multipart([("title", title, None), ("file", data, name)])
    return client.post("/api/v1/documents", data=body,
                       headers={"Authorization": f"Bearer {token}", "Content-Type": ctype})


def _get(client, token, doc_id):
    return client.get(f"/api/v1/documents/{doc_id}/content", headers={"Authorization": f"Bearer {token}"})


def test_same_bytes_twice_one_blob_row_gc_removes_the_extra_object(tmp_path, database_url, s3_endpoint,
                                                                  monkeypatch):
    rt = _runtime(tmp_path, database_url, s3_endpoint)
    try:
        app = create_app(rt)
        _uid, token = make_uploader(rt)
        data = PDF + os.urandom(6 * 1024 * 1024)
        client = app.test_client()
        first, second = _post(client, token, data), _post(client, token, data)
        assert first.status_code == second.status_code == 201
        assert first.get_json()["sha256"] == second.get_json()["sha256"]
        with rt.factory() as s:
            rows = s.scalars(select(Blob)).all()
            assert len(rows) == 1 and rows[0].storage_key.startswith("objects/")
            kept = rows[0].storage_key
        keys = sorted(o.key for o in rt.store.list())
        assert len(keys) == 2 and kept in keys  # the second upload's object is not referenced

        # another process (a fresh store) finds the bytes through the database
        other = Runtime.build(rt.settings)
        try:
            assert b"".join(other.store.open(first.get_json()["sha256"])) == data
        finally:
            other.engine.dispose()

        with rt.factory() as s:
            assert collect_orphans(s, rt.store, rt.clock, timedelta(hours=1)) == []  # young: kept
            removed = collect_orphans(s, rt.store, rt.clock, timedelta(seconds=-5))
        assert removed == [k for k in keys if k != kept]
        assert [o.key for o in rt.store.list()] == [kept]
        for resp in (first, second):
            download = _get(client, token, resp.get_json()["id"])
            assert download.status_code == 200 and download.data == data

        monkeypatch.setenv("ARCHIVE_INSTANCE", str(rt.settings.instance))
        monkeypatch.setenv("ARCHIVE_DATABASE_URL", rt.settings.database_url)
        monkeypatch.setenv("ARCHIVE_STORAGE_URL", rt.settings.storage_url)
        result = CliRunner().invoke(main, ["verify"], catch_exceptions=False)
        assert result.exit_code == 0 and "failures: 0" in result.output, result.output
    finally:
        rt.engine.dispose()


def test_concurrent_same_bytes_with_refusals_on_s3_lose_nothing(tmp_path, database_url, s3_endpoint):
    rt = _runtime(tmp_path, database_url, s3_endpoint)
    try:
        app = create_app(rt)
        _uid, token = make_uploader(rt)
        acknowledged, statuses, lock = [], [], threading.Lock()
        for round_no in range(int(os.environ.get("RACE_ROUNDS_S3", "20"))):
            payload = PDF + os.urandom(1024)
            barrier = threading.Barrier(4)

            def worker(kind: int, round_no: int = round_no, payload: bytes = payload,
                       barrier: threading.Barrier = barrier) -> None:
                title = f"第{round_no}轮" if kind < 2 else "长" * 301
                parts = [("file", payload, "r.pdf"), ("title", title, None)]  # title after the file
                barrier.wait()
                body, ctype = multipart(parts)
                resp = app.test_client().post("/api/v1/documents", data=body, headers={
                    "Authorization": f"Bearer {token}", "Content-Type": ctype})
                with lock:
                    statuses.append(resp.status_code)
                    if resp.status_code == 201:
                        acknowledged.append((resp.get_json()["id"], payload))

            threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert 500 not in statuses and statuses.count(201) == len(statuses) // 2
        client = app.test_client()
        for doc_id, payload in acknowledged:
            resp = _get(client, token, doc_id)
            assert resp.status_code == 200 and resp.data == payload
    finally:
        rt.engine.dispose()
