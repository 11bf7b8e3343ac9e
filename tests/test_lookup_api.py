"""Archive lookup (档案调阅): catalogue sharing, requests, per-item decisions, working-day grants that end
exactly at the end of the last working day (across the 2026 Spring Festival and its make-up Saturday),
overdue decisions, the ACL matrix over every endpoint, watermarked copies and the access log."""
from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime

import pytest
from pypdf import PdfReader

from archive_service.clock import FixedClock
from archive_support import arch_clients, arch_people  # noqa: F401  (fixtures)
from lookup_support import shared_item

THU = datetime(2026, 2, 12, 2, 0)  # Thursday 12 Feb 2026, 10:00 in China; Sat 14 Feb is a make-up workday


@pytest.fixture
def cc(rt, arch_clients):  # noqa: F811
    """The archive county's clients (arch_clients), on Thursday 12 Feb 2026."""
    rt.clock = FixedClock(THU)
    return arch_clients


def request_lookup(clients, who, items, days=2, **kw):
    client, h = clients(who)
    return client.post("/api/v1/lookups", headers=h, json={
        "items": items, "purpose": "核查许可条件", "days": days, "contact": "0797-1234567", **kw})


def act(clients, who, lookup_id, action, **kw):
    client, h = clients(who)
    return client.post(f"/api/v1/lookups/{lookup_id}/actions", headers=h, json={"action": action, **kw})


def test_request_decide_read_copy_return_and_expiry(cc, rt):
    a = shared_item(cc, "zjj_staff", "施工许可审批材料甲", pages=3, body="SECRET BODY alpha")
    b = shared_item(cc, "zjj_staff", "施工许可审批材料乙")
    c = shared_item(cc, "zjj_staff", "施工许可审批材料丙")
    hidden = shared_item(cc, "zjj_staff", "未共享的材料", share=False)
    client, h = cc("scjg_staff")

    # the catalogue shows shared items cc-wide, metadata only
    found = client.get("/api/v1/catalogue?q=施工许可", headers=h).get_json()["items"]
    assert {i["id"] for i in found} == {a["id"], b["id"], c["id"]}
    assert all("body" not in i and "snippet" not in i for i in found)

    # bad input changes nothing
    assert request_lookup(cc, "scjg_staff", [{"item_id": hidden["id"], "form": "view"}]).status_code == 404
    assert request_lookup(cc, "scjg_staff", [{"item_id": a["id"], "form": "view"}], days=99).status_code == 422
    assert client.get("/api/v1/lookups", headers=h).get_json()["items"] == []

    resp = request_lookup(cc, "scjg_staff", [{"item_id": a["id"], "form": "view"},
                                                {"item_id": b["id"], "form": "copy"},
                                                {"item_id": c["id"], "form": "view"}])
    assert resp.status_code == 201, resp.get_json()
    req = resp.get_json()
    assert req["state"] == "submitted" and req["due_on"] == "2026-02-24"  # Fri 13, Sat 14, (holiday), Tue 24
    lid = req["id"]

    # the requester's own department cannot approve it; the holder's archivist does, per item
    assert act(cc, "scjg_leader", lid, "approve").status_code == 403
    assert act(cc, "zjj_staff", lid, "refuse", items=[c["id"]]).status_code == 422  # a reason is required
    assert act(cc, "zjj_staff", lid, "refuse", items=[c["id"]], reason="涉及个人信息").status_code == 200
    # nothing is readable before the decision is complete
    assert client.get(f"/api/v1/archive/items/{a['id']}/view", headers=h).status_code == 404
    done = act(cc, "zjj_staff", lid, "approve", items=[a["id"], b["id"]]).get_json()
    assert done["state"] == "active"
    assert done["until"] == "2026-02-14T15:59:59.999999Z"  # end of Sat 14 Feb (make-up workday) in China
    assert [i["decision"] for i in done["items"]] == ["approved", "approved", "refused"]

    # 查阅: pages, not the original
    view = client.get(f"/api/v1/archive/items/{a['id']}/view", headers=h)
    assert view.status_code == 200 and view.get_json()["pages"] == 3
    page = client.get(view.get_json()["page_urls"][0], headers=h)
    assert page.status_code == 200 and page.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(f"/api/v1/documents/{a['document_id']}/content", headers=h).status_code == 403
    refused = holder_events(rt, "document.download_refused")
    assert [e.target_id for e in refused] == [str(a["document_id"])]
    assert client.get(f"/api/v1/archive/items/{a['id']}/copy", headers=h).status_code == 403  # view-only
    assert client.get(f"/api/v1/archive/items/{c['id']}/view", headers=h).status_code == 404  # refused item

    # 复制: a watermarked copy on every page; the original's bytes are unchanged
    holder, hh = cc("zjj_staff")
    original = holder.get(f"/api/v1/documents/{b['document_id']}/content", headers=hh).data
    before = hashlib.sha256(original).hexdigest()
    copy = client.get(f"/api/v1/archive/items/{b['id']}/copy", headers=h)
    assert copy.status_code == 200 and copy.mimetype == "application/pdf"
    pages = PdfReader(io.BytesIO(copy.data)).pages
    for p in pages:
        text = p.extract_text()
        assert req["number"] in text and "县市场监督管理局" in text and "2026-02-12 10:00" in text, text
    assert hashlib.sha256(holder.get(f"/api/v1/documents/{b['document_id']}/content",
                                     headers=hh).data).hexdigest() == before

    # the holder sees every access, as JSON and as CSV
    log = holder.get(f"/api/v1/lookups/{lid}/accesses", headers=hh).get_json()["items"]
    actions = [e["action"] for e in log]
    assert actions.count("lookup.view") == 2 and actions.count("lookup.copy") == 1
    assert actions.count("lookup.denied") == 1  # the 复制 asked on a 查阅-only grant
    assert all(e["address"] for e in log if e["action"] in ("lookup.view", "lookup.copy"))
    rows = list(csv.reader(io.StringIO(holder.get(f"/api/v1/lookups/{lid}/accesses?format=csv",
                                                  headers=hh).data.decode("utf-8-sig"))))
    assert rows[0][0] == "时间" and len(rows) == len(log) + 1
    item_log = holder.get(f"/api/v1/archive/items/{a['id']}/accesses", headers=hh).get_json()["items"]
    assert [e["action"] for e in item_log].count("lookup.view") == 2
    assert client.get(f"/api/v1/archive/items/{a['id']}/accesses", headers=h).status_code == 404

    # the grant ends exactly at the end of the last working day, whether or not the worker ran
    rt.clock.at = datetime(2026, 2, 14, 15, 59, 59)
    assert client.get(f"/api/v1/archive/items/{a['id']}/view", headers=h).status_code == 200
    rt.clock.at = datetime(2026, 2, 14, 16, 0, 0)
    assert client.get(f"/api/v1/archive/items/{a['id']}/view", headers=h).status_code == 403
    assert client.get(f"/api/v1/archive/items/{b['id']}/copy", headers=h).status_code == 403
    from archive_service.lookup.service import expiry_pass

    assert expiry_pass(rt) == 1 and expiry_pass(rt) == 0
    assert client.get(f"/api/v1/lookups/{lid}", headers=h).get_json()["state"] == "expired"
    assert client.get(f"/api/v1/documents/{a['document_id']}", headers=h).status_code == 404  # grant revoked


def test_due_date_overdue_return_and_one_extension(cc, rt):
    a = shared_item(cc, "zjj_staff", "竣工验收备案材料")
    lid = request_lookup(cc, "scjg_staff", [{"item_id": a["id"], "form": "copy"}]).get_json()["id"]
    client, h = cc("scjg_staff")
    holder, hh = cc("zjj_staff")
    rt.clock.at = datetime(2026, 2, 24, 15, 0)  # 23:00 on the due day: not yet overdue
    assert client.get(f"/api/v1/lookups/{lid}", headers=h).get_json()["overdue"] is False
    rt.clock.at = datetime(2026, 2, 24, 16, 30)  # 00:30 on 25 Feb in China
    assert client.get(f"/api/v1/lookups/{lid}", headers=h).get_json()["overdue"] is True
    queue = holder.get("/api/v1/lookups", headers=hh).get_json()["queue"]
    assert [q["overdue"] for q in queue if q["id"] == lid] == [True]

    assert act(cc, "zjj_staff", lid, "approve").get_json()["until"] == "2026-02-27T15:59:59.999999Z"
    assert act(cc, "scjg_staff", lid, "cancel").status_code == 409
    ext = act(cc, "scjg_staff", lid, "extend", days=3)
    assert ext.status_code == 200 and ext.get_json()["extension_state"] == "pending"
    assert act(cc, "scjg_staff", lid, "extend").status_code == 409  # once per request
    # Sat 28 Feb is the second make-up workday of the 2026 Spring Festival: 28 Feb, 2 Mar, 3 Mar
    assert act(cc, "zjj_staff", lid, "approve").get_json()["until"] == "2026-03-03T15:59:59.999999Z"
    assert client.get(f"/api/v1/archive/items/{a['id']}/copy", headers=h).status_code == 200
    assert act(cc, "scjg_staff", lid, "return").get_json()["state"] == "returned"
    assert client.get(f"/api/v1/archive/items/{a['id']}/copy", headers=h).status_code == 403


def test_cancel_before_decision_and_other_departments_see_nothing(cc):
    a = shared_item(cc, "zjj_staff", "规划许可材料")
    lid = request_lookup(cc, "scjg_staff", [{"item_id": a["id"], "form": "view"}]).get_json()["id"]
    other, oh = cc("wjw_staff")
    assert other.get(f"/api/v1/lookups/{lid}", headers=oh).status_code == 404
    assert other.post(f"/api/v1/lookups/{lid}/actions", headers=oh, json={"action": "approve"}).status_code == 404
    assert act(cc, "scjg_staff", lid, "cancel").get_json()["state"] == "cancelled"
    assert act(cc, "zjj_staff", lid, "approve").status_code == 409
    assert request_lookup(cc, "zjj_staff", [{"item_id": a["id"], "form": "view"}]).status_code == 422


def holder_events(rt, action):
    from sqlalchemy import select

    from archive_service.models import AuditEvent

    with rt.factory() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))
