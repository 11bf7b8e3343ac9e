"""S3 test peer: a ``moto_server`` on a free loopback port, driven over HTTP by the real minio client.

Import the fixture in conftest.py: ``from s3peer import s3_endpoint  # noqa``.
"""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ACCESS_KEY = SECRET_KEY = "testing"
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(port: int) -> list[str]:
    script = Path(sys.executable).parent / "moto_server"
    if not script.exists():
        found = shutil.which("moto_server")
        script = Path(found) if found else None
    base = [str(script)] if script else [sys.executable, "-m", "moto.server"]
    return [*base, "-H", "127.0.0.1", "-p", str(port)]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            return s.recv(12).startswith(b"HTTP/")
    except OSError:
        return False


@contextmanager
def moto_server(timeout: float = 30.0) -> Iterator[str]:
    """Run moto_server until the block ends; yields ``"127.0.0.1:PORT"``."""
    with moto_process(timeout) as (endpoint, _proc):
        yield endpoint


@contextmanager
def moto_process(timeout: float = 30.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run moto_server until the block ends; yields ``("127.0.0.1:PORT", process)`` (e.g. to freeze it)."""
    for _attempt in range(3):  # the free port may be taken between probing and binding
        port = free_port()
        proc = subprocess.Popen(
            _command(port), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline and not _answers(port):
            time.sleep(0.1)
        if proc.poll() is None and _answers(port):
            break
        _stop(proc)
    else:
        raise RuntimeError("moto_server did not start")
    try:
        yield f"127.0.0.1:{port}", proc
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGCONT)  # a frozen server cannot act on SIGTERM
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint
