"""The office in the chain: full names (全称) on issued letters, 三员分立, the clerk (文书), the seal."""
from __future__ import annotations

import io

import pdfplumber

from archive_service.directory import Directory, find_department
from letters_support import act, draft, signed_off


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
    resp = act(clients, "drafter", letter, "issue")
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

