"""The archive API: filing by document or letter, 404 / 409 / 422, listing, checks, the catalogue."""
from __future__ import annotations

import io

from openpyxl import load_workbook

from archive_support import arch_clients, arch_people, issue_letter, make_pdf  # noqa: F401  (fixtures)


def upload(clients, who, title, pages=1):
    client, headers = clients(who)
    resp = client.post("/api/v1/documents", headers=headers,
                       data={"title": title, "file": (io.BytesIO(make_pdf(title, pages)), f"{title}.pdf")})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def test_file_list_get_check_and_catalogue(arch_clients, rt):  # noqa: F811
    client, h = arch_clients("zjj_staff")
    ids = [upload(arch_clients, "zjj_staff", f"住建局{t}", pages=i + 1) for i, t in enumerate(["甲", "乙", "=SUM(A1)"])]
    bodies = []
    for doc_id in ids:
        resp = client.post("/api/v1/archive/items", headers=h, json={"document_id": doc_id, "retention": "D30"})
        assert resp.status_code == 201, resp.get_json()
        bodies.append(resp.get_json())
    first = bodies[0]
    for key in ("id", "archival_code", "fonds", "year", "retention", "unit", "item_number", "title", "pages"):
        assert key in first
    assert [b["item_number"] for b in bodies] == [1, 2, 3]
    assert bodies[1]["pages"] == 2
    year = first["year"]

    again = client.post("/api/v1/archive/items", headers=h, json={"document_id": ids[0], "retention": "D30"})
    assert again.status_code == 409 and again.get_json()["error"]["message"].startswith("已归档")
    other, oh = arch_clients("scjg_staff")
    assert other.post("/api/v1/archive/items", headers=oh,
                      json={"document_id": ids[0], "retention": "D30"}).status_code == 404
    assert other.get(f"/api/v1/archive/items/{first['id']}", headers=oh).status_code == 404
    bad = client.post("/api/v1/archive/items", headers=h, json={"document_id": ids[0], "retention": "D20"})
    assert bad.status_code == 422
    both = client.post("/api/v1/archive/items", headers=h, json={"document_id": 1, "letter_id": 1, "retention": "Y"})
    assert both.status_code == 422

    listing = client.get("/api/v1/archive/items?size=2", headers=h).get_json()
    assert [i["item_number"] for i in listing["items"]] == [1, 2] and listing["next_after"]
    rest = client.get(f"/api/v1/archive/items?size=2&after={listing['next_after']}", headers=h).get_json()
    assert [i["item_number"] for i in rest["items"]] == [3] and rest["next_after"] is None
    assert other.get("/api/v1/archive/items", headers=oh).get_json()["items"] == []

    detail = client.get(f"/api/v1/archive/items/{first['id']}", headers=h).get_json()
    assert [p["role"] for p in detail["parts"]] == ["main", "stamped"]
    stamped = detail["parts"][1]
    copy = client.get(f"/api/v1/archive/items/{first['id']}/parts/{stamped['id']}", headers=h)
    assert copy.status_code == 200 and copy.data.startswith(b"%PDF")

    report = client.post(f"/api/v1/archive/items/{first['id']}/check", headers=h).get_json()
    assert report["passed"] is True
    assert {c["property"] for c in report["checks"]} == {"authenticity", "integrity", "usability", "security"}
    assert {"property", "name", "result", "why"} <= set(report["checks"][0])

    xlsx = client.get(f"/api/v1/archive/catalogue?fonds=J012&year={year}&retention=D30&format=xlsx", headers=h)
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.data))
    rows = list(wb.active.iter_rows(values_only=True))
    assert list(rows[1]) == ["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注"]
    body = rows[2:]
    assert [r[1] for r in body] == [b["archival_code"] for b in bodies]
    assert body[2][4] == "住建局=SUM(A1)"
    assert all(len(r[5]) == 8 and r[5].isdigit() for r in body)
    assert [r[7] for r in body] == [1, 2, 3]
    pdf = client.get(f"/api/v1/archive/catalogue?fonds=J012&year={year}&retention=D30&format=pdf", headers=h)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    from pypdf import PdfReader

    page = PdfReader(io.BytesIO(pdf.data)).pages[0]
    assert float(page.mediabox.width) > float(page.mediabox.height)  # landscape
    assert "归档文件目录" in page.extract_text()


def test_letters_file_by_letter_id_and_candidates_list_them(arch_clients, rt):  # noqa: F811
    with rt.factory() as s:
        letter = issue_letter(rt, s, "关于候选归档的函")
        letter_id = letter.id
    client, h = arch_clients("archivist")
    cands = client.get("/api/v1/archive/candidates", headers=h).get_json()["items"]
    assert {"letter_id": letter_id} in [c["ref"] for c in cands]
    resp = client.post("/api/v1/archive/items", headers=h, json={"letter_id": letter_id, "retention": "D10"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["archival_code"].endswith("-D10-SCZR-0001")
    cands = client.get("/api/v1/archive/candidates", headers=h).get_json()["items"]
    assert {"letter_id": letter_id} not in [c["ref"] for c in cands]
    drafter, dh = arch_clients("drafter")
    assert drafter.post("/api/v1/archive/items", headers=dh,
                        json={"letter_id": letter_id, "retention": "D10"}).status_code in (403, 409)
