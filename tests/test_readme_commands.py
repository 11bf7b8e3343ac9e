"""The README's first API steps, run as written (bash + curl) against a live server.

The block between ``<!-- readme-commands:begin -->`` and ``<!-- readme-commands:end -->`` is run
unchanged except for the server's address (the README says localhost:5000, the test server has its
own port), from a folder holding the shipped ``docs/samples``.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "docs" / "samples" / "审批档案-测试.pdf"


def readme_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- readme-commands:begin -->\s*```sh\n(.*?)```\s*<!-- readme-commands:end -->", text, re.S)
    assert m, "README.md lost its readme-commands block"
    return m.group(1)


def test_sample_file_of_the_upload_example_is_shipped():
    assert "docs/samples/审批档案-测试.pdf" in readme_block()
    assert SAMPLE.is_file() and SAMPLE.read_bytes().startswith(b"%PDF-")


def test_readme_commands_run_as_written(live_server, tmp_path):
    if shutil.which("curl") is None:
        pytest.fail("curl is missing (Debian package curl)")
    shutil.copytree(ROOT / "docs" / "samples", tmp_path / "docs" / "samples")
    block = readme_block()
    assert "localhost:5000" in block
    script = block.replace("localhost:5000", live_server.removeprefix("http://"))
    # After the README's lines: print what they left behind, and try the revoked token once more.
    script += ('\necho "::id=$ID"\necho "::name=$NAME"\n'
               'echo "::after-revoke=$(curl -s -o /dev/null -w "%{http_code}" '
               '-H "Authorization: Bearer $TOKEN" $API/me)"\n')
    run = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    out = dict(line[2:].split("=", 1) for line in run.stdout.splitlines() if line.startswith("::"))
    doc_id = int(out["id"])
    assert out["name"] == "审批档案-测试.pdf"
    saved = tmp_path / "审批档案-测试.pdf"  # the download kept the Chinese name
    assert saved.read_bytes() == SAMPLE.read_bytes()
    listing = json.loads(run.stdout.splitlines()[0])
    assert listing["items"][0]["id"] == doc_id and listing["items"][0]["title"] == "审批档案"
    assert "next_cursor" in listing
    search = json.loads(run.stdout.splitlines()[1])  # the -G --data-urlencode line is a valid query
    assert "total" in search and "error" not in search
    assert out["after-revoke"] == "401"


def test_raw_chinese_in_a_url_is_what_the_readme_warns_about(live_server):
    """The reason the README uses --data-urlencode: the HTTP server refuses raw UTF-8 request lines."""
    raw = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", f"{live_server}/api/v1/search?q=甑"],
                         capture_output=True, text=True, timeout=30)
    encoded = subprocess.run(["curl", "-s", "-G", "-w", "\n%{http_code}", f"{live_server}/api/v1/search",
                              "--data-urlencode", "q=甑"], capture_output=True, text=True, timeout=30)
    assert raw.stdout.rsplit("\n", 1)[-1] == "400"
    assert encoded.stdout.rsplit("\n", 1)[-1] == "401"  # understood; just not signed in


def test_curl_remote_header_name_gets_a_useful_ascii_name(live_server, tmp_path):
    """`curl -OJ` ignores filename*: the ASCII fallback keeps the document id and the extension."""
    login = subprocess.run(["curl", "-s", "-X", "POST", f"{live_server}/api/v1/auth/token", "-H",
                            "Content-Type: application/json", "-d",
                            '{"username":"drafter","password":"demo-2026"}'], capture_output=True, text=True)
    token = json.loads(login.stdout)["token"]
    auth = ["-H", f"Authorization: Bearer {token}"]
    up = subprocess.run(["curl", "-s", *auth, "-F", f"file=@{SAMPLE}", f"{live_server}/api/v1/documents"],
                        capture_output=True, text=True)
    doc_id = json.loads(up.stdout)["id"]
    subprocess.run(["curl", "-s", *auth, "-OJ", f"{live_server}/api/v1/documents/{doc_id}/content"],
                   cwd=tmp_path, check=True)
    assert [p.name for p in tmp_path.iterdir()] == [f"document-{doc_id}.pdf"]
