"""Issue 7 finding 12: inputs that gave 500s answer 4xx in the API's error shape and change nothing.

Each case is one the attack run found (SQLite OverflowError, PostgreSQL "integer out of range" or
NUL refusal, wrong JSON types reaching the services). Both database legs run this file.
"""
from __future__ import annotations

from sqlalchemy import func, select

from archive_service.models import AuditEvent, Document
from correspondence.meeting_models import Meeting
from correspondence.models import Letter
from letters_support import LETTER

MEETING = {"kind": "joint", "title": "审管衔接会议", "meeting_date": "2031-03-20",
           "topics": [{"title": "现场核查分工", "category": "inspection"}],
           "participants": [{"department": "SCJG"}]}


def _counts(rt) -> tuple:
    with rt.factory() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Letter, Meeting, Document, AuditEvent))


def _error(resp, status: int) -> dict:
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:300])
    err = resp.get_json()["error"]
    assert err["code"] and err["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err["message"]), err  # a Chinese message
    return err


IDS = [
    "/api/v1/documents/99999999999999999999", "/api/v1/documents/9223372036854775808",
    "/api/v1/documents/2147483648", "/api/v1/documents/2147483648/content", "/api/v1/letters/2147483648",
    "/api/v1/meetings/18446744073709551616", "/api/v1/meetings/2147483648/minutes",
    "/api/v1/documents/2147483648/signature",
]


def test_ids_beyond_32_bits_are_404(clients):
    client, h = clients("drafter")
    for url in IDS:
        _error(client.get(url, headers=h), 404)


def test_pages_with_ids_beyond_32_bits_are_404(make, county):
    b = make.browser(county["drafter"])
    for url in ("/documents/99999999999999999999", "/letters/2147483648", "/meetings/9223372036854775808"):
        assert b.get(url).status_code == 404


PAGING = [
    "/api/v1/documents?page=99999999999999999999", "/api/v1/documents?page=1000001", "/api/v1/documents?size=101",
    "/api/v1/documents?page=0", "/api/v1/documents?page=abc", "/api/v1/audit?page=99999999999999999999",
    "/api/v1/search?q=审批&page=99999999999999999999", "/api/v1/documents/1/content?version=99999999999999999999",
    "/api/v1/documents/1/signature?version=-1"]


def test_huge_or_malformed_paging_is_400(clients):
    for url in PAGING:
        client, h = clients("auditor" if "/audit" in url else "drafter")
        err = _error(client.get(url, headers=h), 400)
        assert err["details"]["field"] in {"page", "size", "version"}, url


def test_deadline_for_a_date_outside_the_calendar_is_400(clients):
    client, h = clients("drafter")
    for day in ("0001-01-01", "9999-12-31", "2025-13-01", ""):
        err = _error(client.get(f"/api/v1/meetings/deadline?date={day}", headers=h), 400)
        assert err["details"]["field"] == "date"
    assert client.get("/api/v1/meetings/deadline?date=2025-10-13", headers=h).status_code == 200


LETTER_CASES = [
    ({"kind": {}}, "kind"), ({"kind": "memo"}, "kind"), ({"reply_to_id": "abc"}, "reply_to_id"),
    ({"reply_to_id": 99999999999999999999}, "reply_to_id"), ({"attendance": {"出席": 5}}, "attendance.出席"),
    ({"attendance": {"旁听": ["x"]}}, "attendance.旁听"), ({"note": 5}, "note"), ({"title": ["x"]}, "title"),
    ({"title": "长" * 301}, "title"), ({"to": "县市场监督管理局"}, "to"), ({"to": [None]}, "to.0"),
    ({"body": [5]}, "body.0"), ({"meeting_id": "abc"}, "meeting_id"), ({"meeting_id": 2**40}, "meeting_id"),
    ({"urgency": "十万火急"}, "urgency"), ({"upward": {}}, "upward"), ({"colour": "red"}, "colour"),
    ({"classification": "秘密"}, "classification"),
]


def test_wrong_types_in_a_letter_are_422_naming_the_field(clients, rt):
    client, h = clients("drafter")
    before = _counts(rt)
    for change, field in LETTER_CASES:
        err = _error(client.post("/api/v1/letters", json={**LETTER, **change}, headers=h), 422)
        assert err["details"]["field"] == field and field.split(".")[0] in err["message"], (change, err)
    assert _counts(rt) == before


def test_wrong_types_in_a_letter_update_change_nothing(clients, rt):
    client, h = clients("drafter")
    letter = client.post("/api/v1/letters", json=LETTER, headers=h).get_json()
    before = _counts(rt)
    for change in ({"title": 5}, {"body": "一段"}, {"cc": [{}]}, {"version_sha256": ["x"]}):
        _error(client.patch(f"/api/v1/letters/{letter['id']}", json=change, headers=h), 422)
    assert _counts(rt) == before
    assert client.get(f"/api/v1/letters/{letter['id']}", headers=h).get_json()["title"] == LETTER["title"]


MEETING_CASES = [
    ({"topics": [5]}, "topics.0"), ({"participants": [5]}, "participants.0"),
    ({"convener": [None, None]}, "convener"), ({"chair": {}}, "chair"), ({"kind": {}}, "kind"),
    ({"meeting_date": 20310320}, "meeting_date"), ({"meeting_date": "0001-01-01"}, "meeting_date"),
    ({"topics": [{"title": "x", "category": "gossip"}]}, "topics.0.category"),
    ({"participants": [{"department": "SCJG", "capacity": "boss"}]}, "participants.0.capacity"),
    ({"industry_supervision": "maybe"}, "industry_supervision"), ({"title": "会" * 201}, "title"),
]


def test_wrong_types_in_a_meeting_are_422_naming_the_field(clients, rt):
    client, h = clients("drafter")
    before = _counts(rt)
    for change, field in MEETING_CASES:
        err = _error(client.post("/api/v1/meetings", json={**MEETING, **change}, headers=h), 422)
        assert err["details"]["field"] == field, (change, err)
    assert _counts(rt) == before


def test_attendance_minutes_and_inbox_bodies_are_checked(clients, rt):
    client, h = clients("drafter")
    before = _counts(rt)
    for body, field in [({"entries": {"出席": 5}}, "entries"), ({"entries": [{"participant": "abc",
                                                                             "attendance": "present"}]},
                                                               "entries.0.participant"),
                        ({"entries": [{"participant": 1, "attendance": 5}]}, "entries.0.attendance")]:
        err = _error(client.post("/api/v1/meetings/1/attendance", json=body, headers=h), 422)
        assert err["details"]["field"] == field
    assert _error(client.post("/api/v1/meetings/1/minutes", json={"decisions": "一项"}, headers=h), 422)
    for body in ({"action": "assign", "days": 10**12}, {"action": "assign", "due_on": "0001-01-01"},
                 {"action": "assign", "handler": [1]}, {"action": "fly"}, {}):
        _error(client.post("/api/v1/inbox/1/actions", json=body, headers=h), 422)
    assert _counts(rt) == before


def test_agency_code_with_a_list_id_is_422(clients, rt):
    client, h = clients("admin")
    before = _counts(rt)
    for body, field in [({"department_id": [1], "kind": "letter", "prefix": "石审批函"}, "department_id"),
                        ({"department_id": 2**31, "kind": "letter", "prefix": "石审批函"}, "department_id"),
                        ({"department_id": 1, "kind": {}, "prefix": "石审批函"}, "kind"),
                        ({"department_id": 1, "kind": "letter", "prefix": 5}, "prefix")]:
        assert _error(client.put("/api/v1/agency-codes", json=body, headers=h), 422)["details"]["field"] == field
    assert _counts(rt) == before


def test_lone_surrogates_nul_and_control_characters_are_400(clients, rt):
    client, h = clients("drafter")
    before = _counts(rt)
    for raw in ('{"title": "a\\ud800b"}', '{"title": "a\\u0000b"}', '{"title": "a\\u0008b"}',
                '{"to": ["\\udfff"]}', '{"\\u0000": 1}'):
        err = _error(client.post("/api/v1/letters", data=raw, content_type="application/json", headers=h), 400)
        assert "字符" in err["message"]
    invalid_utf8 = b'{"title": "\xed\xa0\x80"}'  # an encoded surrogate
    _error(client.post("/api/v1/letters", data=invalid_utf8, content_type="application/json", headers=h), 400)
    _error(client.post("/api/v1/auth/token", data='{"username": "\\ud800", "password": "x"}',
                       content_type="application/json"), 400)
    _error(client.get("/api/v1/search?q=%00", headers=h), 400)
    _error(client.get("/api/v1/documents?page=1%00", headers=h), 400)
    assert _counts(rt) == before
    ok = client.post("/api/v1/letters", json={**LETTER, "title": "含𝄞字符\t的函"}, headers=h)
    assert ok.status_code == 201  # a valid astral character and a tab are fine


def test_nul_in_forms_and_queries_is_400(make, county, rt):
    b = make.browser(county["admin"])
    before = _counts(rt)
    assert b.post("/login", data={"username": "ad\x00min", "password": "x"}).status_code == 400
    assert b.get("/audit/?action=%00").status_code == 400
    assert b.post("/admin/departments", data={"name": "科\x00室", "code": "KS", "kind": "other"}).status_code == 400
    assert _counts(rt) == before


def test_render_refuses_control_characters_instead_of_failing_in_the_renderer(clients):
    client, h = clients("drafter")
    spec = {"kind": "letter", "issuer": "县行政审批局", "title": "关于\b的函", "to": ["县市场监督管理局"],
            "body": ["正文"], "date": "2026-03-05"}
    for fmt in ("pdf", "docx"):
        err = _error(client.post(f"/api/v1/render?format={fmt}", json=spec, headers=h), 400)
        assert err["details"]["field"] == "title"


def test_admin_and_letter_forms_are_checked_by_models(make, county, rt, clients):
    admin, drafter = make.browser(county["admin"]), make.browser(county["drafter"])
    client, h = clients("drafter")
    before = _counts(rt)  # after the logins (they are audited)
    huge = "99999999999999999999"
    assert admin.get("/admin/calendar?year=99999").status_code == 400
    for url, form in [
        ("/admin/calendar", {"day": "0001-01-01", "is_workday": "1"}),
        ("/admin/departments", {"id": huge, "name": "科室", "code": "KS", "kind": "other"}),
        ("/admin/departments", {"name": "科室", "code": "KS", "kind": "weird"}),
        ("/admin/users", {"username": "u" * 65, "full_name": "x", "department": "SPJ", "roles": "drafter"}),
        ("/admin/users", {"username": "ok", "full_name": "x", "department": "SPJ", "roles": "pope"}),
        ("/admin/liaisons", {"action": "file", "user_id": huge, "filed_with": "SPJ"}),
        ("/admin/liaisons", {"action": "withdraw", "liaison_id": "abc"}),
        ("/admin/liaisons", {"action": "explode"}),
        (f"/admin/users/{county['drafter'].id}", {"action": "promote"}),
    ]:
        resp = admin.post(url, data=form)
        assert resp.status_code in (400, 422), (url, form, resp.status_code)
    page = admin.post("/letters/agency-codes", data={"department_id": huge, "kind": "letter", "prefix": "石审批函"})
    assert page.status_code == 200 and "department_id" in page.get_data(as_text=True)  # the page shows the error
    assert drafter.post("/letters/new", data={"title": "x", "to": huge, "body": "正文"}).status_code == 422
    err = _error(client.post("/api/v1/letters", json={**LETTER, "to": [huge]}, headers=h), 422)
    assert err["details"]["field"] == "to.0"
    assert _counts(rt) == before


def test_upload_fields_and_file_names_with_control_characters_are_400(clients, rt):
    import io

    client, h = clients("drafter")
    before = _counts(rt)
    for data in ({"title": "标题\x00", "file": (io.BytesIO(b"text\n"), "a.txt")},
                 {"title": "标题", "file": (io.BytesIO(b"text\n"), "a\x01.txt")}):
        err = _error(client.post("/api/v1/documents", headers=h, content_type="multipart/form-data", data=data), 400)
        assert "字符" in err["message"]
    assert _counts(rt) == before


def test_multipart_bodies_without_a_file_are_4xx(clients):
    client, h = clients("drafter")
    body = (b'--b\r\nContent-Disposition: form-data; name="\xc3\xa9"\r\n\r\n{"a": true}\r\n'
            b'--b\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--b--\r\n')
    for url in ("/api/v1/verify-pdf", "/api/v1/documents", "/api/v1/archive/imports"):
        resp = client.post(url, data=body, headers={**h, "Content-Type": "multipart/form-data; boundary=b"})
        assert 400 <= resp.status_code < 500, (url, resp.status_code)


def test_notice_upload_notifications_and_archive_lists_are_checked_by_models(make, county, rt):
    import io

    admin = make.browser(county["admin"])
    before = _counts(rt)
    csv = b"2027-01-01,\xe4\xbc\x91,\xe5\x85\x83\xe6\x97\xa6\n"  # 2027-01-01,休,元旦
    for fields in ({"year": "abc"}, {"year": "1999"}, {}, {"year": "2027", "title": "长" * 201}):
        resp = admin.client.post("/admin/calendar/notice", data={"csrf_token": admin.csrf, **fields,
                                                                 "file": (io.BytesIO(csv), "n.csv")})
        assert resp.status_code == 422, (fields, resp.status_code)
        assert any(word in resp.get_data(as_text=True) for word in ("年度", "标题")), fields
    assert "2027 年尚无国务院节假日安排" in admin.get("/admin/calendar?year=2027").get_data(as_text=True)
    for form in ({"what": "explode"}, {"what": "mailbox", "address": "a" * 250 + "@x.cn"}):
        page = admin.post("/exchange/notifications", data=form)
        text = page.get_data(as_text=True)
        assert page.status_code == 422 and ("操作" in text or "邮箱地址" in text), (form, page.status_code)
    for url in ("/archive?year=abc", "/archive?retention=forever", "/archive?fonds=TOOLONG",
                "/archive/file?year=abc", "/archive/file?source_type=" + "x" * 21):
        assert admin.get(url).status_code == 400, url
    assert _counts(rt) == before


def test_page_queries_are_checked_by_models(make, county, rt):
    from datetime import date

    meeting = make.meeting(county["drafter"], date(2031, 3, 20), participants=[{"department": "SCJG"}])
    admin, drafter = make.browser(county["admin"]), make.browser(county["drafter"])
    for b, url in ((admin, "/exchange/dashboard?year=abc"), (admin, "/exchange/dashboard.csv?year=1999"),
                   (drafter, "/lookups?after=abc"), (drafter, "/lookups?q=" + "档" * 201),
                   (drafter, f"/meetings/{meeting.id}/minutes/preview.pdf?title=" + "长" * 201)):
        resp = b.get(url)
        assert resp.status_code == 400, (url, resp.status_code)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in resp.get_data(as_text=True)), url
    assert admin.get("/exchange/dashboard?year=2031").status_code == 200
