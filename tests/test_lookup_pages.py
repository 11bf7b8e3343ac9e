"""The lookup pages with the Flask client: 调阅 (catalogue search, new request), the request page with
per-item decisions, the reader, 调阅审批, and 我的工作 entries with the due date."""
from __future__ import annotations

from datetime import datetime

import pytest

from archive_service.clock import FixedClock
from archive_support import arch_browser, arch_clients, arch_people  # noqa: F401  (fixtures)
from lookup_support import shared_item


@pytest.fixture
def cc(rt, arch_clients):  # noqa: F811
    """The archive county's clients (arch_clients), on Thursday 12 Feb 2026."""
    rt.clock = FixedClock(datetime(2026, 2, 12, 2, 0))
    return arch_clients


def test_pages_request_decide_read(cc, arch_browser, rt):  # noqa: F811
    item = shared_item(cc, "zjj_staff", "园林绿化工程验收材料", pages=2)
    web = arch_browser("scjg_staff")
    page = web.get("/lookups?q=园林绿化")
    assert page.status_code == 200 and item["archival_code"] in page.get_data(as_text=True)
    resp = web.post("/lookups", data={"item_id": item["id"],
                                       f"form_{item['id']}": "copy", "purpose": "核查", "days": "3",
                                       "contact": "0797-1"})
    assert resp.status_code == 302
    detail_url = resp.headers["Location"]
    html = web.get(detail_url).get_data(as_text=True)
    assert "已提交" in html and "2026-02-24" in html

    holder = arch_browser("zjj_staff")
    home = holder.get("/").get_data(as_text=True)
    assert "待审批的调阅申请" in home and "2026-02-24" in home
    queue = holder.get("/lookups/queue").get_data(as_text=True)
    assert "县市场监督管理局" in queue
    assert "同意" in holder.get(detail_url).get_data(as_text=True)
    assert holder.post(detail_url + "/actions", data={"action": "approve"}).status_code == 302
    html = web.get(detail_url).get_data(as_text=True)
    assert "调阅中" in html and "下载复制件" in html
    reader = web.get(f"/lookups/read/{item['id']}")
    assert reader.status_code == 200 and reader.get_data(as_text=True).count("/view/") == 2
    assert web.get(f"/lookups/read/{item['id'] + 999}").status_code == 404
    log = holder.get(detail_url).get_data(as_text=True)
    assert "lookup.view" in log


def test_lookup_letter_and_policy(cc, arch_browser, arch_clients):  # noqa: F811
    item = shared_item(cc, "zjj_staff", "建筑节能审查材料")
    client, h = cc("scjg_staff")
    lid = client.post("/api/v1/lookups", headers=h, json={
        "items": [{"item_id": item["id"], "form": "view"}], "purpose": "核查节能审查意见", "days": 4,
        "contact": "0797-7654321"}).get_json()["id"]
    made = client.post(f"/api/v1/lookups/{lid}/letter", headers=h)
    assert made.status_code == 201, made.get_json()
    letter = client.get(f"/api/v1/letters/{made.get_json()['letter_id']}", headers=h).get_json()
    assert letter["title"] == "关于商请调阅建筑节能审查材料档案的函"
    text = "".join(letter["body"])
    assert item["archival_code"] in text and "核查节能审查意见" in text and "4个工作日" in text
    assert letter["to"] == ["县住房和城乡建设局"] and "0797-7654321" in letter["note"]
    assert client.get(f"/api/v1/lookups/{lid}", headers=h).get_json()["letter_id"] == letter["id"]
    assert client.post(f"/api/v1/lookups/{lid}/letter", headers=h).status_code == 409  # once
    holder, hh = cc("zjj_staff")
    assert holder.post(f"/api/v1/lookups/{lid}/letter", headers=hh).status_code == 403

    # the holder's signer sets the rules: a 2-day due date, at most 3 days, the leader approves first
    assert holder.put("/api/v1/lookups/policy", headers=hh, json={"due_days": 2}).status_code == 403
    leader, lh = cc("zjj_leader")
    got = leader.put("/api/v1/lookups/policy", headers=lh, json={"due_days": 2, "max_days": 3,
                                                                 "decider": "signer", "leader_first": True})
    assert got.status_code == 200 and got.get_json()["max_days"] == 3
    too_long = client.post("/api/v1/lookups", headers=h, json={
        "items": [{"item_id": item["id"], "form": "view"}], "purpose": "核查", "days": 4, "contact": "1"})
    assert too_long.status_code == 422
    req = client.post("/api/v1/lookups", headers=h, json={
        "items": [{"item_id": item["id"], "form": "view"}], "purpose": "核查", "days": 3, "contact": "1"}).get_json()
    assert req["awaiting_leader"] is True and req["due_on"] is None
    assert client.post(f"/api/v1/lookups/{req['id']}/actions", headers=h,
                       json={"action": "approve"}).status_code == 403  # the requester is not her own leader
    sc, sh = cc("scjg_leader")
    ok = sc.post(f"/api/v1/lookups/{req['id']}/actions", headers=sh, json={"action": "approve"}).get_json()
    assert ok["state"] == "leader_approved" and ok["due_on"] == "2026-02-14"  # 2 working days: Fri 13, Sat 14
    # D30 and 非密: the archivist still decides (the signer only for 永久 or classified items)
    assert holder.post(f"/api/v1/lookups/{req['id']}/actions", headers=hh,
                       json={"action": "approve"}).get_json()["state"] == "active"


def test_holder_sees_item_accesses_page(cc, arch_browser):  # noqa: F811
    item = shared_item(cc, "zjj_staff", "人防工程验收材料")
    client, h = cc("scjg_staff")
    lid = client.post("/api/v1/lookups", headers=h, json={
        "items": [{"item_id": item["id"], "form": "view"}], "purpose": "核查", "days": 2,
        "contact": "1"}).get_json()["id"]
    holder, hh = cc("zjj_staff")
    holder.post(f"/api/v1/lookups/{lid}/actions", headers=hh, json={"action": "approve"})
    assert client.get(f"/api/v1/archive/items/{item['id']}/view/1", headers=h).status_code == 200
    web = arch_browser("zjj_staff")
    assert "调阅记录" in web.get(f"/archive/items/{item['id']}").get_data(as_text=True)
    html = web.get(f"/lookups/items/{item['id']}/accesses").get_data(as_text=True)
    assert "lookup.view" in html and "经办人" in html
    assert arch_browser("scjg_staff").get(f"/lookups/items/{item['id']}/accesses").status_code == 404


def test_non_pdf_parts_become_watermarked_pdfs():
    """Images are wrapped on A4; DOCX goes through LibreOffice; both get the watermark on every page."""
    import io

    from docx import Document as Docx
    from PIL import Image
    from pypdf import PdfReader

    from archive_service.lookup import copies

    lines = copies.watermark_lines("经办人", "县市场监督管理局", "DY2026-000009", "2026-02-12 10:00:00")
    png = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(png, "PNG")
    buf = io.BytesIO()
    d = Docx()
    d.add_paragraph("正文一段")
    d.save(buf)
    for data, mime, name in ((png.getvalue(), "image/png", "a.png"),
                             (buf.getvalue(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                              "a.docx")):
        out = copies.watermarked(copies.as_pdf(data, mime, name), lines)
        pages = PdfReader(io.BytesIO(out)).pages
        assert pages and all("DY2026-000009" in p.extract_text() for p in pages), name


def test_request_form_is_validated_by_the_api_model_and_bad_input_changes_nothing(cc, arch_browser):  # noqa: F811
    item = shared_item(cc, "zjj_staff", "消防验收材料")
    web = arch_browser("scjg_staff")
    form = {"item_id": item["id"], f"form_{item['id']}": "view", "purpose": "核查", "days": "3", "contact": "0797-1"}
    for bad, message in (({"purpose": "查" * 2001}, "调阅目的：过长（不超过 2000 个字符）"),
                         ({f"form_{item['id']}": "print"}, "调阅方式：取值不在允许范围内"),
                         ({"days": "400"}, "天数：过大（不大于 365）")):
        resp = web.post("/lookups", data={**form, **bad})
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), bad
    client, h = cc("scjg_staff")
    assert client.get("/api/v1/lookups", headers=h).get_json()["items"] == []
    assert web.post("/lookups", data=form).status_code == 302
