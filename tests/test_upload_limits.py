"""Issue 8 part 5: every file-accepting endpoint streams its body with a size limit; an over-limit body
gets 413 and stores nothing — whether the declared Content-Length is too large (refused unread) or the
file grows past the limit while it streams. Signature verification has its own, smaller limit."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from archive_service.models import Blob, Document, DocumentVersion
from archive_service.runtime import Runtime
from archive_service.settings import Settings
from archive_service.wiring import FEATURES
from factories import Make, county_users

MiB = 1024 * 1024
UPLOAD_MB, VERIFY_MB = 2, 1


@pytest.fixture
def world(county_copy):
    instance, url = county_copy
    settings = Settings.from_env(env={
        "ARCHIVE_INSTANCE": str(instance), "ARCHIVE_DATABASE_URL": url,
        "ARCHIVE_MAX_UPLOAD_MB": str(UPLOAD_MB), "ARCHIVE_MAX_VERIFY_MB": str(VERIFY_MB),
    }, testing=True)
    rt = Runtime.build(settings, features=FEATURES)
    make = Make(rt)
    people = county_users(make)
    drafter = people["drafter"]
    letter = make.letter(drafter, to=["县市场监督管理局"])
    meeting = make.meeting(drafter, rt.clock.today() + timedelta(days=60), participants=[{"department": "SCJG"}])
    doc = make.document(drafter, b"%PDF-1.4\n% first version\n", "v.pdf")
    yield rt, make, people, {"letter": letter.id, "meeting": meeting.id, "doc": doc.id}
    make.close()
    rt.engine.dispose()


def _state(rt):
    with rt.factory() as s:
        return (s.scalar(select(func.count()).select_from(Document)),
                s.scalar(select(func.count()).select_from(DocumentVersion)),
                s.scalar(select(func.count()).select_from(Blob)), len(list(rt.store.list())))


def _pdf(size: int) -> bytes:
    head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    return head + b"0" * (size - len(head))


ENDPOINTS = [  # (name, url template, limit in MiB)
    ("api upload", "/api/v1/documents", UPLOAD_MB),
    ("api new version", "/api/v1/documents/{doc}/versions", UPLOAD_MB),
    ("api archive import", "/api/v1/archive/imports", UPLOAD_MB),
    ("ui archive import", "/archive/import", UPLOAD_MB),
    ("api letter attachment", "/api/v1/letters/{letter}/attachments", UPLOAD_MB),
    ("api meeting material", "/api/v1/meetings/{meeting}/materials", UPLOAD_MB),
    ("api verify-pdf", "/api/v1/verify-pdf", VERIFY_MB),
    ("ui upload", "/documents/upload", UPLOAD_MB),
    ("ui letter attachment", "/letters/{letter}/attachments", UPLOAD_MB),
    ("ui meeting material", "/meetings/{meeting}/materials", UPLOAD_MB),
    ("ui verify", "/signatures/verify", VERIFY_MB),
]


def _client(make, people, name):
    user = people["archivist"] if "import" in name else people["drafter"]
    return _client_for(make, user, name)


def _client_for(make, drafter, name):
    if name.startswith("api"):
        client, headers = make.api(drafter)
        return client, headers, {}
    browser = make.browser(drafter)
    return browser.client, {}, {"csrf_token": browser.csrf}


@pytest.mark.parametrize("name, url, limit_mb", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_over_limit_file_streams_into_413_and_stores_nothing(world, name, url, limit_mb):
    rt, make, people, ids = world
    url = url.format(**ids)
    client, headers, fields = _client(make, people, name)
    before = _state(rt)
    # within the declared-length allowance (limit + form overhead), so the body is streamed and cut
    data = {**fields, "title": "超限文件", "file": (io.BytesIO(_pdf(limit_mb * MiB + 300 * 1024)), "big.pdf")}
    resp = client.post(url, data=data, headers=headers, content_type="multipart/form-data")
    assert resp.status_code == 413, (name, resp.status_code, resp.get_data(as_text=True)[:300])
    if name.startswith("api"):
        assert resp.get_json()["error"]["code"] == "too_large"
        assert f"{limit_mb} MB" in resp.get_json()["error"]["message"]
    assert _state(rt) == before


@pytest.mark.parametrize("name, url, limit_mb", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_over_limit_declared_length_is_refused_unread(world, name, url, limit_mb):
    rt, make, people, ids = world
    url = url.format(**ids)
    client, headers, _fields = _client(make, people, name)
    before = _state(rt)
    body = io.BytesIO(b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF")
    resp = client.post(url, input_stream=body, headers=headers, content_type="multipart/form-data; boundary=b",
                       environ_overrides={"CONTENT_LENGTH": str((limit_mb + 2) * MiB)})
    assert resp.status_code == 413, (name, resp.status_code, resp.get_data(as_text=True)[:300])
    assert _state(rt) == before


def test_within_limit_uploads_still_work(world):
    _rt, make, people, ids = world
    drafter, letter_id, meeting_id = people["drafter"], ids["letter"], ids["meeting"]
    client, headers = make.api(drafter)
    small = _pdf(200 * 1024)
    for url in ("/api/v1/documents", f"/api/v1/letters/{letter_id}/attachments",
                f"/api/v1/meetings/{meeting_id}/materials", f"/api/v1/documents/{ids['doc']}/versions"):
        resp = client.post(url, data={"title": "附件", "file": (io.BytesIO(small), "ok.pdf")}, headers=headers,
                           content_type="multipart/form-data")
        assert resp.status_code == 201, (url, resp.get_json())
    verify = client.post("/api/v1/verify-pdf", data={"file": (io.BytesIO(small), "ok.pdf")}, headers=headers,
                         content_type="multipart/form-data")
    assert verify.status_code in (200, 422), verify.get_json()  # not signed: a report or "not a PDF", never 413
    ui = make.browser(drafter)
    page = ui.post(f"/meetings/{meeting_id}/materials", content_type="multipart/form-data",
                   data={"title": "会议材料", "file": (io.BytesIO(small), "m.pdf")})
    assert page.status_code == 302


def test_fields_after_the_file_are_refused_for_materials(world):
    _rt, make, people, ids = world
    drafter, meeting_id = people["drafter"], ids["meeting"]
    client, headers = make.api(drafter)
    boundary = "zz"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.pdf\"\r\n\r\n").encode() \
        + _pdf(1000) + (f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n标题\r\n"
                        f"--{boundary}--\r\n").encode()
    resp = client.post(f"/api/v1/meetings/{meeting_id}/materials", data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")
    assert resp.status_code == 422 and "title" in resp.get_json()["error"]["message"]
