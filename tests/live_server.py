"""A real `archive-service serve` on a free loopback port, over a temp instance with demo data.

Session-scoped: browser tests share one server. It runs as a subprocess exactly as `make run` does.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(base: str, proc: subprocess.Popen, log_path: Path, seconds: float = 180) -> None:
    """Wait for ``base``/healthz to answer; importing the app takes seconds on a busy 2-core machine. A server
    that exits, or is not up after ``seconds``, is killed and fails the test with the end of its log."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(log_path.read_text(errors="replace")[-4000:]) from None
            time.sleep(0.1)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("live-instance")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    # Tesseract for the worker's OCR self-check: the browser flows upload text PDFs, and RapidOCR's model load
    # and smoke page cost seconds of CPU beside them (RapidOCR is tested in test_ocr.py)
    env.update(ARCHIVE_INSTANCE=str(instance), ARCHIVE_WORKER_INTERVAL="0.2", ARCHIVE_OCR_ENGINE="tesseract")
    subprocess.run([str(BIN / "archive-service"), "init", "--demo"], env=env, check=True, capture_output=True)
    port = _free_port()
    with open(instance / "server.log", "wb") as log:
        proc = subprocess.Popen([str(BIN / "archive-service"), "serve", "--port", str(port)], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base, proc, instance / "server.log")
        yield base
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")  # not session: Playwright's sync API keeps an asyncio loop running, and
def chromium():                 # asyncio.run() (pyHanko signing) fails in later tests while it lives
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.fail("Debian chromium is missing: `make test` installs it (apt package chromium)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


def login(chromium, base: str, username: str, **context_args):
    """A new browser context logged in as ``username`` (demo password) through the login form; (context, page).
    ``context_args`` go to new_context (the flows that download pass accept_downloads=True)."""
    from archive_service.demo import DEMO_PASSWORD

    context = chromium.new_context(**context_args)
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return context, page
