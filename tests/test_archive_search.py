"""Filed items are found by their 档号 (the `档号:` filter) with their 保管期限 as a facet value."""
from __future__ import annotations

import io

import pytest

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


@pytest.mark.parametrize("by_range", [False, True])
def test_a_full_reindex_keeps_the_archival_fields_of_filed_documents_only(rt, arch_clients, monkeypatch, by_range):  # noqa: F811
    """A reindex reads the items of a whole batch in one query (by id list, or by id range for large batches)."""
    from archive_service.archive import search_fields
    from archive_service.indexing import reindex

    if by_range:
        monkeypatch.setattr(search_fields, "RANGE_FROM", 0)
    client, h = arch_clients("zjj_staff")
    ids = [client.post("/api/v1/documents", headers=h, data={
        "title": f"建设工程规划许可第{i}号", "file": (io.BytesIO(make_pdf(f"permit {i}")), f"p{i}.pdf"),
    }).get_json()["id"] for i in range(3)]
    item = client.post("/api/v1/archive/items", headers=h, json={"document_id": ids[1], "retention": "D30"}).get_json()
    reindex(rt.factory, rt.search_engine, rt.store, rt.clock, extenders=rt.features.record_extenders())
    body = client.get("/api/v1/search", query_string={"q": "建设工程规划许可", "size": 50}, headers=h).get_json()
    by_id = {int(x["id"]): x for x in body["hits"]}
    assert set(ids) <= set(by_id)
    assert item["archival_code"] in by_id[ids[1]]["numbers"] and by_id[ids[1]]["retention"] == "定期30年"
    for other in (ids[0], ids[2]):
        assert item["archival_code"] not in (by_id[other].get("numbers") or []) and not by_id[other].get("retention")
