"""Handover (移交与接收): a 300-item manifest with three planted defects is reported item by item and
refused, fixed in a new revision and accepted; custody moves and search access follows."""
from __future__ import annotations

import io
import json

from sqlalchemy import select

from archive_service.archive.models import ArchiveItem
from archive_service.models import AuditEvent, DocumentGrant
from handover_support import blob_path, file_items, flip_byte, restore, setup_fonds


def act(client, headers, hid, action, **kw):
    return client.post(f"/api/v1/handovers/{hid}/actions", headers=headers, json={"action": action, **kw})


def test_three_planted_defects_refused_then_fixed_and_accepted(rt, clients, county):
    setup_fonds(rt)
    ids = file_items(rt, "zjj_staff", 301)
    sent = [i for n, i in enumerate(ids, 1) if n != 151]  # 件号 0151 left out: a gap in the manifest
    zjj, zh = clients("zjj_staff")
    _, lh = clients("zjj_leader")
    _, ah = clients("archivist")
    _, sh = clients("signer")
    with rt.factory() as s:
        corrupt = s.get(ArchiveItem, ids[9])
        sha = corrupt.parts[0].sha256
        original = flip_byte(blob_path(rt, sha))
        untitled = s.get(ArchiveItem, ids[19])
        title, untitled.title = untitled.title, ""
        codes = {i: s.get(ArchiveItem, i).archival_code for i in ids}
        docs = {i: [p.document_id for p in s.get(ArchiveItem, i).parts] for i in ids}
        s.commit()

    resp = zjj.post("/api/v1/handovers", headers=zh, json={
        "name": "建设工程规划许可档案移交", "description": "划转审批局的建设工程规划许可档案",
        "to_department": "SPJ", "items": sent})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    hid = body["id"]
    assert body["state"] == "draft" and len(body["items"]) == 300
    line = body["items"][0]
    for key in ("seq", "archival_code", "doc_number", "responsible", "title", "date", "pages", "retention", "size",
                "sha256", "sm3"):
        assert key in line
    # out of turn: the receiver cannot receive a draft; the sender's signer cannot sign before submission
    assert act(zjj, ah, hid, "receive").status_code in (403, 404, 409)
    r = act(zjj, lh, hid, "sign", reason="同意")
    assert r.status_code == 409 and "草稿" in r.get_json()["error"]["message"]

    assert act(zjj, zh, hid, "submit").get_json()["state"] == "submitted"
    assert act(zjj, lh, hid, "sign", reason="同意移交").get_json()["state"] == "signed"
    received = act(zjj, ah, hid, "receive")
    assert received.status_code == 200 and received.get_json()["state"] == "received"

    report = zjj.get(f"/api/v1/handovers/{hid}/checks", headers=ah).get_json()
    assert report["passed"] is False and report["checked"] == 300
    failing = {f["archival_code"]: {c["name"] for c in f["checks"]} for f in report["items"]}
    assert set(failing) == {codes[ids[9]], codes[ids[19]], codes[ids[151]]}, failing
    assert "digests_match" in failing[codes[ids[9]]]
    assert "mandatory_metadata" in failing[codes[ids[19]]]
    assert failing[codes[ids[151]]] == {"item_numbers_continuous"}
    gap = next(f for f in report["items"] if f["archival_code"] == codes[ids[151]])
    assert "0151" in gap["checks"][0]["why"]
    assert report["properties"]["真实性"] == "不合格" and report["properties"]["可用性"] == "合格"

    refused = act(zjj, ah, hid, "accept")
    assert refused.status_code == 409 and codes[ids[9]] in refused.get_json()["error"]["message"]
    assert act(zjj, ah, hid, "reject").status_code == 422  # a reason is required
    rejected = act(zjj, ah, hid, "reject", reason="三件不合格，见检验报告")
    assert rejected.get_json()["state"] == "rejected"

    # the sender fixes the three problems: restores the blob, gives the title back, adds 0151
    restore(blob_path(rt, sha), original)
    with rt.factory() as s:
        s.get(ArchiveItem, ids[19]).title = title
        s.commit()
    assert zjj.patch(f"/api/v1/handovers/{hid}", headers=ah, json={"items": ids}).status_code in (403, 404)
    fixed = zjj.patch(f"/api/v1/handovers/{hid}", headers=zh, json={"items": ids})
    assert fixed.status_code == 200, fixed.get_json()
    fixed = fixed.get_json()
    assert fixed["revision"] == 2 and fixed["state"] == "draft" and len(fixed["items"]) == 301
    assert [r["passed"] for r in fixed["revisions"]] == [False, None]
    for who, action in ((zh, "submit"), (lh, "sign"), (ah, "receive")):
        r = act(zjj, who, hid, action, reason="同意")
        assert r.status_code == 200, r.get_json()
    assert zjj.get(f"/api/v1/handovers/{hid}/checks", headers=ah).get_json()["passed"] is True
    old = zjj.get(f"/api/v1/handovers/{hid}/checks?revision=1", headers=ah).get_json()
    assert old["passed"] is False and len(old["items"]) == 3
    assert act(zjj, ah, hid, "accept").get_json()["state"] == "accepting"
    assert act(zjj, lh, hid, "sign", reason="同意").status_code == 403  # not the receiver's signer
    done = act(zjj, sh, hid, "sign", reason="同意接收")
    assert done.status_code == 200 and done.get_json()["state"] == "accepted"
    assert {s["side"] for s in done.get_json()["revisions"][-1]["signatures"]} == {"sender", "receiver"}

    # custody: the bureau holds the items; the sender reads the documents through a handover grant
    with rt.factory() as s:
        held = set(s.scalars(select(ArchiveItem.department_id).where(ArchiveItem.id.in_(ids))))
        assert held == {county["archivist"].department_id}
        grants = s.scalars(select(DocumentGrant).where(DocumentGrant.reason == "handover")).all()
        assert {g.department_id for g in grants} == {county["zjj_staff"].department_id}
        assert len(grants) == sum(len(v) for v in docs.values())
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "handover.custody")) is not None
    assert zjj.get(f"/api/v1/archive/items/{ids[0]}", headers=ah).status_code == 200
    assert zjj.get(f"/api/v1/archive/items/{ids[0]}", headers=zh).status_code == 404
    doc_id = docs[ids[0]][0]
    assert zjj.get(f"/api/v1/documents/{doc_id}", headers=zh).status_code == 200
    new_version = zjj.post(f"/api/v1/documents/{doc_id}/versions", headers=zh,
                           data={"file": (io.BytesIO(b"%PDF-1.4 x"), "x.pdf")})
    assert new_version.status_code in (403, 404, 409)
    worker = rt.worker()
    if worker is not None:
        while worker.drain_outbox():
            pass
        q = {"q": f"档号:{codes[ids[0]]}"}
        for headers in (ah, zh):
            found = zjj.get("/api/v1/search", query_string=q, headers=headers).get_json()
            assert any(codes[ids[0]] in h.get("numbers", []) for h in found["hits"]), found
        _, other = clients("scjg_staff")
        assert zjj.get("/api/v1/search", query_string=q, headers=other).get_json()["total"] == 0
    # the item may go on a new manifest now (the claim was released)
    again = zjj.post("/api/v1/handovers", headers=ah, json={"name": "再移交", "to_department": "ZJJ",
                                                            "items": [ids[0]]})
    assert again.status_code == 201, again.get_json()
    assert json.loads(json.dumps(again.get_json()))["items"][0]["id"] == ids[0]


def test_bad_input_changes_nothing(rt, clients, county):
    setup_fonds(rt)
    mine = file_items(rt, "zjj_staff", 3)
    theirs = file_items(rt, "scjg_staff", 1, prefix="市场")
    zjj, zh = clients("zjj_staff")
    r = zjj.post("/api/v1/handovers", headers=zh, json={"name": "x", "to_department": "SPJ", "items": [*mine, *theirs]})
    assert r.status_code == 404 and str(theirs[0]) in r.get_json()["error"]["message"]
    first = zjj.post("/api/v1/handovers", headers=zh, json={"name": "一", "to_department": "SPJ", "items": mine[:2]})
    assert first.status_code == 201
    second = zjj.post("/api/v1/handovers", headers=zh, json={"name": "二", "to_department": "SPJ", "items": mine[1:]})
    assert second.status_code == 409 and str(first.get_json()["id"]) in second.get_json()["error"]["message"]
    assert zjj.post("/api/v1/handovers", headers=zh, json={"name": "三", "to_department": "NOPE",
                                                           "items": mine[2:]}).status_code == 422
    assert zjj.post("/api/v1/handovers", headers=zh, json={"name": "四", "to_department": "SPJ", "items": [],
                                                           "extra": 1}).status_code == 422
    _, sh = clients("scjg_staff")
    assert zjj.get(f"/api/v1/handovers/{first.get_json()['id']}", headers=sh).status_code == 404
    by_group = zjj.post("/api/v1/handovers", headers=zh, json={
        "name": "按年度", "to_department": "SPJ", "select": {"fonds": "J012", "retention": "D30"}})
    assert by_group.status_code == 409  # two of the three are on the first manifest
    by_query = zjj.post("/api/v1/handovers", headers=zh, json={"name": "按检索词", "to_department": "SPJ",
                                                               "query": "规划许可第3号"})
    assert by_query.status_code == 201 and [i["id"] for i in by_query.get_json()["items"]] == [mine[2]]
    assert zjj.post("/api/v1/handovers", headers=zh, json={"name": "无", "to_department": "SPJ",
                                                           "query": "100%_"}).status_code == 422
    hid = first.get_json()["id"]
    assert act(zjj, zh, hid, "accept").status_code in (403, 409)
    paths = zjj.get("/api/v1/openapi.json").get_json()["paths"]
    actions = paths["/api/v1/handovers/{id}/actions"]["post"]
    assert actions["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/HandoverAction")
    schemas = zjj.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert {"action", "reason", "exceptions"} <= set(schemas["HandoverAction"]["properties"])
    assert {"name", "description", "to_department", "items"} <= set(schemas["NewHandover"]["properties"])
    assert {"/api/v1/handovers", "/api/v1/handovers/{id}", "/api/v1/handovers/{id}/checks"} <= set(paths)
