"""The archive pages render in Chinese, file in batches, show an item and its checks, and 我的工作 lists
what waits to be filed."""
from __future__ import annotations

import pytest

from archive_support import arch_browser, arch_clients, arch_people, issue_letter, upload_pdf  # noqa: F401  (fixtures)


@pytest.fixture
def arch(rt, arch_people):  # noqa: F811
    return rt


def test_batch_filing_item_page_catalogue_import_and_disposal_pages(arch, arch_browser):  # noqa: F811
    with arch.factory() as s:
        l1 = issue_letter(arch, s, "关于页面归档测试的函一")
        l2 = issue_letter(arch, s, "关于页面归档测试的函二")
        doc = upload_pdf(arch, s, "drafter", "市场准入股上传的文件")
        ids = (l1.id, l2.id, doc.id)
    b = arch_browser("archivist")
    home = b.get("/").get_data(as_text=True)
    assert "待归档" in home and "关于页面归档测试的函一" in home
    page = b.get("/archive/file").get_data(as_text=True)
    assert "关于页面归档测试的函二" in page and "市场准入股上传的文件" in page
    resp = b.post("/archive/file", data={"ref": [f"letter:{ids[0]}", f"letter:{ids[1]}", f"document:{ids[2]}"],
                                          "retention": "D30", "unit": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "已归档 3 件" in html
    assert "-D30-SCZR-0001" in html and "-D30-SCZR-0003" in html
    listing = b.get("/archive").get_data(as_text=True)
    assert listing.count("-D30-SCZR-000") == 3
    import re

    item_id = re.search(r'/archive/items/(\d+)', listing).group(1)
    item = b.get(f"/archive/items/{item_id}").get_data(as_text=True)
    for text in ("著录项", "组成文件", "归档章副本", "四性检测", "处理过程", "详情", "公文处理单"):
        assert text in item, text
    checked = b.post(f"/archive/items/{item_id}/check", follow_redirects=True).get_data(as_text=True)
    assert "四性检测通过" in checked
    assert "归档文件目录" in b.get("/archive/catalogue").get_data(as_text=True)
    assert "上传并导入" in b.get("/archive/import").get_data(as_text=True)
    assert "没有到期档案" in b.get("/archive/disposal").get_data(as_text=True)
    other = arch_browser("scjg_staff")
    assert other.get(f"/archive/items/{item_id}").status_code == 404
    assert "没有档案" in other.get("/archive").get_data(as_text=True)


def test_administrators_set_fonds_and_units(arch, arch_browser, arch_clients):  # noqa: F811
    client, admin = arch_clients("admin")
    resp = client.put("/api/v1/archive/fonds", headers=admin, json={
        "department": "SFJ", "code": "J099",
        "units": [{"code": "BGS", "name": "办公室"}, {"code": "FZ", "name": "法治股"}]})
    assert resp.status_code == 200, resp.get_json()
    assert [u["code"] for u in resp.get_json()["units"]] == ["BGS", "FZ"]
    taken = client.put("/api/v1/archive/fonds", headers=admin, json={
        "department": "WBB", "code": "J099", "units": [{"code": "BGS", "name": "办公室"}]})
    assert taken.status_code == 409
    bad = client.put("/api/v1/archive/fonds", headers=admin, json={"department": "WBB", "code": "J9", "units": []})
    assert bad.status_code == 422
    _, staff = arch_clients("zjj_staff")
    assert client.put("/api/v1/archive/fonds", headers=staff, json={
        "department": "ZJJ", "code": "J777", "units": [{"code": "BGS", "name": "办公室"}]}).status_code == 403
    b = arch_browser("admin")
    page = b.get("/archive/fonds").get_data(as_text=True)
    assert "J099" in page and "法治股" in page
    saved = b.post("/archive/fonds", data={"department": "WBB", "code": "j098", "units": "BGS 办公室\nZH 综合股"},
                   follow_redirects=True).get_data(as_text=True)
    assert "全宗号已保存" in saved and "J098" in saved and "综合股" in saved


def test_an_archivist_corrects_metadata_and_it_is_audited(arch, arch_browser):  # noqa: F811
    from sqlalchemy import select

    from archive_service.archive.models import ArchiveItem
    from archive_service.models import AuditEvent
    from archive_support import service, users

    with arch.factory() as s:
        u = users(s)["zjj_staff"]
        doc = upload_pdf(arch, s, "zjj_staff", "待修改题名的文件")
        svc = service(arch, s)
        item_id = svc.file(u, svc.bundle(u, document_id=doc.id), "D10").id
        s.commit()
    b = arch_browser("zjj_staff")
    page = b.post(f"/archive/items/{item_id}/metadata", data={
        "title": "[关于消防验收备案的报告]", "doc_number": "石住建〔2026〕9号", "responsible": "县住房和城乡建设局",
        "doc_date": "2026-03-05", "doc_type": "报告", "remarks": ""}, follow_redirects=True).get_data(as_text=True)
    assert "著录项已保存" in page and "[关于消防验收备案的报告]" in page and "20260305" in page
    with arch.factory() as s:
        item = s.get(ArchiveItem, item_id)
        assert item.doc_number == "石住建〔2026〕9号" and item.doc_type == "报告"
        ev = s.scalar(select(AuditEvent).where(AuditEvent.action == "archive.metadata_changed"))
        assert ev is not None and "待修改题名的文件" in ev.details and ev.target_id == str(item_id)
    other = arch_browser("zjj_leader")  # a leader sees the item but does not edit it
    assert other.post(f"/archive/items/{item_id}/metadata", data={"title": "x"},
                      follow_redirects=True).status_code in (200, 403)
    with arch.factory() as s:
        assert s.get(ArchiveItem, item_id).title == "[关于消防验收备案的报告]"
