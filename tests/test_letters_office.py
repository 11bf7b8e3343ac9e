"""The office in the chain: full names (全称) on issued letters, 三员分立, the clerk (文书), the seal."""
from __future__ import annotations

import io
import os

import pdfplumber

from archive_service.directory import Directory, find_department
from letters_support import LETTER, act, draft, signed_off

SIGN_ONLY = (("drafter", "submit", ""), ("reviewer", "pass", ""), ("signer", "sign", "同意印发"))
LETTER_BODY = {**LETTER, "title": "关于办公室核稿测试的函"}


def pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(p.extract_text() or "" for p in pdf.pages)


def set_full_name(rt, code: str, full_name: str) -> None:
    with rt.transaction() as s:
        d = find_department(s, code)
        Directory(s, rt.clock).update_department(d, d.name, d.code, d.kind, full_name)


def test_issued_letter_prints_the_full_name_and_the_certificate_carries_it(clients, rt):
    set_full_name(rt, "SPJ", "石城县行政审批局")
    letter = signed_off(clients, draft(clients))
    resp = act(clients, "clerk", letter, "issue")
    assert resp.status_code == 200, resp.get_json()
    client, scjg = clients("scjg_staff")
    base = f"/api/v1/letters/{letter['id']}"
    lines = pdf_text(client.get(base + "/files/pdf", headers=scjg).data).splitlines()
    assert lines[0].replace(" ", "").startswith("石城县行政审批局")  # masthead
    full = [ln.replace(" ", "") for ln in lines if "石城县行政审批局" in ln.replace(" ", "")]
    assert full == ["石城县行政审批局", "石城县行政审批局"], lines  # masthead and 署名 (a 函 has no 印发机关 line)
    assert not any(ln.replace(" ", "").startswith("县行政审批局") for ln in lines)
    report = client.get(base + "/signature", headers=scjg).get_json()
    assert report["ok"] and "石城县行政审批局" in report["summary"]


def test_a_department_without_a_full_name_prints_its_name(rt, make):
    bureau = make.department("bureau", name="县某局", code="MJ")
    assert bureau.official_name == "县某局"
    with rt.transaction() as s:
        d = find_department(s, "MJ")
        Directory(s, rt.clock).update_department(d, d.name, d.code, d.kind, "石城县某局")
    with rt.factory() as s:
        assert find_department(s, "MJ").official_name == "石城县某局"


# -- 三员分立 ----------------------------------------------------------------------------------------
def test_system_roles_are_never_held_by_one_user(make, county, rt):
    from archive_service.errors import Unprocessable
    from archive_service.models import User

    admin = county["admin"]
    b = make.browser(admin)
    resp = b.post("/admin/users", data={"username": "both", "full_name": "兼任者", "department": "SPJ",
                                        "roles": ["admin", "auditor"], "password": "secret-password-1"})
    assert resp.status_code == 422
    assert "系统管理员与安全审计员不能由同一人兼任" in resp.get_data(as_text=True)
    auditor = county["auditor"]
    resp = b.post(f"/admin/users/{auditor.id}", data={"action": "roles", "roles": ["auditor", "secadmin"]})
    assert resp.status_code == 422 and "三员分立" in resp.get_data(as_text=True)
    with rt.factory() as s:
        assert s.query(User).filter_by(username="both").count() == 0
        assert s.get(User, auditor.id).roles == {"auditor"}  # nothing changed
        try:
            Directory(s, rt.clock).add_user("x1", "x", find_department(s, "SPJ"), ["secadmin", "admin"], "pw-123456789")
        except Unprocessable as exc:
            assert "安全保密管理员" in exc.message and "系统管理员" in exc.message
        else:
            raise AssertionError("admin + secadmin was accepted")
    # one system role with business roles stays allowed
    ok = b.post("/admin/users", data={"username": "sec1", "full_name": "保密员", "department": "SPJ",
                                      "roles": ["secadmin", "drafter"], "password": "secret-password-1"})
    assert ok.status_code == 302



# -- the 办公室 in the chain ---------------------------------------------------------------------------
def test_only_a_clerk_of_the_issuing_organisation_rechecks_registers_and_issues(clients, make, county, rt):
    signed = signed_off(clients, draft(clients), SIGN_ONLY)
    for who in ("drafter", "reviewer", "signer"):
        resp = act(clients, who, signed, "recheck")
        assert resp.status_code == 403, (who, resp.get_json())
    assert "文书" in act(clients, "signer", signed, "recheck").get_json()["error"]["message"]
    assert act(clients, "scjg_clerk", signed, "recheck").status_code == 404  # another organisation's 办公室
    # a drafter who is also a clerk still cannot take the office's steps on their own letter
    with rt.transaction() as s:
        from archive_service.models import User, UserRole

        person = s.get_one(User, county["drafter"].id)
        person.role_rows.append(UserRole(role="clerk"))
    resp = act(clients, "drafter", signed, "recheck")
    assert resp.status_code == 403
    message = resp.get_json()["error"]["message"]
    assert "拟稿人不能复核本人起草的公文" in message and "第十九、二十条" in message
    for action in ("recheck", "register"):
        assert act(clients, "clerk", signed, action).status_code == 200
    assert act(clients, "drafter", signed, "issue").status_code == 403
    resp = act(clients, "clerk", signed, "issue")
    assert resp.status_code == 200 and resp.get_json()["state"] == "issued"


def test_the_office_clerk_sees_every_sections_letters_and_the_section_head_or_office_passes(make, county, rt):
    office = make.department("section", name="办公室", code="BGS", parent=find_department(make.s, "SPJ"))
    office_clerk = make.user(office, "clerk", username="bgs_clerk")
    c = make.client()
    drafter, clerk = make.token(county["drafter"]), make.token(office_clerk)
    created = c.post("/api/v1/letters", json=LETTER_BODY, headers=drafter).get_json()
    listed = c.get("/api/v1/letters", headers=clerk).get_json()
    assert created["id"] in [x["id"] for x in listed["other"]]  # a section's draft, before 核稿
    seen = c.get(f"/api/v1/letters/{created['id']}", headers=clerk).get_json()
    assert seen["state"] == "drafting" and "steps" in seen  # internal view: the chain and its history
    c.post(f"/api/v1/letters/{created['id']}/actions", headers=drafter,
           json={"action": "submit", "version_sha256": created["version_sha256"]})
    passed = c.post(f"/api/v1/letters/{created['id']}/actions", headers=clerk,
                    json={"action": "pass", "version_sha256": created["version_sha256"]})
    assert passed.status_code == 200 and passed.get_json()["state"] == "signing"  # 核稿 by the 办公室
    signer = make.token(county["signer"])
    c.post(f"/api/v1/letters/{created['id']}/actions", headers=signer,
           json={"action": "sign", "opinion": "同意", "version_sha256": created["version_sha256"]})
    listed = c.get("/api/v1/letters", headers=clerk).get_json()
    assert created["id"] in [x["id"] for x in listed["process"]]  # waiting for the 办公室's 复核
    other = make.token(county["scjg_clerk"])
    assert c.get(f"/api/v1/letters/{created['id']}", headers=other).status_code == 404



# -- 收文 in the recipient's 办公室 ----------------------------------------------------------------------
def test_incoming_letter_goes_to_the_office_which_may_return_it_and_circulate_it(clients, make, county):
    letter = signed_off(clients, draft(clients, cc=[]))
    assert act(clients, "clerk", letter, "issue").status_code == 200
    client, office = clients("scjg_clerk")
    [item] = client.get("/api/v1/inbox", headers=office).get_json()["items"]
    url = f"/api/v1/inbox/{item['id']}/actions"
    for action in ("receive", "register"):
        assert client.post(url, headers=office, json={"action": action}).status_code == 200
    no_reason = client.post(url, headers=office, json={"action": "return"})
    assert no_reason.status_code == 422
    # 传阅 with read receipts, before deciding
    _, leader = clients("scjg_leader")
    sent = client.post(url, headers=office, json={"action": "circulate", "readers": ["scjg_leader", "scjg_staff"]})
    assert sent.status_code == 200
    assert [(r["user"], r["read_at"]) for r in sent.get_json()["item"]["readings"]] == [
        ("scjg_leader", None), ("scjg_staff", None)]
    read = client.post(url, headers=leader, json={"action": "read"}).get_json()["item"]
    assert [r["read_at"] is not None for r in read["readings"]] == [True, False]
    _, zjj = clients("zjj_clerk")
    assert client.post(url, headers=zjj, json={"action": "read"}).status_code == 404
    returned = client.post(url, headers=office,
                           json={"action": "return", "opinion": "非本单位职责，请改送县卫生健康委员会"})
    assert returned.status_code == 200 and returned.get_json()["item"]["state"] == "returned"
    # the issuing side sees that it came back, and why
    _, sczr = clients("drafter")
    seen = client.get(f"/api/v1/letters/{letter['id']}", headers=sczr).get_json()
    [rec] = seen["recipients"]
    assert (rec["state"], rec["returned_reason"]) == ("returned", "非本单位职责，请改送县卫生健康委员会")
    assert client.post(url, headers=office, json={"action": "propose", "opinion": "x"}).status_code == 409


def test_a_letter_to_the_bureau_lands_with_its_office_clerk(clients, make, county):
    office = make.department("section", name="办公室", code="BGS", parent=find_department(make.s, "SPJ"))
    office_clerk = make.user(office, "clerk", username="bgs_clerk")
    reply = {"title": "关于协助核查的函", "to": ["县行政审批局"], "cc": [], "body": ["请协助核查。"],
             "note": "联系人：市场经办人，电话：0797-7654321"}
    c = make.client()
    staff = make.token(county["scjg_staff"])
    created = c.post("/api/v1/letters", json=reply, headers=staff).get_json()
    chain = (("scjg_staff", "submit", ""), ("scjg_leader", "pass", ""), ("scjg_leader", "sign", "同意"),
             ("scjg_clerk", "recheck", ""), ("scjg_clerk", "register", ""), ("scjg_clerk", "issue", ""))
    signed_off(clients, created, chain)
    h = make.token(office_clerk)
    [item] = c.get("/api/v1/inbox", headers=h).get_json()["items"]
    assert item["title"] == "关于协助核查的函"
    received = c.post(f"/api/v1/inbox/{item['id']}/actions", headers=h, json={"action": "receive"})
    assert received.status_code == 200
    assert c.get("/api/v1/inbox", headers=make.token(county["drafter"])).get_json()["items"] == []  # a section


# -- the seal (印章) -----------------------------------------------------------------------------------
def test_the_seal_is_the_signatures_appearance_over_the_signature_and_the_signer_is_the_approver(clients, rt):
    from pyhanko.pdf_utils.reader import PdfFileReader

    set_full_name(rt, "SPJ", "石城县行政审批局")
    letter = signed_off(clients, draft(clients))
    assert act(clients, "clerk", letter, "issue").status_code == 200
    client, scjg = clients("scjg_staff")
    data = client.get(f"/api/v1/letters/{letter['id']}/files/pdf", headers=scjg).data
    [sig] = PdfFileReader(io.BytesIO(data)).embedded_signatures
    assert sig.sig_object["/Name"] == "局长李明"  # the 签发人, not the clerk who pressed 印发
    claimed = sig.signer_info["signed_attrs"]
    roles = [v.native for a in claimed if a["type"].native == "signer_attributes_v2"
             for v in a["values"]]
    assert "局长李明" in str(roles) and "文书周丽" in str(roles) and "签发人" in str(roles)
    annot = sig.sig_field["/Kids"][0] if "/Kids" in sig.sig_field else sig.sig_field
    x1, y1, x2, y2 = (float(v) for v in annot["/Rect"])
    assert round((x2 - x1) / 72 * 25.4) == 42  # a 42 mm round seal
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[-1]  # the 署名 page
        words = page.extract_words()
        name = next(w for w in words if w["text"].startswith("石城县行政审批局") and w["top"] > 300)
        date = next(w for w in words if w["text"].endswith("日") and w["top"] > name["top"])
        top, bottom, centre_x = page.height - y2, page.height - y1, (x1 + x2) / 2
        # the signature widget (its appearance: the seal) sits on this page
        assert any(abs(a["x0"] - x1) < 1 and abs(a["top"] - top) < 1 for a in page.annots), page.annots
    # the stamp presses the 署名 and the 成文日期: centred on them, both at or below its centre
    for w in (name, date):
        assert abs((w["x0"] + w["x1"]) / 2 - centre_x) < 3, (w, (x1, top, x2, bottom))
        assert top < w["top"] and w["bottom"] < bottom
        assert (w["top"] + w["bottom"]) / 2 >= (top + bottom) / 2 - 1
    assert x1 < date["x0"] and date["x1"] < x2
    # the date four characters from the right edge of the 版心 (sealed layout)
    right = page.width - 26 / 25.4 * 72
    assert abs((right - date["x1"]) / (72 / 25.4) - 4 * 156 / 28) < 1.5
    # the signature's appearance stream draws the seal image (an image XObject with transparency)
    ap = annot["/AP"]["/N"]
    images = []

    def walk(xobj, depth=0):
        for x in (xobj.get("/Resources", {}).get("/XObject", {}) or {}).values():
            x = x.get_object()
            if x.get("/Subtype") == "/Image":
                images.append(x)
            elif depth < 4:
                walk(x, depth + 1)

    walk(ap)
    assert images and any("/SMask" in x for x in images)


def test_a_seal_that_is_not_a_transparent_png_of_at_most_2_mb_stops_the_start(settings, tmp_path):
    from dataclasses import replace

    from PIL import Image

    from archive_service.runtime import Runtime
    from archive_service.settings import ConfigError
    from archive_service.wiring import FEATURES
    from correspondence.seal import generate_seal

    folder = tmp_path / "seals"
    folder.mkdir()
    (folder / "SPJ.png").write_bytes(generate_seal("石城县行政审批局"))
    configured = replace(settings, seal_dir=folder)
    Runtime.build(configured, features=FEATURES).close()  # a transparent PNG is accepted
    Image.new("RGB", (200, 200), (255, 255, 255)).save(folder / "SCJG.png")  # white background
    bad = [(folder / "SCJG.png", "透明"),
           (folder / "WJW.png", "PNG 格式"),
           (folder / "ZJJ.png", "2 MB")]
    (folder / "WJW.png").write_bytes(b"GIF89a not a png")
    Image.frombytes("RGBA", (800, 800), os.urandom(800 * 800 * 4)).save(folder / "ZJJ.png")  # incompressible
    assert (folder / "ZJJ.png").stat().st_size > 2 * 1024 * 1024
    for path, reason in bad:
        try:
            Runtime.build(configured, features=FEATURES).close()
        except ConfigError as exc:
            assert path.name in str(exc) and reason in str(exc), str(exc)
        else:
            raise AssertionError(f"{path.name} was accepted")
        path.unlink()
    Runtime.build(configured, features=FEATURES).close()


# -- the county measure's title in every template and example ----------------------------------------
MEASURE = "《石城县行政审批与监管协调联动管理办法（试行）》"


def test_templates_and_examples_cite_the_county_measure_by_its_title():
    import json
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = [*sorted((root / "templates" / "documents").rglob("*.json")), root / "archive_service" / "web" /
             "render_api.py", root / "correspondence" / "demo.py", root / "archive_service" / "demo.py",
             *sorted((root / "tests" / "data").glob("render_*.json")), *sorted((root / "bench").glob("*.py")),
             root / "tests" / "test_letters_search.py"]
    for path in files:  # the old working name of the measure, cited before it was published
        assert "审管协调联动工作办法" not in path.read_text("utf-8"), path.name
    cited = 0
    for path in files:
        text = path.read_text("utf-8")
        for title in re.findall(r"《石城县[^》]*》", text):
            assert title == MEASURE, (path.name, title)
            cited += 1
    assert cited >= 10
    change = json.loads((root / "templates" / "documents" / "letters" / "change_revocation.json").read_text("utf-8"))
    body = "".join(change["body"])
    assert all(word in body for word in ("变更", "撤销", "注销", "吊销"))
    assert "推送" not in body  # it promises no push the system does not make


def test_the_issuing_sheet_has_the_usual_fields_and_is_signed(clients, rt):
    from correspondence.pki import key_source
    from correspondence.signing import verify_pdf

    letter = signed_off(clients, draft(clients))
    assert act(clients, "clerk", letter, "issue").status_code == 200
    client, sczr = clients("drafter")
    sheet = client.get(f"/api/v1/letters/{letter['id']}/files/sheet", headers=sczr).data
    text = pdf_text(sheet).replace(" ", "")
    for label in ("发文稿纸", "发文机关", "主送", "县市场监督管理局", "抄送", "县卫生健康委员会", "密级", "非密",
                  "紧急程度", "加急", "份数", "2份", "公开属性", "附件", "核稿", "签发", "复核", "登记", "印发",
                  "文书周丽", "局长李明"):
        assert label in text, label
    report = verify_pdf(sheet, key_source(rt.settings).trust_roots())
    assert report.ok and report.signatures[0].signer_name == "局长李明"


# -- clerk-facing pages ------------------------------------------------------------------------------
def test_audit_list_speaks_chinese_and_filters_by_chinese_names(clients, make, county):
    letter = signed_off(clients, draft(clients))
    assert act(clients, "clerk", letter, "issue").status_code == 200
    b = make.browser(county["auditor"])
    page = b.get("/audit/", query_string={"action": "印发", "actor": "文书周丽"}).get_data(as_text=True)
    assert "<td>印发</td>" in page and "县行政审批局" in page  # Chinese action and department names
    assert "<td>签发</td>" not in page  # only the 印发 events, only the clerk's
    assert "<summary>详情</summary>" in page
    nothing = b.get("/audit/", query_string={"action": "印发", "actor": "局长李明"}).get_data(as_text=True)
    assert "<td>印发</td>" not in nothing


def test_inbox_in_the_navigation_counts_what_waits_and_issue_asks_for_confirmation(clients, make, county):
    letter = signed_off(clients, draft(clients))
    page = make.browser(county["clerk"]).get(f"/letters/{letter['id']}").get_data(as_text=True)
    assert 'data-action="issue" data-confirm="' in page
    assert act(clients, "clerk", letter, "issue").status_code == 200
    nav = make.browser(county["scjg_clerk"]).get("/").get_data(as_text=True)
    assert "收文<span aria-hidden=\"true\">（1）</span>" in nav


def test_deactivating_a_user_and_withdrawing_a_liaison_ask_for_confirmation(make, county):
    make.liaison(county["scjg_liaison"], find_department(make.s, "SPJ"))
    b = make.browser(county["admin"])
    assert 'data-confirm="停用后' in b.get("/admin/users").get_data(as_text=True)
    assert 'data-confirm="撤销后该联络员' in b.get("/admin/liaisons").get_data(as_text=True)


def test_the_letter_page_shows_where_the_letter_is_in_the_chain(clients, make, county):
    letter = signed_off(clients, draft(clients), SIGN_ONLY)
    page = make.browser(county["clerk"]).get(f"/letters/{letter['id']}").get_data(as_text=True)
    assert 'aria-current="step" class="current">复核</li>' in page
    assert page.count('class="done"') == 3  # 拟稿, 核稿, 签发
