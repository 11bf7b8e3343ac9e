"""The /api/v1 contract: tokens, documents, downloads, errors as JSON."""
import hashlib
import io
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import func, select

from archive_service.clock import FixedClock
from archive_service.models import Blob, Document
from factories import PASSWORD

PDF = b"%PDF-1.4\n" + "审批档案测试内容".encode() * 200 + b"\n%%EOF\n"


def _upload(client, headers, data=PDF, name="审批档案-测试.pdf", title="审批档案测试"):
    return client.post("/api/v1/documents", headers=headers,
                       data={"title": title, "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _counts(rt):
    with rt.factory() as s:
        return (s.scalar(select(func.count()).select_from(Document)),
                s.scalar(select(func.count()).select_from(Blob)), len(list(rt.store.list())))


def test_upload_list_get_download(make):
    drafter = make.user()
    make.document(drafter)
    client, h = make.api(drafter)
    resp = _upload(client, h)
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["title"] == "审批档案测试" and body["version"] == 1 and body["size"] == len(PDF)
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["sm3"] == hashlib.new("sm3", PDF).hexdigest()
    assert body["media_type"] == "application/pdf"
    listed = client.get("/api/v1/documents?page=1&size=2", headers=h).get_json()
    assert listed["items"][0]["id"] == body["id"] and listed["size"] == 2 and listed["total"] >= 2
    assert client.get(f"/api/v1/documents/{body['id']}", headers=h).get_json()["versions"][0]["number"] == 1
    content = client.get(f"/api/v1/documents/{body['id']}/content", headers=h)
    assert content.status_code == 200 and content.data == PDF
    assert f"filename*=UTF-8''{quote('审批档案-测试.pdf')}" in content.headers["Content-Disposition"]
    assert content.headers["Content-Type"] == "application/pdf"


def test_range_requests(make):
    client, h = make.api(make.user())
    doc_id = _upload(client, h).get_json()["id"]
    part = client.get(f"/api/v1/documents/{doc_id}/content", headers={**h, "Range": "bytes=5-14"})
    assert part.status_code == 206 and part.data == PDF[5:15]
    assert part.headers["Content-Range"] == f"bytes 5-14/{len(PDF)}"
    tail = client.get(f"/api/v1/documents/{doc_id}/content", headers={**h, "Range": "bytes=-7"})
    assert tail.data == PDF[-7:]
    bad = client.get(f"/api/v1/documents/{doc_id}/content", headers={**h, "Range": f"bytes={len(PDF)}-"})
    assert bad.status_code == 416


def test_other_department_gets_404(make):
    client, h = make.api(make.user())
    doc_id = _upload(client, h).get_json()["id"]
    other, h2 = make.api(make.user())  # a user of another department
    for url in (f"/api/v1/documents/{doc_id}", f"/api/v1/documents/{doc_id}/content", "/api/v1/documents/999999"):
        resp = other.get(url, headers=h2)
        assert resp.status_code == 404
        assert resp.get_json()["error"]["code"] == "not_found"


def test_errors_are_json_and_change_nothing(rt, make):
    client, h = make.api(make.user())
    before = _counts(rt)
    too_big = _upload(client, h, data=b"x" * (rt.settings.max_upload_bytes + 10))
    assert too_big.status_code == 413 and too_big.get_json()["error"]["code"] == "too_large"
    empty = _upload(client, h, data=b"")
    assert empty.status_code == 422 and "空" in empty.get_json()["error"]["message"]
    no_file = client.post("/api/v1/documents", headers=h, data={"title": "x"}, content_type="multipart/form-data")
    assert no_file.status_code == 422
    not_multipart = client.post("/api/v1/documents", headers=h, data="hello", content_type="text/plain")
    assert not_multipart.status_code == 400
    assert _counts(rt) == before


def test_auth_errors(make):
    make.user(username="drafter")
    client = make.client()
    assert client.get("/api/v1/documents").status_code == 401
    assert client.get("/api/v1/documents", headers={"Authorization": "Bearer nope"}).status_code == 401
    bad = client.post("/api/v1/auth/token", json={"username": "drafter", "password": "wrong-password"})
    assert bad.status_code == 401 and bad.get_json()["error"]["message"] == "用户名或密码错误"
    unknown = client.post("/api/v1/auth/token", json={"username": "nobody", "password": "wrong-password"})
    assert unknown.get_json()["error"]["message"] == bad.get_json()["error"]["message"]
    malformed = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    assert malformed.status_code == 400 and malformed.get_json()["error"]["code"] == "bad_request"


def test_token_revocation(make):
    make.user(username="drafter")
    client = make.client()
    token = client.post("/api/v1/auth/token", json={"username": "drafter", "password": PASSWORD})
    assert token.status_code == 201, token.get_json()
    h = {"Authorization": f"Bearer {token.get_json()['token']}"}
    assert client.get("/api/v1/me", headers=h).status_code == 200
    assert client.get("/api/v1/search?q=审批", headers=h).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=h).status_code == 204
    assert client.get("/api/v1/me", headers=h).status_code == 401
    assert client.get("/api/v1/search?q=审批", headers=h).status_code == 401


def test_a_tokens_last_use_is_recorded_once_an_hour_and_shown(make, rt):
    rt.clock = FixedClock(datetime(2026, 12, 1, 2, 0))  # 10:00 in China
    user = make.user(username="drafter")
    client, headers = make.api(user)
    browser = make.browser(user)
    assert "未使用" in browser.get("/account/tokens").get_data(as_text=True)

    assert client.get("/api/v1/me", headers=headers).status_code == 200
    rt.clock.advance(minutes=30)
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # within the hour: no new write
    page = browser.get("/account/tokens").get_data(as_text=True)
    assert "2026-12-01 10:00" in page and "未使用" not in page

    rt.clock.advance(minutes=31)
    assert client.get("/api/v1/search?q=审批", headers=headers).status_code == 200  # the search API's path too
    assert "2026-12-01 11:01" in browser.get("/account/tokens").get_data(as_text=True)


def test_login_rate_limit(make):
    make.user(username="reviewer")
    client = make.client()
    for _ in range(5):
        resp = client.post("/api/v1/auth/token", json={"username": "reviewer", "password": "bad-guess-1"})
        assert resp.status_code == 401
    limited = client.post("/api/v1/auth/token", json={"username": "reviewer", "password": PASSWORD})
    assert limited.status_code == 429


def test_paging_validation(make):
    client, h = make.api(make.user())
    assert client.get("/api/v1/documents?page=0", headers=h).status_code == 400
    assert client.get("/api/v1/documents?size=abc", headers=h).status_code == 400


def test_openapi_documents_the_endpoints(make):
    spec = make.client().get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/documents", "/api/v1/documents/{id}", "/api/v1/documents/{id}/content",
                 "/api/v1/auth/token", "/healthz", "/readyz"):
        assert path in spec["paths"]
    assert spec["openapi"].startswith("3.")


def test_health_and_readiness(make):
    client = make.client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz").get_json()
    assert ready["checks"] == {"database": "ok", "storage": "ok"}


def test_liaison_gaps_api(make):
    bureau = make.department("bureau", name="县行政审批局")
    section = make.department("section", parent=bureau)
    filed, unfiled = make.department("regulator"), make.department("regulator", name="县生态环境局")
    make.link(section, filed)
    make.liaison(make.user(section, "liaison"), filed)          # the section's liaison with the regulator
    make.liaison(make.user(filed, "liaison"), bureau)           # one regulator's liaison with the bureau
    make.user(unfiled, "liaison")                               # the other's is not yet filed
    client, h = make.api(make.user(bureau, "admin"))
    gaps = client.get("/api/v1/liaisons/gaps", headers=h).get_json()
    assert gaps["total"] == 1
    assert gaps["gaps"][0]["department"] == "县生态环境局" and gaps["gaps"][0]["filed_with"] == "县行政审批局"


def test_storage_outage_during_upload_is_503_and_leaves_no_row(rt, make):
    """The object store is unreachable (an S3 endpoint on a closed port): 503, nothing committed."""
    import socket

    from archive_service.runtime import Runtime
    from archive_service.storage import open_store
    from archive_service.web import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    broken = Runtime(rt.settings, rt.engine, rt.factory,
                     open_store(f"s3://testing:testing@127.0.0.1:{dead_port}/archive?secure=false"), rt.clock)
    make.user(username="drafter")
    client = create_app(broken).test_client()
    token = client.post("/api/v1/auth/token", json={"username": "drafter", "password": PASSWORD}).get_json()["token"]
    before = _counts(rt)
    resp = _upload(client, {"Authorization": f"Bearer {token}"})
    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == "storage_unavailable"
    assert _counts(rt) == before
    assert client.get("/readyz").status_code == 503
