"""Issue 7 finding 4: bodies of non-upload requests are bounded (413) and JSON nesting is bounded (400),
both before the body is parsed; uploads keep their own, larger limit."""
from __future__ import annotations

import io
import itertools
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive_service.models import AuditEvent, Document
from archive_service.settings import Settings
from letters_support import LETTER

BIN = Path(sys.executable).parent


def _nested(depth: int) -> str:
    return '{"username": ' + "[" * depth + "]" * depth + ', "password": "x"}'


def test_deep_json_is_400_on_every_json_endpoint(clients):
    client, h = clients("drafter")
    for url, method in [("/api/v1/auth/token", "post"), ("/api/v1/letters", "post"), ("/api/v1/render", "post"),
                        ("/api/v1/meetings", "post"), ("/api/v1/letters/1", "patch"),
                        ("/api/v1/inbox/1/actions", "post"), ("/api/v1/meetings/1/attendance", "post")]:
        for depth in (33, 1000, 100_000):
            resp = getattr(client, method)(url, data=_nested(depth), content_type="application/json", headers=h)
            assert resp.status_code == 400, (url, depth, resp.get_data(as_text=True)[:200])
            assert "嵌套" in resp.get_json()["error"]["message"]
    # brackets inside strings do not count, and ordinary nesting passes the limit
    resp = client.post("/api/v1/letters", json={**LETTER, "body": ["[" * 5000, "{" * 5000]}, headers=h)
    assert resp.status_code == 201, resp.get_json()


def test_a_body_over_the_limit_is_413_before_it_is_read(clients, rt):
    client, h = clients("drafter")
    with rt.factory() as s:
        before = (s.scalar(select(func.count()).select_from(Document)),
                  s.scalar(select(func.count()).select_from(AuditEvent)))
    big = json.dumps({"username": "drafter", "password": "x" * (1024 * 1024)})
    resp = client.post("/api/v1/auth/token", data=big, content_type="application/json")
    assert resp.status_code == 413
    err = resp.get_json()["error"]
    assert err["code"] == "too_large" and "1024 KB" in err["message"]
    assert client.post("/api/v1/letters", data=big, content_type="application/json", headers=h).status_code == 413
    # a declared length is refused without reading the body
    resp = client.post("/api/v1/auth/token", input_stream=io.BytesIO(b"{}"), content_type="application/json",
                       environ_overrides={"CONTENT_LENGTH": str(200 * 1024 * 1024)})
    assert resp.status_code == 413
    # forms too (the login form), and the page answers in Chinese
    resp = client.post("/login", data={"username": "u", "password": "p" * (1024 * 1024 + 1)})
    assert resp.status_code == 413 and "请求体过大" in resp.get_data(as_text=True)
    with rt.factory() as s:
        after = (s.scalar(select(func.count()).select_from(Document)),
                 s.scalar(select(func.count()).select_from(AuditEvent)))
    assert after == before


def test_uploads_keep_their_own_limit(clients):
    client, h = clients("drafter")
    data = "审批档案正文，一行。\n".encode() * 100_000  # 3 MB: over the 1 MB body limit, under the tests' 5 MB
    resp = client.post("/api/v1/documents", headers=h, content_type="multipart/form-data",
                       data={"title": "大于一兆的文件", "file": (io.BytesIO(data), "big.txt")})
    assert resp.status_code == 201, resp.get_json()
    letter = client.post("/api/v1/letters", json=LETTER, headers=h).get_json()
    resp = client.post(f"/api/v1/letters/{letter['id']}/attachments", headers=h, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), "附件.txt")})
    assert resp.status_code == 201, resp.get_json()


def test_the_limit_is_a_setting(tmp_path):
    from archive_service.db import migrate
    from archive_service.runtime import Runtime
    from archive_service.web import create_app

    settings = Settings.from_env(env={"ARCHIVE_INSTANCE": str(tmp_path / "i"), "ARCHIVE_MAX_BODY_KB": "4"},
                                 testing=True)
    assert settings.max_body_bytes == 4096
    rt = Runtime.build(settings)
    migrate(rt.engine)
    client = create_app(rt).test_client()
    body = {"username": "nobody", "password": "x" * 5000}
    resp = client.post("/api/v1/auth/token", json=body)
    assert resp.status_code == 413 and "4 KB" in resp.get_json()["error"]["message"]
    assert client.post("/api/v1/auth/token", json={"username": "nobody", "password": "x"}).status_code == 401
    rt.engine.dispose()


# -- a real server: a 200 MB body does not grow the process --------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _send(port: int, head: bytes, chunks, size_hint: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head)
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before the whole body is sent
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while True:
            part = sock.recv(65536)
            if not part:
                return reply
            reply += part


@pytest.fixture
def server(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env.update(ARCHIVE_INSTANCE=str(tmp_path / "instance"))
    subprocess.run([str(BIN / "archive-service"), "init"], env=env, check=True, capture_output=True)
    port = _free_port()
    with open(tmp_path / "server.log", "wb") as log:
        proc = subprocess.Popen([str(BIN / "archive-service"), "serve", "--port", str(port), "--no-worker"],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield proc, port
        proc.terminate()
        proc.wait(10)


def test_a_200_mb_json_body_without_login_does_not_grow_the_server(server):
    proc, port = server
    size = 200 * 1024 * 1024
    chunk = b" " * (1024 * 1024)
    warm = _send(port, b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Content-Length: 2\r\nConnection: close\r\n\r\n{}", [], 0)
    assert b" 422 " in warm.split(b"\r\n")[0]
    before = _rss_kb(proc.pid)
    declared = _send(port, b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           b"Content-Length: %d\r\nConnection: close\r\n\r\n" % size,
                     (chunk for _ in range(size // len(chunk))), size)
    assert b" 413 " in declared.split(b"\r\n")[0], declared[:300]
    chunked = _send(port, b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                    itertools.chain((b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(size // len(chunk))),
                                    [b"0\r\n\r\n"]), size)
    assert b" 413 " in chunked.split(b"\r\n")[0], chunked[:300]
    grown_mb = (_rss_kb(proc.pid) - before) / 1024
    assert grown_mb < 48, f"server RSS grew by {grown_mb:.0f} MB"
    nested = "[" * 1000 + "]" * 1000
    deep = _send(port, b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(nested), nested.encode()), [], 0)
    assert b" 400 " in deep.split(b"\r\n")[0]
