"""Issue 7 finding 12: a bounded schemathesis run against a real server finds no server error.

A real `archive-service serve` over the test database (SQLite, or PostgreSQL on that leg) with the demo
county; schemathesis reads /api/v1/openapi.json and sends generated valid and invalid requests to every
operation, as a drafter and as an administrator, with a fixed seed (deterministic). The long run of the
issue (≥ 3,000 cases per role and database) is the same command with a larger --max-examples and the
coverage phase: see README "API".
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from live_server import wait_until_serving

BIN = Path(sys.executable).parent
SEED = 20261201
MAX_EXAMPLES = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _token(base: str, username: str) -> str:
    req = urllib.request.Request(f"{base}/api/v1/auth/token", method="POST",
                                 data=json.dumps({"username": username, "password": "demo-2026"}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)["token"]


@pytest.fixture
def server(tmp_path, database_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env.update(ARCHIVE_INSTANCE=str(tmp_path / "instance"), ARCHIVE_DATABASE_URL=database_url,
               ARCHIVE_MAX_UPLOAD_MB="5")
    subprocess.run([str(BIN / "archive-service"), "init", "--demo"], env=env, check=True, capture_output=True)
    port = _free_port()
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(BIN / "archive-service"), "serve", "--port", str(port), "--no-worker"],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base, proc, log_path)
        yield base, log_path
        proc.terminate()
        proc.wait(10)


def test_schemathesis_finds_no_server_error(server, tmp_path):
    base, log_path = server
    tokens = {user: _token(base, user) for user in ("drafter", "admin")}  # before fuzzing trips the login limit
    total = 0
    for user, token in tokens.items():
        out = subprocess.run(
            [str(BIN / "schemathesis"), "run", f"{base}/api/v1/openapi.json", "--checks", "not_a_server_error",
             "--header", f"Authorization: Bearer {token}", "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
             "--workers", "1", "--no-shrink", "--phases", "examples,fuzzing",
             "--exclude-name", "DELETE /api/v1/auth/token",  # would revoke the token the run uses
             "--report", "junit", "--report-dir", str(tmp_path / f"report-{user}")],
            capture_output=True, text=True, cwd=tmp_path,
            env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"})
        assert out.returncode == 0, f"as {user}:\n{out.stdout[-6000:]}\n{log_path.read_text()[-4000:]}"
        m = re.search(r"(\d+) generated", out.stdout)
        assert m, out.stdout[-2000:]
        total += int(m.group(1))
        selected, tested = re.search(r"Selected: (\d+)/(\d+)", out.stdout), re.search(r"Tested: (\d+)", out.stdout)
        assert selected and tested and tested.group(1) == selected.group(1), out.stdout[-2000:]
        assert int(selected.group(2)) - int(selected.group(1)) == 1  # all but DELETE /auth/token
    assert total >= 300, total
    assert "unhandled error" not in log_path.read_text()
