"""审管互动 (issue 13): matter register, pushes with claim and automatic claim, revocation requests.

Clock injected (FixedClock); dates cross the 2025 National Day holiday and its make-up workdays."""
from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from archive_service.clock import FixedClock
from correspondence.exchange.feature import FEATURE

CREDIT = "91360735MA3ABCDE1X"


def at(day: str, hour_china: int = 10) -> FixedClock:
    d = date.fromisoformat(day)
    return FixedClock(datetime(d.year, d.month, d.day, hour_china - 8, 0))


@pytest.fixture
def ex(rt, make, county, clients):
    """The small county with a register: 食品经营许可 (SCZR → SCJG) and one with no regulator."""
    rt.clock = at("2025-09-30")  # a Tuesday before the National Day holiday (10-01 … 10-08; 10-11 is 班)
    client, admin = clients("admin")
    for body in ({"code": "SC-001", "name": "食品经营许可", "section": "SCZR", "regulators": ["SCJG"],
                  "transferred_from": "县市场监督管理局", "transferred_on": "2020-06-01"},
                 {"code": "SC-009", "name": "无监管部门的事项", "section": "市场准入审批股"}):
        resp = client.post("/api/v1/matters", json=body, headers=admin)
        assert resp.status_code == 201, resp.get_json()
    matters = {m["code"]: m for m in client.get("/api/v1/matters", headers=admin).get_json()["items"]}
    return rt, county, clients, matters


def push_body(matter_id: int, **kw) -> dict:
    body = {"matter_id": matter_id, "applicant": "石城县百味餐饮管理有限公司", "credit_code": CREDIT,
            "licence_no": "JY13607350012345", "decision": "grant", "decided_on": "2025-09-29", "document_ids": []}
    body.update(kw)
    return body


def test_matter_register_api_and_rights(ex):
    _rt, _county, clients, matters = ex
    m = matters["SC-001"]
    assert m["section"] == "市场准入审批股" and m["regulators"] == ["县市场监督管理局"]
    assert m["transferred_on"] == "2020-06-01"
    client, drafter = clients("drafter")
    assert client.get("/api/v1/matters", headers=drafter).get_json()["items"][0]["code"] == "SC-001"
    resp = client.post("/api/v1/matters", json={"code": "X", "name": "x", "section": "SCZR"}, headers=drafter)
    assert resp.status_code == 403
    resp = client.post("/api/v1/matters", json={"code": "X", "name": "x", "section": "SCZR",
                                                "regulators": ["SFJ"]}, headers=clients("admin")[1])
    assert resp.status_code == 422 and "不是监管部门" in resp.get_json()["error"]["message"]


def test_matter_import_csv_and_xlsx(ex, make):
    _rt, county, clients, _matters = ex
    browser = make.browser(county["admin"])
    csv_text = ("事项编码,事项名称,审批股室,监管部门,划转来源,划转日期\n"
                "TZ-001,建筑工程施工许可证核发,TZJS,县住房和城乡建设局,县住房和城乡建设局,2020-06-01\n"
                "SC-001,食品经营许可（更名）,SCZR,SCJG、WJW,,\n")
    resp = browser.post("/exchange/matters/import", data={
        "file": (io.BytesIO(csv_text.encode("utf-8-sig")), "事项清单.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    wb = Workbook()
    ws = wb.active
    ws.append(["事项编码", "事项名称", "审批股室", "监管部门", "划转来源", "划转日期"])
    ws.append(["SH-001", "医疗机构执业登记", "SCZR", "县卫生健康委员会", "县卫生健康委员会", date(2021, 1, 1)])
    buf = io.BytesIO()
    wb.save(buf)
    resp = browser.post("/exchange/matters/import", data={
        "file": (io.BytesIO(buf.getvalue()), "事项清单.xlsx")}, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    client, admin = clients("admin")
    got = {m["code"]: m for m in client.get("/api/v1/matters", headers=admin).get_json()["items"]}
    assert got["SC-001"]["name"] == "食品经营许可（更名）"
    assert got["SC-001"]["regulators"] == ["县市场监督管理局", "县卫生健康委员会"]
    assert got["TZ-001"]["section"] == "投资建设审批股" and got["SH-001"]["transferred_on"] == "2021-01-01"
    # a bad row names its line and changes nothing
    bad = "事项编码,事项名称,审批股室,监管部门\nZZ-1,新事项,SCZR,SCJG\nZZ-2,坏事项,SCZR,不存在的局\n"
    resp = browser.post("/exchange/matters/import", data={
        "file": (io.BytesIO(bad.encode()), "bad.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "第 3 行" in resp.get_data(as_text=True)
    codes = {m["code"] for m in client.get("/api/v1/matters", headers=admin).get_json()["items"]}
    assert "ZZ-1" not in codes
    page = browser.get("/exchange/matters").get_data(as_text=True)
    assert "医疗机构执业登记" in page and "从 XLSX/CSV 导入" in page


def test_push_goes_to_the_registered_regulator_and_is_claimed(ex, make):
    _rt, county, clients, matters = ex
    doc = make.document(county["drafter"], b"%PDF-1.4 licence", "许可证.pdf", "食品经营许可证")
    client, drafter = clients("drafter")
    resp = client.post("/api/v1/pushes", json=push_body(matters["SC-001"]["id"], document_ids=[doc.id]),
                       headers=drafter)
    assert resp.status_code == 201, resp.get_json()
    [p] = resp.get_json()["items"]
    # pushed Tue 2025-09-30: 10-09, 10-10, 10-11 (make-up Saturday), 10-13, 10-14
    assert (p["regulator"], p["due_on"], p["state"]) == ("县市场监督管理局", "2025-10-14", "unclaimed")

    _, scjg = clients("scjg_liaison")
    _, zjj = clients("zjj_liaison")
    unclaimed = client.get("/api/v1/pushes?state=unclaimed", headers=scjg).get_json()["items"]
    assert [x["id"] for x in unclaimed] == [p["id"]]
    assert client.get("/api/v1/pushes", headers=zjj).get_json()["items"] == []  # another regulator sees nothing
    assert client.get(f"/api/v1/documents/{doc.id}", headers=scjg).status_code == 404  # not before the claim

    assert client.post(f"/api/v1/pushes/{p['id']}/claim", json={}, headers=zjj).status_code == 404
    _, leader = clients("scjg_leader")  # reviewer/signer: neither liaison nor archivist
    assert client.post(f"/api/v1/pushes/{p['id']}/claim", json={}, headers=leader).status_code == 403
    assert client.post(f"/api/v1/pushes/{p['id']}/claim", json={}, headers=drafter).status_code == 404
    resp = client.post(f"/api/v1/pushes/{p['id']}/claim", json={"note": "已纳入监管"}, headers=scjg)
    assert resp.status_code == 200 and resp.get_json()["state"] == "claimed"
    assert resp.get_json()["claimed_by"] == "scjg_liaison"
    assert client.post(f"/api/v1/pushes/{p['id']}/claim", json={}, headers=scjg).status_code == 409
    assert client.get(f"/api/v1/documents/{doc.id}", headers=scjg).status_code == 200  # grant reason push
    assert client.get(f"/api/v1/documents/{doc.id}", headers=zjj).status_code == 404
    assert [x["state"] for x in client.get("/api/v1/pushes?state=claimed", headers=drafter).get_json()["items"]] \
        == ["claimed"]
    # the bureau's home page says it was claimed
    home = make.browser(county["drafter"]).get("/").get_data(as_text=True)
    assert "县市场监督管理局已认领" in home


def test_push_refusals_change_nothing(ex):
    _rt, _county, clients, matters = ex
    client, drafter = clients("drafter")
    resp = client.post("/api/v1/pushes", json=push_body(matters["SC-009"]["id"]), headers=drafter)
    assert resp.status_code == 422 and "无监管部门的事项" in resp.get_json()["error"]["message"]
    resp = client.post("/api/v1/pushes", json=push_body(matters["SC-009"]["id"], regulators=["ZJJ", "WJW"]),
                       headers=drafter)
    assert resp.status_code == 201 and [x["regulator"] for x in resp.get_json()["items"]] == [
        "县住房和城乡建设局", "县卫生健康委员会"]
    _, scjg = clients("scjg_staff")
    assert client.post("/api/v1/pushes", json=push_body(matters["SC-001"]["id"]), headers=scjg).status_code == 403
    resp = client.post("/api/v1/pushes", json=push_body(matters["SC-001"]["id"], credit_code="123"), headers=drafter)
    assert resp.status_code == 422
    assert len(client.get("/api/v1/pushes", headers=drafter).get_json()["items"]) == 2


def test_auto_claim_after_the_fifth_working_day_not_on_it(ex, make):
    rt, county, clients, matters = ex
    client, drafter = clients("drafter")
    doc = make.document(county["drafter"], b"licence 2", "许可证2.pdf", "许可证")
    [p] = client.post("/api/v1/pushes", json=push_body(matters["SC-001"]["id"], document_ids=[doc.id]),
                      headers=drafter).get_json()["items"]
    job = FEATURE.jobs[0](rt)  # the worker's housekeeping job
    rt.clock = at("2025-10-14", 23)  # the due day itself, late evening: still the regulator's
    assert job() == 0
    _, scjg = clients("scjg_liaison")
    assert client.get(f"/api/v1/pushes/{p['id']}", headers=scjg).get_json()["state"] == "unclaimed"
    rt.clock = at("2025-10-15", 9)
    assert job() == 1
    assert job() == 0  # claimed exactly once
    got = client.get(f"/api/v1/pushes/{p['id']}", headers=scjg).get_json()
    assert got["state"] == "auto_claimed" and got["state_label"] == "系统自动认领"
    assert got["claimed_at"] == "2025-10-15T01:00:00Z" and got["claimed_by"] is None
    assert client.get(f"/api/v1/documents/{doc.id}", headers=scjg).status_code == 200
    assert [x["id"] for x in client.get("/api/v1/pushes?state=auto_claimed", headers=drafter).get_json()["items"]] \
        == [p["id"]]
    assert client.post(f"/api/v1/pushes/{p['id']}/claim", json={}, headers=scjg).status_code == 409
    # both sides are told
    for user in ("drafter", "scjg_liaison"):
        assert "系统自动认领" in make.browser(county[user]).get("/").get_data(as_text=True)
    assert "系统自动认领" not in make.browser(county["zjj_liaison"]).get("/").get_data(as_text=True)


def test_revocation_due_in_two_working_days_and_late(ex, make):
    rt, county, clients, matters = ex
    rt.clock = at("2026-11-26")  # Thursday; discovered Monday 11-23 → due Wednesday 11-25
    client, scjg = clients("scjg_staff")  # (a token issued now: the fixture's clock was a year earlier)
    body = {"matter_id": matters["SC-001"]["id"], "licensee": "石城县百味餐饮管理有限公司",
            "discovered_on": "2026-11-23",
            "action": "revoke", "facts": "使用超过保质期的食品原料。", "document_ids": []}
    resp = client.post("/api/v1/revocations", json=body, headers=scjg)
    assert resp.status_code == 201, resp.get_json()
    got = resp.get_json()
    assert (got["due_on"], got["late"], got["late_days"], got["action_label"]) == ("2026-11-25", True, 1, "吊销")
    resp = client.post("/api/v1/revocations", json=dict(body, discovered_on="2026-11-24"), headers=scjg)
    assert (resp.get_json()["late"], resp.get_json()["late_days"]) == (False, 0)
    resp = client.post("/api/v1/revocations", json=dict(body, discovered_on="2026-11-27"), headers=scjg)
    assert resp.status_code == 422
    _, drafter = clients("drafter")
    assert client.post("/api/v1/revocations", json=body, headers=drafter).status_code == 403
    assert len(client.get("/api/v1/revocations", headers=drafter).get_json()["items"]) == 2
    _, zjj = clients("zjj_staff")
    assert client.get("/api/v1/revocations", headers=zjj).get_json()["items"] == []
    page = make.browser(county["drafter"]).get("/exchange/revocations").get_data(as_text=True)
    assert "逾期推送1个工作日" in page


def test_pages_for_each_side(ex, make):
    _rt, county, _clients, matters = ex
    b = make.browser(county["drafter"])
    resp = b.post("/exchange/pushes", data={"matter_id": str(matters["SC-001"]["id"]), "applicant": "石城县某某超市",
                                            "credit_code": CREDIT, "decision": "grant", "decided_on": "2025-09-30"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert "石城县某某超市" in b.get("/exchange/pushes").get_data(as_text=True)
    r = make.browser(county["scjg_liaison"])
    page = r.get("/exchange/claims").get_data(as_text=True)
    assert "石城县某某超市" in page and "认领" in page
    assert "待认领：食品经营许可" in r.get("/").get_data(as_text=True)
    assert "石城县某某超市" not in make.browser(county["zjj_liaison"]).get("/exchange/claims").get_data(as_text=True)


def test_change_revocation_template_names_the_four_actions_and_claims_nothing(ex):
    from correspondence.doc_templates import fill, load_letter_template
    from correspondence.exchange.models import Revocation
    from correspondence.exchange.revocations import revocation_letter_values

    rt, _county, clients, matters = ex
    template = load_letter_template("change_revocation")
    text = "".join(template["body"])
    assert "变更、撤销、注销或者吊销" in text and "撤回" not in text
    assert "已通过审管互动系统推送" not in text  # the letter says only what it carries itself
    client, scjg = clients("scjg_staff")
    got = client.post("/api/v1/revocations", headers=scjg, json={
        "matter_id": matters["SC-001"]["id"], "licensee": "石城县百味餐饮管理有限公司", "discovered_on": "2025-09-29",
        "action": "revoke", "facts": "无证经营。"}).get_json()
    with rt.transaction() as s:
        letter = fill(template, **revocation_letter_values(s.get(Revocation, got["id"])))
    assert letter["title"] == "关于建议对石城县百味餐饮管理有限公司的食品经营许可予以吊销的函"
    assert "2025年9月29日发现" in "".join(letter["body"]) and "×××" not in letter["title"]


def test_two_workers_auto_claim_each_push_exactly_once(ex):
    """On PostgreSQL the pass locks with FOR UPDATE SKIP LOCKED and updates only unclaimed rows."""
    import threading

    from sqlalchemy import func, select

    from archive_service.models import AuditEvent, DocumentGrant
    from correspondence.exchange.models import ExchangeNotification

    rt, _county, clients, matters = ex
    if rt.engine.dialect.name != "postgresql":
        pytest.skip("row locks under concurrency: PostgreSQL leg")
    client, drafter = clients("drafter")
    for i in range(12):
        assert client.post("/api/v1/pushes", headers=drafter, json=push_body(
            matters["SC-001"]["id"], applicant=f"申请人{i}", regulators=["SCJG", "ZJJ"])).status_code == 201
    rt.clock = at("2025-10-15", 9)
    job = FEATURE.jobs[0](rt)
    barrier, counts, errors = threading.Barrier(2), [], []

    def run():
        try:
            barrier.wait()
            counts.append(job())
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(counts) == 24 and job() == 0
    with rt.transaction() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "exchange.auto_claimed")) == 24
        # one notification per side and push
        assert s.scalar(select(func.count()).select_from(ExchangeNotification).where(
            ExchangeNotification.message.like("%系统自动认领%"))) == 48
        assert s.scalar(select(func.count()).select_from(DocumentGrant)) == 0  # no attachments here
    assert {x["state"] for x in client.get("/api/v1/pushes", headers=drafter).get_json()["items"]} == {"auto_claimed"}


def test_revocation_is_verified_and_handled_through_the_signoff_chain(ex, make):
    _rt, county, clients, matters = ex
    client, scjg = clients("scjg_staff")
    row = client.post("/api/v1/revocations", headers=scjg, json={
        "matter_id": matters["SC-001"]["id"], "licensee": "石城县百味餐饮管理有限公司", "discovered_on": "2025-09-29",
        "action": "revoke", "facts": "无证经营。"}).get_json()
    url = f"/api/v1/revocations/{row['id']}/actions"
    _, drafter = clients("drafter")
    _, reviewer = clients("reviewer")
    _, signer = clients("signer")
    _, zjj = clients("zjj_staff")
    assert client.post(url, headers=scjg, json={"action": "verify"}).status_code == 403  # not the bureau
    assert client.post(url, headers=zjj, json={"action": "verify"}).status_code == 404  # another regulator
    assert client.post(url, headers=drafter, json={"action": "record", "outcome": "done",
                                                   "result": "x"}).status_code == 409  # verify first
    assert client.post(url, headers=drafter, json={"action": "verify", "note": "已现场核实"}).status_code == 200
    got = client.post(url, headers=drafter, json={"action": "record", "outcome": "done",
                                                  "result": "已依法吊销其食品经营许可证。"}).get_json()
    assert (got["state"], got["flow_state"]) == ("handling", "drafting")
    # the regulator does not see the draft result
    assert client.get(f"/api/v1/revocations/{row['id']}", headers=scjg).get_json()["result"] == ""
    sha = got["version_sha256"]
    assert client.post(url, headers=drafter, json={"action": "submit", "version_sha256": sha}).status_code == 200
    assert client.post(url, headers=drafter, json={"action": "pass", "version_sha256": sha}).status_code == 403
    assert client.post(url, headers=reviewer, json={"action": "pass", "version_sha256": sha}).status_code == 200
    assert client.post(url, headers=signer, json={"action": "sign", "version_sha256": "0" * 64,
                                                  "note": "同意"}).status_code == 409  # stale version
    got = client.post(url, headers=signer, json={"action": "sign", "version_sha256": sha, "note": "同意"}).get_json()
    assert (got["state"], got["state_label"], got["flow_state"]) == ("done", "已处理", "rechecking")
    seen = client.get(f"/api/v1/revocations/{row['id']}", headers=scjg).get_json()
    assert seen["result"] == "已依法吊销其食品经营许可证。" and seen["outcome"] == "done"
    assert client.post(url, headers=drafter, json={"action": "verify"}).status_code == 409
    assert "已办结撤销建议" in make.browser(county["scjg_staff"]).get("/").get_data(as_text=True)


def test_revocation_page_walks_the_chain(ex, make):
    _rt, county, clients, matters = ex
    client, scjg = clients("scjg_staff")
    row = client.post("/api/v1/revocations", headers=scjg, json={
        "matter_id": matters["SC-001"]["id"], "licensee": "石城县某超市", "discovered_on": "2025-09-29",
        "action": "cancel", "facts": "已停业。"}).get_json()
    page = f"/exchange/revocations/{row['id']}"
    b = make.browser(county["drafter"])
    assert b.post(page, data={"action": "verify", "note": "已核实"}).status_code == 302
    assert b.post(page, data={"action": "record", "outcome": "done", "result": "已注销。"}).status_code == 302
    sha = client.get(f"/api/v1/revocations/{row['id']}", headers=clients("drafter")[1]).get_json()["version_sha256"]
    assert b.post(page, data={"action": "submit", "version_sha256": sha}).status_code == 302
    reviewer = make.browser(county["reviewer"])
    assert reviewer.post(page, data={"action": "pass", "version_sha256": sha}).status_code == 302
    s = make.browser(county["signer"])
    assert s.post(page, data={"action": "sign", "version_sha256": sha}).status_code == 422  # 签发意见 required
    assert s.post(page, data={"action": "sign", "version_sha256": sha, "note": "同意"}).status_code == 302
    text = make.browser(county["scjg_staff"]).get(page).get_data(as_text=True)
    assert "已处理" in text and "已注销。" in text
    assert make.browser(county["zjj_staff"]).get(page).status_code == 404


def test_feedback_flows_back_to_the_bureau_and_nobody_else(ex, make):
    _rt, county, clients, matters = ex
    client, drafter = clients("drafter")
    [p, q] = client.post("/api/v1/pushes", headers=drafter, json=push_body(
        matters["SC-001"]["id"], regulators=["SCJG", "ZJJ"])).get_json()["items"]
    _, scjg = clients("scjg_staff")
    _, zjj = clients("zjj_staff")
    penalty = make.document(county["scjg_staff"], b"%PDF-1.4 penalty", "处罚决定书.pdf", "行政处罚决定书")
    fb = {"kind": "penalty", "title": "石市监罚〔2025〕12号", "decided_on": "2025-09-30",
          "summary": "警告并罚款五千元。", "document_ids": [penalty.id]}
    url = f"/api/v1/pushes/{p['id']}/feedback"
    assert client.post(url, headers=scjg, json=fb).status_code == 409  # not claimed yet
    assert client.post(url, headers=zjj, json=fb).status_code == 404  # another regulator's push
    assert client.post(url, headers=drafter, json=fb).status_code == 404  # the bureau cannot feed back
    assert client.post(f"/api/v1/pushes/{p['id']}/claim", headers=clients("scjg_liaison")[1],
                       json={}).status_code == 200
    assert client.post(url, headers=scjg, json=dict(fb, decided_on="2025-10-09")).status_code == 422  # future
    assert client.post(url, headers=scjg, json=dict(fb, kind="praise")).status_code == 422
    resp = client.post(url, headers=scjg, json=fb)
    assert resp.status_code == 201, resp.get_json()
    [got] = resp.get_json()["feedback"]
    assert (got["kind_label"], got["title"], got["document_ids"]) == ("行政处罚", "石市监罚〔2025〕12号", [penalty.id])
    # the bureau sees it on its record, in its notifications, and may read the attachment
    seen = client.get(f"/api/v1/pushes/{p['id']}", headers=drafter).get_json()
    assert [f["title"] for f in seen["feedback"]] == ["石市监罚〔2025〕12号"]
    assert client.get(f"/api/v1/documents/{penalty.id}", headers=drafter).status_code == 200
    home = make.browser(county["drafter"]).get("/").get_data(as_text=True)
    assert "县市场监督管理局反馈行政处罚：石市监罚〔2025〕12号" in home
    page = make.browser(county["drafter"]).get(f"/exchange/pushes/{p['id']}").get_data(as_text=True)
    assert "警告并罚款五千元。" in page and "提交反馈" not in page
    # nobody else: the other regulator of the same record sees neither the feedback nor the attachment
    assert client.get(f"/api/v1/pushes/{q['id']}", headers=zjj).get_json()["feedback"] == []
    assert client.get(f"/api/v1/pushes/{p['id']}", headers=zjj).status_code == 404
    assert client.get(f"/api/v1/documents/{penalty.id}", headers=zjj).status_code == 404
    assert make.browser(county["zjj_staff"]).get(f"/exchange/pushes/{p['id']}").status_code == 404
    assert "石市监罚" not in make.browser(county["zjj_staff"]).get("/").get_data(as_text=True)
    assert client.get(f"/api/v1/pushes/{p['id']}", headers=clients("sfj_staff")[1]).status_code == 404


def test_feedback_page_form(ex, make):
    _rt, county, clients, matters = ex
    client, drafter = clients("drafter")
    [p] = client.post("/api/v1/pushes", headers=drafter, json=push_body(matters["SC-001"]["id"])).get_json()["items"]
    client.post(f"/api/v1/pushes/{p['id']}/claim", headers=clients("scjg_liaison")[1], json={})
    b = make.browser(county["scjg_staff"])
    page = f"/exchange/pushes/{p['id']}"
    assert "提交反馈" in b.get(page).get_data(as_text=True)
    resp = b.post(page, data={"kind": "credit", "title": "", "decided_on": "2025-09-30"})
    assert resp.status_code == 422
    resp = b.post(page, data={"kind": "credit", "title": "列入经营异常名录", "decided_on": "2025-09-30"})
    assert resp.status_code == 302
    assert "列入经营异常名录" in make.browser(county["drafter"]).get(page).get_data(as_text=True)


def test_policy_change_notice_with_its_letter_is_acknowledged_by_the_sections(ex, make):
    _rt, county, clients, matters = ex
    client, scjg = clients("scjg_staff")
    body = {"kind": "policy", "title": "《食品经营许可和备案管理办法》修订", "effective_on": "2025-12-01",
            "summary": "许可证有效期由5年调整为……", "matter_ids": [matters["SC-001"]["id"]]}
    assert client.post("/api/v1/notices", headers=clients("drafter")[1], json=body).status_code == 403
    assert client.post("/api/v1/notices", headers=scjg, json=dict(body, matter_ids=[99999])).status_code == 422
    resp = client.post("/api/v1/notices", headers=scjg, json=body)
    assert resp.status_code == 201, resp.get_json()
    n = resp.get_json()
    assert n["matters"] == ["食品经营许可"] and n["kind_label"] == "政策变动"
    assert [(r["section"], r["acked_at"]) for r in n["recipients"]] == [("市场准入审批股", None)]
    # the 政策变动告知函 is a draft of the ordinary letter workflow, addressed to the bureau
    letter = client.get(f"/api/v1/letters/{n['letter_id']}", headers=scjg).get_json()
    assert letter["title"] == "关于《食品经营许可和备案管理办法》修订政策调整有关事项的函"
    assert letter["to"] == ["县行政审批局"] and letter["state"] == "drafting"
    text = "".join(letter["body"])
    assert "自2025年12月1日起施行" in text and "涉及审批事项：食品经营许可" in text and "（请" not in text
    # the section sees it to acknowledge; another section and another regulator do not act on it
    _, drafter = clients("drafter")
    assert "待签收政策变动告知" in make.browser(county["drafter"]).get("/").get_data(as_text=True)
    assert client.post(f"/api/v1/notices/{n['id']}/ack", headers=clients("liaison_tzjs")[1]).status_code == 403
    assert client.post(f"/api/v1/notices/{n['id']}/ack", headers=clients("zjj_staff")[1]).status_code == 404
    got = client.post(f"/api/v1/notices/{n['id']}/ack", headers=drafter)
    assert got.status_code == 200 and got.get_json()["recipients"][0]["acked_by"] == "drafter"
    assert client.post(f"/api/v1/notices/{n['id']}/ack", headers=drafter).status_code == 409
    assert "待签收政策变动告知" not in make.browser(county["drafter"]).get("/").get_data(as_text=True)
    assert "市场准入审批股已签收政策变动告知" in make.browser(county["scjg_staff"]).get("/").get_data(as_text=True)
    assert client.get("/api/v1/notices", headers=clients("zjj_staff")[1]).get_json()["items"] == []


def test_training_notice_without_matters_goes_to_every_section_from_the_page(ex, make):
    _rt, county, clients, _matters = ex
    b = make.browser(county["scjg_liaison"])  # a liaison sends without drafting a letter
    resp = b.post("/exchange/notices", data={"kind": "training", "title": "全市食品安全监管业务培训",
                                             "effective_on": "2025-10-20", "summary": "请各股室派员参加。"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    _, drafter = clients("drafter")
    [n] = make.client().get("/api/v1/notices", headers=drafter).get_json()["items"]
    assert n["letter_id"] is None and n["kind_label"] == "业务培训"
    assert [r["section"] for r in n["recipients"]] == ["市场准入审批股", "投资建设审批股"]
    tzjs = make.browser(county["liaison_tzjs"])
    assert tzjs.post(f"/exchange/notices/{n['id']}/ack").status_code == 302
    page = tzjs.get("/exchange/notices").get_data(as_text=True)
    assert "全市食品安全监管业务培训" in page and "投资建设审批股：已签收" in page


def test_liaison_directory_for_everyone_filed_through_the_api(ex, make):
    _rt, county, clients, _matters = ex
    client, admin = clients("admin")
    _, scjg_liaison = clients("scjg_liaison")
    _, scjg_staff = clients("scjg_staff")
    body = {"user": "scjg_liaison", "filed_with": "SCZR", "phone": "0797-5701234"}
    assert client.post("/api/v1/liaisons", json=body, headers=scjg_staff).status_code == 403  # not leader/liaison
    assert client.post("/api/v1/liaisons", json=body, headers=clients("zjj_liaison")[1]).status_code == 403
    assert client.post("/api/v1/liaisons", json=dict(body, user="scjg_staff"), headers=admin).status_code == 422
    resp = client.post("/api/v1/liaisons", json=body, headers=scjg_liaison)  # files himself
    assert resp.status_code == 201, resp.get_json()
    assert client.post("/api/v1/liaisons", json=body, headers=admin).status_code == 409
    fid = resp.get_json()["id"]
    # every logged-in user sees the directory, through the API and the page
    for who in ("sfj_staff", "drafter", "zjj_staff"):
        items = client.get("/api/v1/liaisons", headers=clients(who)[1]).get_json()["items"]
        assert [(x["department"], x["name"], x["phone"], x["filed_with"]) for x in items] == [
            ("县市场监督管理局", "市场联络员", "0797-5701234", "市场准入审批股")]
    page = make.browser(county["wbb_staff"]).get("/liaisons").get_data(as_text=True)
    assert "市场联络员" in page and "0797-5701234" in page
    # withdrawn by the department's leader (signer); another department's liaison may not
    assert client.delete(f"/api/v1/liaisons/{fid}", headers=clients("zjj_liaison")[1]).status_code == 403
    assert client.delete(f"/api/v1/liaisons/{fid}", headers=clients("scjg_leader")[1]).status_code == 204
    assert client.get("/api/v1/liaisons", headers=admin).get_json()["items"] == []
    assert client.delete(f"/api/v1/liaisons/{fid}", headers=admin).status_code == 404


def test_pushes_and_requests_are_routed_to_the_filed_liaisons(ex, make):
    rt, county, clients, matters = ex
    client, admin = clients("admin")
    # SCJG has two liaisons; the one filed with 市场准入审批股 gets the pushes of that section
    other = make.user(county["scjg_liaison"].department, "liaison", username="scjg_liaison2", full_name="市场联络员二")
    assert client.post("/api/v1/liaisons", headers=admin, json={"user": "scjg_liaison2", "filed_with": "SPJ"}
                       ).status_code == 201
    assert client.post("/api/v1/liaisons", headers=admin, json={"user": "scjg_liaison", "filed_with": "SCZR"}
                       ).status_code == 201
    assert client.post("/api/v1/liaisons", headers=admin, json={"user": "liaison_tzjs", "filed_with": "SCJG"}
                       ).status_code == 201
    _, drafter = clients("drafter")
    [p] = client.post("/api/v1/pushes", headers=drafter, json=push_body(matters["SC-001"]["id"])).get_json()["items"]
    assert p["liaison"] == "scjg_liaison"
    assert "待认领（指派给您）：食品经营许可" in make.browser(county["scjg_liaison"]).get("/").get_data(as_text=True)
    home = make.browser(other).get("/").get_data(as_text=True)
    assert '">待认领：食品经营许可' not in home and "联络员：市场联络员" in home  # told, not listed
    rt.clock = at("2025-10-15")  # overdue: the department's others see it as well
    assert '">待认领：食品经营许可' in make.browser(other).get("/").get_data(as_text=True)
    # a revocation request goes to the section's liaison filed with the regulator (TZJS's liaison here,
    # because the matter of this request is approved by 投资建设审批股)
    client.post("/api/v1/matters", headers=admin, json={"code": "TZ-001", "name": "建筑工程施工许可证核发",
                                                        "section": "TZJS", "regulators": ["ZJJ"]})
    tz = {m["code"]: m for m in client.get("/api/v1/matters", headers=admin).get_json()["items"]}["TZ-001"]
    _, scjg = clients("scjg_staff")
    got = client.post("/api/v1/revocations", headers=scjg, json={
        "matter_id": tz["id"], "licensee": "某建筑公司", "discovered_on": "2025-10-14", "action": "change",
        "facts": "资质等级变化。"}).get_json()
    assert got["liaison"] == "liaison_tzjs"
    assert "撤销建议待处理（指派给您）" in make.browser(county["liaison_tzjs"]).get("/").get_data(as_text=True)


def test_info_request_is_answered_by_the_bureau(ex, make):
    _rt, county, clients, matters = ex
    client, drafter = clients("drafter")
    [p] = client.post("/api/v1/pushes", headers=drafter, json=push_body(matters["SC-001"]["id"])).get_json()["items"]
    _, scjg = clients("scjg_staff")
    url = f"/api/v1/pushes/{p['id']}/info-requests"
    assert client.post(url, headers=clients("zjj_staff")[1], json={"question": "x"}).status_code == 404
    assert client.post(url, headers=drafter, json={"question": "x"}).status_code == 404
    resp = client.post(url, headers=scjg, json={"question": "请提供现场核查记录。"})
    assert resp.status_code == 201, resp.get_json()
    info = resp.get_json()
    assert info["due_on"] == "2025-10-14" and info["answered_at"] is None  # 5 working days over National Day
    assert "审批信息请求待答复" in make.browser(county["drafter"]).get("/").get_data(as_text=True)
    record = make.document(county["drafter"], b"%PDF-1.4 check", "核查记录.pdf", "现场核查记录")
    answer = f"/api/v1/info-requests/{info['id']}/answer"
    assert client.post(answer, headers=scjg, json={"answer": "x"}).status_code == 404  # the regulator cannot
    assert client.post(answer, headers=clients("archivist")[1], json={"answer": "x"}).status_code == 403
    got = client.post(answer, headers=drafter, json={"answer": "见附件。", "document_ids": [record.id]})
    assert got.status_code == 200 and got.get_json()["answered_by"] == "drafter"
    assert client.post(answer, headers=drafter, json={"answer": "again"}).status_code == 409
    assert client.get(f"/api/v1/documents/{record.id}", headers=scjg).status_code == 200
    assert client.get(f"/api/v1/documents/{record.id}", headers=clients("zjj_staff")[1]).status_code == 404
    seen = client.get(f"/api/v1/pushes/{p['id']}", headers=scjg).get_json()["info_requests"]
    assert [(i["question"], i["answer"]) for i in seen] == [("请提供现场核查记录。", "见附件。")]
    assert "已答复审批信息请求" in make.browser(county["scjg_staff"]).get("/").get_data(as_text=True)


def test_revocation_letters_are_drafted_into_the_letter_workflow(ex, make):
    _rt, county, clients, matters = ex
    client, scjg = clients("scjg_staff")
    row = client.post("/api/v1/revocations", headers=scjg, json={
        "matter_id": matters["SC-001"]["id"], "licensee": "石城县百味餐饮管理有限公司", "discovered_on": "2025-09-29",
        "action": "revoke", "facts": "使用超过保质期的食品原料。"}).get_json()
    url = f"/api/v1/revocations/{row['id']}/letter"
    assert client.post(url, headers=clients("zjj_staff")[1]).status_code == 404
    assert client.post(url, headers=clients("scjg_liaison")[1]).status_code == 403  # drafting needs 拟稿人
    resp = client.post(url, headers=scjg)
    assert resp.status_code == 201, resp.get_json()
    req = client.get(f"/api/v1/letters/{resp.get_json()['letter_id']}", headers=scjg).get_json()
    assert req["title"] == "关于建议对石城县百味餐饮管理有限公司的食品经营许可予以吊销的函"
    assert req["to"] == ["县行政审批局"] and req["state"] == "drafting"
    assert "经查：使用超过保质期的食品原料。" in "".join(req["body"])
    assert client.post(url, headers=scjg).status_code == 409  # once
    _, drafter = clients("drafter")
    assert client.post(url, headers=drafter).status_code == 409  # the result is not signed yet
    actions = f"/api/v1/revocations/{row['id']}/actions"
    client.post(actions, headers=drafter, json={"action": "verify", "note": "经现场核实，情况属实。"})
    sha = client.post(actions, headers=drafter, json={
        "action": "record", "outcome": "done", "result": "已依法吊销其食品经营许可证。"}).get_json()["version_sha256"]
    client.post(actions, headers=drafter, json={"action": "submit", "version_sha256": sha})
    client.post(actions, headers=clients("reviewer")[1], json={"action": "pass", "version_sha256": sha})
    assert client.post(actions, headers=clients("signer")[1], json={"action": "sign", "version_sha256": sha,
                                                                    "note": "同意"}).get_json()["state"] == "done"
    resp = client.post(url, headers=drafter)
    assert resp.status_code == 201, resp.get_json()
    res = client.get(f"/api/v1/letters/{resp.get_json()['letter_id']}", headers=drafter).get_json()
    assert res["title"] == "关于建议对石城县百味餐饮管理有限公司的食品经营许可予以吊销处理结果的函"
    assert res["to"] == ["县市场监督管理局"]
    text = "".join(res["body"])
    assert f"《{req['title']}》收悉" in text and "经现场核实，情况属实。" in text and "已按建议处理：已依法吊销" in text
    got = client.get(f"/api/v1/revocations/{row['id']}", headers=drafter).get_json()
    assert (got["request_letter_id"], got["result_letter_id"]) == (req["id"], res["id"])
    page = make.browser(county["drafter"]).get(f"/exchange/revocations/{row['id']}").get_data(as_text=True)
    assert "处理结果告知函" in page and f"/letters/{res['id']}" in page


def test_dashboard_figures_equal_counts_from_the_rows(ex, make):
    """督办: the API's figures are the rows counted directly; the page draws them as SVG with the same
    numbers in tables; the CSV export carries them; only leaders (signers) and the administrator see it."""
    from sqlalchemy import select

    from correspondence.exchange.models import InfoRequest, Push, Revocation

    rt, county, clients, matters = ex
    client, drafter = clients("drafter")
    mid = matters["SC-001"]["id"]
    ids = []
    for i in range(5):  # 2025-09-30: five records to SCJG and ZJJ
        ids += [p["id"] for p in client.post("/api/v1/pushes", headers=drafter, json=push_body(
            mid, applicant=f"申请人{i}", regulators=["SCJG", "ZJJ"])).get_json()["items"]]
    _, scjg = clients("scjg_liaison")
    client.post(f"/api/v1/pushes/{ids[0]}/claim", headers=scjg, json={})  # on time
    client.post(f"/api/v1/pushes/{ids[0]}/info-requests", headers=clients("scjg_staff")[1], json={"question": "?"})
    rt.clock = at("2025-10-15", 8)  # the day after the due day, before the worker ran: claimed late by hand
    client.post(f"/api/v1/pushes/{ids[2]}/claim", headers=scjg, json={})
    assert FEATURE.jobs[0](rt)() == 8  # the rest is claimed by the system
    rt.clock = at("2025-11-03")  # tokens issued now (the fixture's expired meanwhile)
    drafter, staff, signer = (make.token(county[u]) for u in ("drafter", "scjg_staff", "signer"))
    client.post("/api/v1/pushes", headers=drafter, json=push_body(mid, decided_on="2025-11-03"))  # November
    client.post("/api/v1/revocations", headers=staff, json={
        "matter_id": mid, "licensee": "某公司", "discovered_on": "2025-10-27", "action": "revoke", "facts": "x"})
    client.post("/api/v1/revocations", headers=staff, json={
        "matter_id": mid, "licensee": "某公司二", "discovered_on": "2025-11-03", "action": "cancel", "facts": "y"})

    assert client.get("/api/v1/dashboard", headers=drafter).status_code == 403
    assert client.get("/api/v1/dashboard?year=1999", headers=signer).status_code == 400  # a bad query
    got = client.get("/api/v1/dashboard?year=2025", headers=signer).get_json()
    with rt.transaction() as s:
        today = rt.clock.today()
        expect: dict = {}
        for p in s.scalars(select(Push)):
            row = expect.setdefault((p.regulator.name, p.pushed_on.strftime("%Y-%m")), dict.fromkeys(
                ["total", "on_time", "late", "auto", "unclaimed", "overdue"], 0))
            row["total"] += 1
            row["on_time"] += p.state == "claimed" and p.claimed_at.date() <= p.due_on
            row["late"] += p.state == "claimed" and p.claimed_at.date() > p.due_on
            row["auto"] += p.state == "auto_claimed"
            row["unclaimed"] += p.state == "unclaimed"
            row["overdue"] += p.state == "unclaimed" and p.due_on < today
        rev: dict = {}
        for v in s.scalars(select(Revocation)):
            row = rev.setdefault((v.regulator.name, v.pushed_on.strftime("%Y-%m")),
                                 dict.fromkeys(["total", "late", "handled", "open"], 0))
            row["total"] += 1
            row["late"] += v.late
            row["handled"] += v.state in {"done", "not_done"}
            row["open"] += v.state not in {"done", "not_done"}
        n_info = len(list(s.scalars(select(InfoRequest))))
    assert {(r["department"], r["month"]): {k: r[k] for k in expect[(r["department"], r["month"])]}
            for r in got["pushes"]} == expect
    assert {(r["department"], r["month"]): {k: r[k] for k in ("total", "late", "handled", "open")}
            for r in got["revocations"]} == rev
    assert got["totals"]["pushes"] == {"total": 11, "on_time": 1, "late": 1, "auto": 8, "unclaimed": 1,
                                       "overdue": 0}
    assert got["totals"]["revocations"]["late"] == 1
    assert got["totals"]["info_requests"] == {"total": n_info, "answered": 0, "overdue": 1}
    # the page: an SVG chart per measure with the figures in tables; the CSV export
    b = make.browser(county["signer"])
    page = b.get("/exchange/dashboard?year=2025").get_data(as_text=True)
    assert page.count("<svg") == 5 and "系统自动认领" in page and "县住房和城乡建设局" in page
    assert "<script" not in page.split("<main")[1].split("</main>")[0]
    resp = b.get("/exchange/dashboard.csv?year=2025")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff类别,部门,月份,推送数,按期认领")
    assert "审批推送,县市场监督管理局,2025-09,5,1,1,3,0,0" in text
    assert make.browser(county["drafter"]).get("/exchange/dashboard").status_code == 403


def test_unread_count_and_the_daily_digest_through_a_real_smtp_server(ex, make):
    """An SMTP server (aiosmtpd, in-process on a free port) receives the department's digest of unread
    notifications once a day from the digest hour; read notifications are not mailed."""
    import socket
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    from correspondence.exchange.mail import send_digests

    rt, county, clients, matters = ex
    client, drafter = clients("drafter")
    client.post("/api/v1/pushes", headers=drafter, json=push_body(matters["SC-001"]["id"]))
    _, scjg = clients("scjg_liaison")
    got = client.get("/api/v1/notifications", headers=scjg).get_json()
    assert got["unread"] == 1 and "待认领" in got["items"][0]["message"]
    b = make.browser(county["scjg_liaison"])
    assert "1 条未读" in b.get("/").get_data(as_text=True)
    assert client.put("/api/v1/notifications/mailbox", headers=clients("scjg_staff")[1],
                      json={"address": "scjg@example.gov.cn"}).status_code == 403
    assert client.put("/api/v1/notifications/mailbox", headers=scjg, json={"address": "not-an-address"}
                      ).status_code == 422
    assert client.put("/api/v1/notifications/mailbox", headers=scjg, json={"address": "scjg@example.gov.cn"}
                      ).get_json() == {"department": "县市场监督管理局", "address": "scjg@example.gov.cn"}
    assert b.post("/exchange/notifications", data={"what": "mailbox", "address": "zjj@example.gov.cn"}
                  ).status_code == 302  # the page form (own department)
    client.put("/api/v1/notifications/mailbox", headers=clients("admin")[1],
               json={"address": "zjj@example.gov.cn", "department": "ZJJ"})
    client.put("/api/v1/notifications/mailbox", headers=scjg, json={"address": "scjg@example.gov.cn"})

    received = []

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            received.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        rt.settings.smtp_url = f"smtp://127.0.0.1:{port}"
        rt.settings.smtp_from = "archive@shicheng.gov.cn"
        job = FEATURE.jobs[1](rt)
        rt.clock = FixedClock(datetime(2025, 9, 30, 23, 0))  # 2025-10-01 07:00 in China: before the digest hour
        assert job() == 0 and received == []
        rt.clock = at("2025-10-01", 8)
        assert job() == 1  # SCJG has an unread notification; ZJJ none (no mail), nobody else has a mailbox
        assert job() == 0  # once a day
        [(to, msg)] = received
        assert to == ["scjg@example.gov.cn"] and msg["From"] == "archive@shicheng.gov.cn"
        assert msg["Subject"] == "审管互动每日提醒：县市场监督管理局有 1 条未读通知"
        assert "审批结果推送待认领：食品经营许可" in msg.get_content()
        # the next day: only what came since, and nothing read
        rt.clock = at("2025-10-02", 9)
        assert send_digests(rt) == 0
        make.client().post("/api/v1/notifications/read", headers=make.token(county["scjg_liaison"]))
        assert make.client().get("/api/v1/notifications", headers=make.token(county["scjg_liaison"])
                                 ).get_json()["unread"] == 0
    finally:
        controller.stop()


def test_acl_matrix_of_the_exchange_endpoints(ex, make):
    """Every endpoint of this part, for the bureau's drafter, the owning regulator's staff, another
    regulator's staff and an unrelated department: who may act (2xx), who is refused (403) and to whom
    the object does not exist (404)."""
    _rt, county, clients, matters = ex
    client, drafter = clients("drafter")
    mid = matters["SC-001"]["id"]
    [p] = client.post("/api/v1/pushes", headers=drafter, json=push_body(mid)).get_json()["items"]
    client.post(f"/api/v1/pushes/{p['id']}/claim", headers=clients("scjg_liaison")[1], json={})
    rev = client.post("/api/v1/revocations", headers=clients("scjg_staff")[1], json={
        "matter_id": mid, "licensee": "某公司", "discovered_on": "2025-09-29", "action": "revoke",
        "facts": "x"}).get_json()
    notice = client.post("/api/v1/notices", headers=clients("scjg_staff")[1], json={
        "title": "某政策", "effective_on": "2025-10-01", "summary": "s", "matter_ids": [mid],
        "draft_letter": False}).get_json()
    info = client.post(f"/api/v1/pushes/{p['id']}/info-requests", headers=clients("scjg_staff")[1],
                       json={"question": "q"}).get_json()
    fb = {"kind": "inspection", "title": "检查", "decided_on": "2025-09-30"}

    def statuses(who: str) -> dict:
        h = make.token(county[who])
        c = make.client()
        return {
            "push": c.get(f"/api/v1/pushes/{p['id']}", headers=h).status_code,
            "feedback": c.post(f"/api/v1/pushes/{p['id']}/feedback", headers=h, json=fb).status_code,
            "ask": c.post(f"/api/v1/pushes/{p['id']}/info-requests", headers=h, json={"question": "q"}).status_code,
            "revocation": c.get(f"/api/v1/revocations/{rev['id']}", headers=h).status_code,
            "notice": c.get(f"/api/v1/notices/{notice['id']}", headers=h).status_code,
            "dashboard": c.get("/api/v1/dashboard", headers=h).status_code,
            "liaisons": c.get("/api/v1/liaisons", headers=h).status_code,
            "notifications": c.get("/api/v1/notifications", headers=h).status_code,
        }

    assert statuses("scjg_staff") == {"push": 200, "feedback": 201, "ask": 201, "revocation": 200, "notice": 200,
                                      "dashboard": 403, "liaisons": 200, "notifications": 200}
    assert statuses("drafter") == {"push": 200, "feedback": 404, "ask": 404, "revocation": 200, "notice": 200,
                                   "dashboard": 403, "liaisons": 200, "notifications": 200}
    closed = {"push": 404, "feedback": 404, "ask": 404, "revocation": 404, "notice": 404, "dashboard": 403,
              "liaisons": 200, "notifications": 200}
    assert statuses("zjj_staff") == closed
    assert statuses("sfj_staff") == closed
    assert statuses("zjj_leader") == {**closed, "dashboard": 200}  # a leader sees 督办 across departments
    # acting on the bureau's side: answer and acknowledge; the regulator may not
    for who, answer, ack in (("scjg_staff", 404, 403), ("zjj_staff", 404, 404), ("drafter", 200, 200)):
        h = make.token(county[who])
        c = make.client()
        assert c.post(f"/api/v1/info-requests/{info['id']}/answer", headers=h,
                      json={"answer": "a"}).status_code == answer, who
        assert c.post(f"/api/v1/notices/{notice['id']}/ack", headers=h).status_code == ack, who
    assert make.client().post(f"/api/v1/revocations/{rev['id']}/letter",
                              headers=make.token(county["zjj_staff"])).status_code == 404
