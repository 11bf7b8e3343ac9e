"""Helpers for the archive lookup tests: a holder's shared items and a requester's clients."""
from __future__ import annotations

import io

from archive_support import make_pdf


def shared_item(clients, who: str, title: str, pages: int = 2, share: bool = True, body: str | None = None) -> dict:
    """Upload a PDF as ``who``, file it as an archive item and (by default) share its catalogue."""
    client, h = clients(who)
    resp = client.post("/api/v1/documents", headers=h, data={
        "title": title, "file": (io.BytesIO(make_pdf(body or title, pages)), f"{title}.pdf")})
    assert resp.status_code == 201, resp.get_json()
    doc_id = resp.get_json()["id"]
    item = client.post("/api/v1/archive/items", headers=h, json={"document_id": doc_id, "retention": "D30"})
    assert item.status_code == 201, item.get_json()
    out = item.get_json()
    if share:
        patched = client.patch(f"/api/v1/archive/items/{out['id']}", headers=h, json={"catalogue": True})
        assert patched.status_code == 200 and patched.get_json()["catalogue"] is True, patched.get_json()
    out["document_id"] = doc_id
    return out
