"""Preview without saving: POST /api/v1/render, the 预览 page and `archive-service render`."""
import json

from click.testing import CliRunner
from sqlalchemy import func, select

from archive_service.cli import main
from archive_service.models import AuditEvent, Blob, Document
from tests.render_support import spec


def _counts(rt):
    with rt.factory() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Document, Blob, AuditEvent))


def test_render_pdf_and_docx_save_nothing(make, rt):
    client, h = make.api(make.user())
    before = _counts(rt)
    resp = client.post("/api/v1/render", headers=h, json=spec("letter"))
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data.startswith(b"%PDF")
    resp = client.post("/api/v1/render?format=docx", headers=h, json=spec("minutes"))
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    resp = client.post("/api/v1/render", headers={**h, "Accept": "application/vnd.openxmlformats-officedocument"
                                                  ".wordprocessingml.document"}, json=spec("standard"))
    assert resp.data[:2] == b"PK"
    assert _counts(rt) == before


def test_bad_spec_is_422_naming_the_field(make):
    client, h = make.api(make.user())
    resp = client.post("/api/v1/render", headers=h, json={**spec("letter"), "number": "石审批函(2026)7号"})
    assert resp.status_code == 422
    err = resp.get_json()["error"]
    assert err["details"]["field"] == "number" and "发文字号" in err["message"]
    resp = client.post("/api/v1/render", headers=h, json={**spec("letter"), "secrecy": "秘密"})
    assert resp.status_code == 422 and "涉密" in resp.get_json()["error"]["message"]
    assert client.post("/api/v1/render", headers=h, json=[1]).status_code == 400
    assert client.post("/api/v1/render", headers=h, json={**spec("letter"), "format": "odt"}).status_code == 400
    anonymous = client.application.test_client()
    assert anonymous.post("/api/v1/render", json=spec("letter")).status_code in (400, 401)


def test_openapi_documents_the_render_spec(make):
    client, h = make.api(make.user())
    doc = client.get("/api/v1/openapi.json", headers=h).get_json()
    assert "post" in doc["paths"]["/api/v1/render"]
    props = doc["components"]["schemas"]["RenderSpec"]["properties"]
    for field in ("kind", "issuer", "title", "to", "cc", "body", "attachments", "note", "date", "number",
                  "attendance"):
        assert field in props


def test_preview_page(make):
    b = make.browser(make.user())
    page = b.get("/render/preview")
    assert page.status_code == 200 and "公文预览" in page.get_data(as_text=True)
    resp = b.post("/render/preview", data={"spec": json.dumps(spec("letter"), ensure_ascii=False), "format": "pdf"})
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    resp = b.post("/render/preview", data={"spec": "{不是JSON"})
    assert resp.status_code == 422 and "JSON" in resp.get_data(as_text=True)


def test_cli_render(tmp_path):
    src = tmp_path / "spec.json"
    src.write_text(json.dumps(spec("minutes"), ensure_ascii=False), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["render", str(src), "--out", str(tmp_path / "m.pdf")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m.pdf").read_bytes().startswith(b"%PDF")
    result = runner.invoke(main, ["render", str(src), "--out", str(tmp_path / "m.docx")])
    assert result.exit_code == 0 and (tmp_path / "m.docx").read_bytes()[:2] == b"PK"
    src.write_text(json.dumps({**spec("minutes"), "date": "3月13日"}, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(main, ["render", str(src), "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0 and "date" in result.output and not (tmp_path / "x.pdf").exists()
