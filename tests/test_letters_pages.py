"""The letters pages: forms carry CSRF, the chain is driven from the detail page, errors show in Chinese."""
import io
import re

from sqlalchemy import select

from archive_service.models import Department


def _letter_id(resp) -> int:
    return int(re.search(r"/letters/(\d+)", resp.headers["Location"]).group(1))


def test_draft_from_a_template_and_walk_the_chain_in_the_pages(make, county, rt):
    with rt.factory() as s:
        scjg = s.scalar(select(Department).where(Department.code == "SCJG")).id
    drafter = make.browser(county["drafter"])
    page = drafter.get("/letters/new?template=consultation&subject=食品经营许可").get_data(as_text=True)
    assert "关于商请协助研究食品经营许可有关问题的函" in page and "协商函" in page
    form = {"title": "关于商请协助研究食品经营许可有关问题的函", "to": [str(scjg)], "body": "一、基本情况\n内容",
            "note": "联系人：张伟，电话：0797-1234567", "classification": "非密"}
    assert drafter.client.post("/letters/new", data=form).status_code == 400  # no CSRF token
    refused = drafter.post("/letters/new", data={**form, "classification": "机密"})
    assert refused.status_code == 422 and "非密" in refused.get_data(as_text=True)
    preview = drafter.post("/letters/preview.pdf", data=form)
    assert preview.status_code == 200 and preview.data.startswith(b"%PDF")
    assert drafter.post("/letters/preview.pdf", data={**form, "body": ""}).status_code == 422
    resp = drafter.post("/letters/new", data=form)
    assert resp.status_code == 302
    lid = _letter_id(resp)
    attached = drafter.post(f"/letters/{lid}/attachments", content_type="multipart/form-data",
                            data={"file": (io.BytesIO("申请材料".encode()), "申请材料清单.txt")})
    assert attached.status_code == 302
    detail = drafter.get(f"/letters/{lid}").get_data(as_text=True)
    assert "附件：1.申请材料清单" in detail
    sha = re.search(r'name="version_sha256" value="([0-9a-f]{64})"', detail).group(1)
    assert "提交核稿" in detail and "预览" in detail
    assert drafter.post(f"/letters/{lid}/act", data={"action": "submit", "version_sha256": sha}).status_code == 302
    bad = drafter.post(f"/letters/{lid}/act", data={"action": "submit", "version_sha256": sha})
    assert bad.status_code == 409 and "当前环节为“核稿”" in bad.get_data(as_text=True)
    reviewer = make.browser(county["reviewer"])
    assert reviewer.post(f"/letters/{lid}/act", data={"action": "return", "version_sha256": sha,
                                                      "opinion": "请补充依据"}).status_code == 302
    edit = drafter.post(f"/letters/{lid}/edit", data={**form, "body": "一、基本情况\n内容（已补充依据）",
                                                      "version_sha256": sha})
    assert edit.status_code == 302
    home = drafter.get("/").get_data(as_text=True)
    assert "我的公文草稿" in home
    assert "请补充依据" in drafter.get(f"/letters/{lid}").get_data(as_text=True)
    assert drafter.get(f"/letters/{lid}/preview.pdf").data.startswith(b"%PDF")
    assert make.browser(county["scjg_staff"]).get(f"/letters/{lid}").status_code == 404
    assert make.browser(county["admin"]).get("/letters/agency-codes").status_code == 200
    assert drafter.get("/letters/agency-codes").status_code == 403
    assert drafter.get("/letters").status_code == 200 and drafter.get("/inbox").status_code == 200


def test_a_joint_letter_keeps_its_co_issuers_when_edited_in_the_page(make, county, rt):
    with rt.factory() as s:
        ids = {d.code: str(d.id) for d in s.scalars(select(Department))}
    drafter = make.browser(county["drafter"])
    form = {"title": "关于联合开展检查的函", "to": [ids["ZJJ"]], "co_issuers": [ids["SCJG"]], "body": "内容"}
    lid = _letter_id(drafter.post("/letters/new", data=form))
    page = drafter.get(f"/letters/{lid}").get_data(as_text=True)
    assert "联合发文（会签）：县市场监督管理局" in page
    sha = re.search(r'name="version_sha256" value="([0-9a-f]{64})"', page).group(1)
    edit = drafter.post(f"/letters/{lid}/edit", data={"title": "关于联合开展专项检查的函", "to": [ids["ZJJ"]],
                                                      "body": "内容", "version_sha256": sha})
    assert edit.status_code == 302, edit.get_data(as_text=True)
    assert "联合发文（会签）：县市场监督管理局" in drafter.get(f"/letters/{lid}").get_data(as_text=True)
