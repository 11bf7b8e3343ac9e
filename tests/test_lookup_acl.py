"""ACL matrix over every lookup endpoint: a department without a grant, one with a 查阅 grant, one with a
复制 grant, and the same after expiry (before and after the worker's pass); search shows catalogue-only
items with metadata and never a snippet of their body."""
from __future__ import annotations

from datetime import datetime

import pytest

from archive_service.clock import FixedClock
from archive_service.lookup.service import expiry_pass
from archive_support import arch_clients, arch_people  # noqa: F401  (fixtures)
from lookup_support import shared_item

THU = datetime(2026, 2, 12, 2, 0)
BODY = "ZEBRAQUARTZ confidential permit conditions"


@pytest.fixture
def cc(rt, arch_clients):  # noqa: F811
    """The archive county's clients (arch_clients), on Thursday 12 Feb 2026."""
    rt.clock = FixedClock(THU)
    return arch_clients


def granted(clients, who, item_id, form):
    client, h = clients(who)
    lid = client.post("/api/v1/lookups", headers=h, json={
        "items": [{"item_id": item_id, "form": form}], "purpose": "核查", "days": 1,
        "contact": "0797-1"}).get_json()["id"]
    holder, hh = clients("zjj_staff")
    assert holder.post(f"/api/v1/lookups/{lid}/actions", headers=hh,
                       json={"action": "approve"}).get_json()["state"] == "active"
    return lid


def statuses(clients, who, item, lid) -> dict[str, int]:
    client, h = clients(who)
    i = item["id"]
    return {
        "view": client.get(f"/api/v1/archive/items/{i}/view", headers=h).status_code,
        "page": client.get(f"/api/v1/archive/items/{i}/view/1", headers=h).status_code,
        "copy": client.get(f"/api/v1/archive/items/{i}/copy", headers=h).status_code,
        "content": client.get(f"/api/v1/documents/{item['document_id']}/content", headers=h).status_code,
        "lookup": client.get(f"/api/v1/lookups/{lid}", headers=h).status_code,
        "accesses": client.get(f"/api/v1/lookups/{lid}/accesses", headers=h).status_code,
        "item_accesses": client.get(f"/api/v1/archive/items/{i}/accesses", headers=h).status_code,
        "act": client.post(f"/api/v1/lookups/{lid}/actions", headers=h,
                           json={"action": "refuse", "reason": "x"}).status_code,
        "share": client.patch(f"/api/v1/archive/items/{i}", headers=h, json={"catalogue": False}).status_code,
        "share_group": client.post("/api/v1/archive/shares", headers=h,
                                   json={"fonds": item["fonds"], "catalogue": False}).status_code,
        "catalogue": client.get("/api/v1/catalogue", headers=h).status_code,
    }


def test_acl_matrix(cc, rt):
    item = shared_item(cc, "zjj_staff", "规划条件核实材料", body=BODY)
    view_lid = granted(cc, "scjg_staff", item["id"], "view")
    copy_lid = granted(cc, "zrzy_staff", item["id"], "copy")
    closed = {"view": 404, "page": 404, "copy": 404, "content": 404, "lookup": 404, "accesses": 404,
              "item_accesses": 404, "act": 404, "share": 404, "share_group": 404, "catalogue": 200}
    assert statuses(cc, "wjw_staff", item, view_lid) == closed
    # the requester may not decide (403: not the holder's decider; the request is active anyway → 409/403)
    reader = {**closed, "view": 200, "page": 200, "copy": 403, "content": 403, "lookup": 200, "accesses": 200,
              "act": 403}
    assert statuses(cc, "scjg_staff", item, view_lid) == reader
    assert statuses(cc, "zrzy_staff", item, copy_lid) == {**reader, "copy": 200}

    rt.clock.at = datetime(2026, 2, 13, 16, 0)  # Fri 13 Feb 24:00 in China: both grants are over
    ended = {**reader, "view": 403, "page": 403, "copy": 403}
    assert statuses(cc, "scjg_staff", item, view_lid) == ended
    assert statuses(cc, "zrzy_staff", item, copy_lid) == ended
    assert expiry_pass(rt) == 2
    assert statuses(cc, "scjg_staff", item, view_lid) == {**ended, "content": 404}
    assert statuses(cc, "wjw_staff", item, view_lid) == closed


def test_catalogue_search_hits_never_carry_body_text(cc, rt):
    item = shared_item(cc, "zjj_staff", "规划条件核实材料", body=BODY)
    rt.worker().drain()
    client, h = cc("scjg_staff")
    for q in ("ZEBRAQUARTZ", "规划条件", item["archival_code"], "confidential"):
        found = client.get("/api/v1/search", query_string={"q": q}, headers=h).get_json()
        for hit in found["hits"]:
            assert hit["access"] == "catalogue" and hit["snippet_html"] is None and hit["url"] is None
            assert "ZEBRA" not in str(hit) and "confidential" not in str(hit)
    titled = client.get("/api/v1/search", query_string={"q": "规划条件"}, headers=h).get_json()["hits"]
    assert titled and all(x["title"].startswith("规划条件核实材料") for x in titled)  # the item and its 归档章 copy
    # the body matches for the holder (so the term is indexed) and never for the catalogue reader
    holder, hh = cc("zjj_staff")
    own = holder.get("/api/v1/search", query_string={"q": "ZEBRAQUARTZ"}, headers=hh).get_json()["hits"]
    assert own and "ZEBRAQUARTZ" in (own[0]["snippet_html"] or "")
    assert client.get("/api/v1/search", query_string={"q": "ZEBRAQUARTZ"}, headers=h).get_json()["hits"] == []
    assert client.get("/api/v1/catalogue", query_string={"q": "ZEBRAQUARTZ"}, headers=h).get_json()["items"] == []
