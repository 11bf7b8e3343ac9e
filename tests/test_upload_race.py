"""Issue 7 finding 1: concurrent uploads of the same bytes, some refused after their bytes were stored,
never leave an acknowledged upload pointing at nothing (the request path never deletes an object)."""
from __future__ import annotations

import os
import threading

from click.testing import CliRunner

from archive_service.cli import main
from archive_service.web import create_app
from storage_support import make_uploader, multipart

ROUNDS = int(os.environ.get("RACE_ROUNDS", "200"))
ACCEPTED_PER_ROUND = 3
REFUSED_PER_ROUND = 3
LONG_TITLE = "长" * 301


def _upload(client, token, body_parts):
    body, content_type = multipart(body_parts)
    return client.post("/api/v1/documents", data=body, headers={
        "Authorization": f"Bearer {token}", "Content-Type": content_type})


def test_concurrent_uploads_of_the_same_bytes_with_refusals_lose_nothing(rt, monkeypatch):
    app = create_app(rt)
    _uid, token = make_uploader(rt)
    acknowledged: list[tuple[int, bytes]] = []
    statuses: list[int] = []
    lock = threading.Lock()

    for round_no in range(ROUNDS):
        payload = b"%PDF-1.4\n% race " + os.urandom(2048) + b"\n%%EOF\n"
        barrier = threading.Barrier(ACCEPTED_PER_ROUND + REFUSED_PER_ROUND)

        def worker(kind: int, round_no: int = round_no, payload: bytes = payload,
                   barrier: threading.Barrier = barrier) -> None:
            client = app.test_client()
            if kind < ACCEPTED_PER_ROUND:
                parts = [("file", payload, f"r{round_no}.pdf"), ("title", f"第{round_no}轮", None)]
            elif kind % 2:  # the title follows the file: refused after the bytes were stored
                parts = [("file", payload, f"r{round_no}.pdf"), ("title", LONG_TITLE, None)]
            else:  # the title comes first: refused before the body is streamed
                parts = [("title", LONG_TITLE, None), ("file", payload, f"r{round_no}.pdf")]
            barrier.wait()
            resp = _upload(client, token, parts)
            with lock:
                statuses.append(resp.status_code)
                if resp.status_code == 201:
                    acknowledged.append((resp.get_json()["id"], payload))

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(ACCEPTED_PER_ROUND + REFUSED_PER_ROUND)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    assert 500 not in statuses
    assert statuses.count(201) == ROUNDS * ACCEPTED_PER_ROUND, sorted(set(statuses))
    assert statuses.count(422) == ROUNDS * REFUSED_PER_ROUND
    client = app.test_client()
    lost = []
    for doc_id, payload in acknowledged:
        resp = client.get(f"/api/v1/documents/{doc_id}/content", headers={"Authorization": f"Bearer {token}"})
        if resp.status_code != 200 or resp.data != payload:
            lost.append((doc_id, resp.status_code))
    assert lost == []

    monkeypatch.setenv("ARCHIVE_INSTANCE", str(rt.settings.instance))
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("ARCHIVE_STORAGE_URL", rt.settings.storage_url)
    result = CliRunner().invoke(main, ["verify"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "failures: 0" in result.output
