"""Issue 7 finding 13 (uploads): an allow-list of document, image, archive-package and media types;
scripts are refused like executables; long file names keep their extension when shortened."""
from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from archive_service.models import Blob, Document
from archive_service.runtime import Runtime
from archive_service.settings import Settings
from archive_service.web import create_app
from archive_service.wiring import FEATURES
from storage_support import make_uploader, multipart

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("归档/说明.txt", "档案包说明")
    return buf.getvalue()


def _counts(rt):
    with rt.factory() as s:
        return (s.scalar(select(func.count()).select_from(Document)),
                s.scalar(select(func.count()).select_from(Blob)), len(list(rt.store.list())))


def _post(app, token, filename, data, title="测试"):
    body, ctype = multipart([("title", title, None), ("file", data, filename)])
    return app.test_client().post("/api/v1/documents", data=body,
                                  headers={"Authorization": f"Bearer {token}", "Content-Type": ctype})


@pytest.mark.parametrize("filename, data", [
    ("清理.bat", b"@echo off\r\ndel /q C:\\archive\\*\r\n"),
    ("清理.txt", b"@echo off\r\ndel /q C:\\archive\\*\r\n"),            # batch content under a harmless name
    ("run.txt", b"#!/bin/sh\nrm -rf /srv/archive\n"),
    ("tool.pdf", b"#!/usr/bin/env python3\nimport os\nos.remove('x')\n"),
    ("script", b"#!/usr/bin/perl\nunlink 'x';\n"),
    ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + b"\x00" * 400),
    ("tool.txt", b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\x3e\x00" + b"\x00" * 200),
    ("page.html", b"<html><body><script>alert(1)</script></body></html>"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("data.bin", b"\x00\x01\x02\x03" * 100),
    ("notes.ps1", b"Remove-Item C:\\archive -Recurse\n"),
])
def test_scripts_programs_and_unlisted_types_are_refused_and_nothing_is_stored(rt, filename, data):
    app = create_app(rt)
    _uid, token = make_uploader(rt)
    before = _counts(rt)
    resp = _post(app, token, filename, data)
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["error"]["message"].startswith("不允许上传此类型的文件")
    assert _counts(rt) == before


@pytest.mark.parametrize("filename, data, media_type", [
    ("报告.pdf", PDF, "application/pdf"),
    ("照片.png", PNG, "image/png"),
    ("档案包.zip", _zip(), "application/zip"),
    ("说明.txt", "审批事项说明。".encode(), "text/plain"),
    ("无扩展名", PDF, "application/pdf"),
])
def test_documents_images_packages_are_accepted(rt, filename, data, media_type):
    app = create_app(rt)
    _uid, token = make_uploader(rt)
    resp = _post(app, token, filename, data)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["media_type"] == media_type


def test_the_allow_list_is_configurable(tmp_path, migrated_database_url):

    settings = Settings.from_env(env={
        "ARCHIVE_INSTANCE": str(tmp_path / "inst"), "ARCHIVE_DATABASE_URL": migrated_database_url,
        "ARCHIVE_UPLOAD_MEDIA_TYPES": "application/pdf, image/*", "ARCHIVE_UPLOAD_EXTENSIONS": "pdf,.PNG",
    }, testing=True)
    rt = Runtime.build(settings, features=FEATURES)
    try:
        app = create_app(rt)
        _uid, token = make_uploader(rt)
        assert _post(app, token, "a.pdf", PDF).status_code == 201
        assert _post(app, token, "a.png", PNG).status_code == 201
        assert _post(app, token, "a.txt", b"plain text").status_code == 422       # extension not listed
        assert _post(app, token, "a.pdf", b"plain text").status_code == 422       # content not listed
        assert _post(app, token, "a.zip", _zip()).status_code == 422
    finally:
        rt.engine.dispose()


def test_long_file_names_keep_their_extension(rt):
    app = create_app(rt)
    _uid, token = make_uploader(rt)
    name = "关于" + "审批事项" * 100 + "的报告.pdf"
    resp = _post(app, token, name, PDF, title="长文件名")
    assert resp.status_code == 201, resp.get_json()
    stored = resp.get_json()["filename"]
    assert len(stored) <= 255 and stored.endswith("的报告.pdf"[-4:]) and stored.startswith("关于审批事项")
    download = app.test_client().get(f"/api/v1/documents/{resp.get_json()['id']}/content",
                                     headers={"Authorization": f"Bearer {token}"})
    assert download.status_code == 200 and ".pdf" in download.headers["Content-Disposition"]
