"""Filed items are found by their 档号 (the `档号:` filter) with their 保管期限 as a facet value."""
from __future__ import annotations

import io

from archive_support import arch_clients, arch_people, make_pdf  # noqa: F401  (fixtures)


def test_a_filed_document_is_found_by_its_archival_code(rt, arch_clients):  # noqa: F811
    client, h = arch_clients("zjj_staff")
    doc_id = client.post("/api/v1/documents", headers=h, data={
        "title": "建设工程消防验收备案抽查报告",
        "file": (io.BytesIO(make_pdf("report")), "report.pdf")}).get_json()["id"]
    item = client.post("/api/v1/archive/items", headers=h, json={"document_id": doc_id, "retention": "Y"}).get_json()
    worker = rt.worker()
    while worker.drain_outbox():
        pass
    found = client.get("/api/v1/search", query_string={"q": f"档号:{item['archival_code']}"}, headers=h).get_json()
    hits = [x for x in found["hits"] if item["archival_code"] in x.get("numbers", [])]
    assert hits and hits[0]["title"] == "建设工程消防验收备案抽查报告"
    assert hits[0].get("retention") == "永久"
    other, oh = arch_clients("scjg_staff")
    assert other.get("/api/v1/search", query_string={"q": f"档号:{item['archival_code']}"},
                     headers=oh).get_json()["total"] == 0
