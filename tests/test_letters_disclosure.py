"""公开属性 (政府信息公开条例): chosen when drafting, stored with the letter's version, shown in the API and
pages, printed on the 发文稿纸; an unknown value is refused and changes nothing."""
from __future__ import annotations

import io
import re

import pdfplumber
from sqlalchemy import select

from archive_service.models import Department
from letters_support import act, draft, signed_off


def test_disclosure_is_stored_shown_to_the_recipient_and_printed_on_the_issuing_sheet(clients):
    letter = draft(clients, disclosure="主动公开")
    assert letter["disclosure"] == "主动公开"
    client, headers = clients("drafter")
    base = f"/api/v1/letters/{letter['id']}"
    refused = client.patch(base, json={"disclosure": "公开", "version_sha256": letter["version_sha256"]},
                           headers=headers)
    assert refused.status_code == 422 and refused.get_json()["error"]["code"]
    unchanged = client.get(base, headers=headers).get_json()
    assert (unchanged["disclosure"], unchanged["version_sha256"]) == ("主动公开", letter["version_sha256"])
    changed = client.patch(base, json={"disclosure": "依申请公开", "version_sha256": letter["version_sha256"]},
                           headers=headers).get_json()
    assert changed["disclosure"] == "依申请公开" and changed["version_sha256"] != letter["version_sha256"]
    assert client.patch(base, json={"title": "关于商请协助研究食品经营许可有关问题的函（修改稿）",
                                    "version_sha256": changed["version_sha256"]},
                        headers=headers).get_json()["disclosure"] == "依申请公开"  # kept when not sent
    letter = signed_off(clients, client.get(base, headers=headers).get_json())
    assert act(clients, "clerk", letter, "issue").status_code == 200
    scjg, scjg_headers = clients("scjg_staff")
    assert scjg.get(base, headers=scjg_headers).get_json()["disclosure"] == "依申请公开"
    sheet = client.get(base + "/files/sheet", headers=headers).data
    with pdfplumber.open(io.BytesIO(sheet)) as pdf:
        text = "".join((p.extract_text() or "") for p in pdf.pages).replace(" ", "").replace("\n", "")
    assert "公开属性依申请公开" in text


def test_an_unmarked_letter_says_so(clients):
    letter = draft(clients)
    assert letter["disclosure"] == ""


def test_the_letter_form_offers_disclosure_and_the_page_shows_it(make, county, rt):
    with rt.factory() as s:
        scjg = s.scalar(select(Department).where(Department.code == "SCJG")).id
    drafter = make.browser(county["drafter"])
    form_page = drafter.get("/letters/new").get_data(as_text=True)
    assert 'name="disclosure"' in form_page and "不予公开" in form_page and "未标注" in form_page
    form = {"title": "关于商请协助研究食品经营许可有关问题的函", "to": [str(scjg)], "body": "一、基本情况\n内容",
            "classification": "非密", "disclosure": "不予公开"}
    bad = drafter.post("/letters/new", data={**form, "disclosure": "随意公开"})
    assert bad.status_code == 422 and "公开属性" in bad.get_data(as_text=True)
    resp = drafter.post("/letters/new", data=form)
    assert resp.status_code == 302
    lid = int(re.search(r"/letters/(\d+)", resp.headers["Location"]).group(1))
    assert "公开属性：<span class=\"letter-disclosure\">不予公开</span>" in drafter.get(f"/letters/{lid}").get_data(
        as_text=True)
    edit_page = drafter.get(f"/letters/{lid}/edit").get_data(as_text=True)
    assert '<option value="不予公开" selected>' in edit_page
