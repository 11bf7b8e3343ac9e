"""Issue 7 finding 3: a frozen S3 peer (SIGSTOP on moto_server) is answered with 503 within the configured
timeout, /healthz stays fast meanwhile and /readyz answers 503 after its own short timeout.

A real `archive-service serve` (waitress) runs against its own moto_server, so the shared one is never frozen.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from archive_service.runtime import Runtime
from archive_service.settings import Settings
from archive_service.wiring import FEATURES
from live_server import wait_until_serving
from s3peer import ACCESS_KEY, SECRET_KEY, free_port, moto_process
from storage_support import make_uploader, multipart

BIN = Path(sys.executable).parent
READ_TIMEOUT = 4.0
READY_TIMEOUT = 1.0
PDF = b"%PDF-1.4\n% frozen peer\n%%EOF\n"


def _request(url, method="GET", body=None, headers=None, timeout=120):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, data = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, data = exc.code, exc.read()
    return status, data, time.monotonic() - t0


def test_frozen_s3_peer_gives_503_in_time_while_healthz_stays_fast(tmp_path, migrated_database_url):
    with moto_process() as (endpoint, moto):
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
        env.update(
            ARCHIVE_INSTANCE=str(tmp_path / "inst"), ARCHIVE_DATABASE_URL=migrated_database_url,
            ARCHIVE_STORAGE_URL=f"s3://{ACCESS_KEY}:{SECRET_KEY}@{endpoint}/frozen-{uuid.uuid4().hex[:8]}",
            ARCHIVE_S3_CONNECT_TIMEOUT="1", ARCHIVE_S3_READ_TIMEOUT=str(READ_TIMEOUT), ARCHIVE_S3_RETRIES="1",
            ARCHIVE_READY_TIMEOUT=str(READY_TIMEOUT),
        )
        rt = Runtime.build(Settings.from_env(env=env), features=FEATURES)
        _uid, token = make_uploader(rt)
        rt.engine.dispose()
        auth = {"Authorization": f"Bearer {token}"}

        port = free_port()
        with open(tmp_path / "server.log", "wb") as log:  # the server keeps its own descriptor
            server = subprocess.Popen([str(BIN / "archive-service"), "serve", "--port", str(port), "--no-worker",
                                       "--threads", "8"], env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(base, server, tmp_path / "server.log")
            body, ctype = multipart([("title", "冻结测试", None), ("file", PDF, "a.pdf")])
            status, data, _ = _request(base + "/api/v1/documents", "POST", body, {**auth, "Content-Type": ctype})
            assert status == 201, data
            doc_id = json.loads(data)["id"]
            assert _request(base + f"/api/v1/documents/{doc_id}/content", headers=auth)[0] == 200
            assert _request(base + "/readyz")[0] == 200

            os.kill(moto.pid, signal.SIGSTOP)
            try:
                results: dict[str, tuple] = {}

                def call(name, *args, **kw):
                    results[name] = _request(*args, **kw)

                body2, ctype2 = multipart([("title", "冻结时上传", None), ("file", PDF + b"2", "b.pdf")])
                content = base + f"/api/v1/documents/{doc_id}/content"
                calls = [threading.Thread(target=call, args=(f"download{i}", content), kwargs={"headers": auth})
                         for i in range(5)]
                calls.append(threading.Thread(target=call, args=("upload", base + "/api/v1/documents", "POST", body2,
                                                                 {**auth, "Content-Type": ctype2})))
                for t in calls:
                    t.start()
                time.sleep(0.5)  # the calls above now wait on the frozen peer
                health = [_request(base + "/healthz") for _ in range(5)]
                ready = _request(base + "/readyz")
                for t in calls:
                    t.join()
            finally:
                os.kill(moto.pid, signal.SIGCONT)

            for status, _data, _secs in health:
                assert status == 200
            # /healthz touches neither storage nor database: it answers at once, well within the S3 timeout
            assert max(secs for _s, _d, secs in health) < READ_TIMEOUT / 2
            status, data, secs = ready
            assert status == 503 and json.loads(data)["checks"]["storage"].startswith("error")
            assert secs < READ_TIMEOUT  # its own, shorter timeout
            for name, (status, data, secs) in results.items():
                assert status == 503, (name, data)
                assert json.loads(data)["error"]["code"] == "storage_unavailable"
                # one timed-out read is not retried: about READ_TIMEOUT, never 3 × 60 s
                assert secs < 2 * READ_TIMEOUT + 5, (name, secs)

            # thawed: everything works again
            assert _request(base + f"/api/v1/documents/{doc_id}/content", headers=auth)[:2] == (200, PDF)
            assert _request(base + "/readyz")[0] == 200
        finally:
            server.terminate()
            server.wait(20)
