"""The signed 收文处理单 (条例 第二十四条): the incoming letter's fields and each step with person, time and
opinion (传阅 receipts too), as a PDF/A signed by the receiving organisation, for its desk only."""
from __future__ import annotations

import io

import pdfplumber
import pikepdf
from sqlalchemy import select

from archive_service.models import AuditEvent, User
from letters_support import act, draft, signed_off


def _text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return "".join((p.extract_text() or "") for p in doc.pages).replace(" ", "").replace("\n", "")


def test_the_receiving_office_certifies_a_signed_inbox_sheet_with_every_step(clients, make, county, rt):
    from correspondence.pki import key_source
    from correspondence.signing import verify_pdf

    letter = signed_off(clients, draft(clients, cc=[], disclosure="依申请公开"))
    assert act(clients, "clerk", letter, "issue").status_code == 200
    client, office = clients("scjg_clerk")
    [item] = client.get("/api/v1/inbox", headers=office).get_json()["items"]
    url = f"/api/v1/inbox/{item['id']}/actions"
    for action in ("receive", "register"):
        assert client.post(url, headers=office, json={"action": action}).status_code == 200
    assert client.post(url, headers=office, json={"action": "circulate", "readers": ["scjg_leader"]}).status_code == 200
    _, leader = clients("scjg_leader")
    assert client.post(url, headers=leader, json={"action": "read"}).status_code == 200
    resp = client.get(f"/api/v1/inbox/{item['id']}/sheet", headers=office)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = _text(resp.data)
    with rt.factory() as s:
        clerk = s.scalar(select(User).where(User.username == "scjg_clerk"))
        leader_name = s.scalar(select(User.full_name).where(User.username == "scjg_leader"))
        registered = client.get("/api/v1/inbox", headers=office).get_json()["items"][0]["incoming_number"]
        for needed in ("收文处理单", "来文机关", "来文字号", letter["number"], "收文编号", registered,
                       "公开属性依申请公开", "紧急程度加急", "密级非密", "签收", "登记", "传阅", "阅知",
                       leader_name, clerk.full_name):
            assert needed in text, needed
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "inbox.sheet_certified")) is not None
    report = verify_pdf(resp.data, key_source(rt.settings).trust_roots())
    assert report.ok and report.signatures[0].signer_name == clerk.full_name
    assert report.signatures[0].department_code == "SCJG"  # the receiving organisation's certificate
    with pikepdf.open(io.BytesIO(resp.data)) as pdf:  # PDF/A-2b before signing, still after
        assert "/OutputIntents" in pdf.Root and "pdfaid" in str(pdf.open_metadata())
    # another organisation's clerk never sees it; a page link for the desk
    _, zjj = clients("zjj_clerk")
    assert client.get(f"/api/v1/inbox/{item['id']}/sheet", headers=zjj).status_code == 404
    b = make.browser(county["scjg_clerk"])
    page = b.get(f"/letters/{letter['id']}").get_data(as_text=True)
    assert f"/inbox/{item['id']}/sheet.pdf" in page and "下载收文处理单" in page
    assert b.get(f"/inbox/{item['id']}/sheet.pdf").data.startswith(b"%PDF")
