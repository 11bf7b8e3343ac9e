"""HTML forms are validated by the same pydantic models as the API (limits in one place): bad input is a
4xx page naming the field in Chinese, and changes nothing."""
import io
from datetime import date, datetime

from sqlalchemy import func, select

from archive_service.clock import FixedClock
from archive_service.models import AuditEvent, Document

MEETING = {"kind": "joint", "title": "食品经营许可审管衔接会议", "meeting_date": "2025-10-09",
           "topics": [{"title": "现场核查分工", "category": "inspection"}],
           "participants": [{"department": "SCJG"}, {"user": "zjj_liaison"}]}


def _counts(rt):
    with rt.factory() as s:
        return (s.scalar(select(func.count()).select_from(Document)),
                s.scalar(select(func.count()).select_from(AuditEvent)))


def test_login_form_limits_come_from_the_token_model(rt, make, county):
    b = make.browser()
    b.login("drafter", "wrong")  # fetches the CSRF token (one refused login)
    before = _counts(rt)
    resp = b.post("/login", data={"username": "x" * 65, "password": "p"})
    assert resp.status_code == 422
    assert "用户名：过长（不超过 64 个字符）" in resp.get_data(as_text=True)
    resp = b.post("/login", data={"username": "drafter"})
    assert resp.status_code == 422 and "密码：缺少必填字段" in resp.get_data(as_text=True)
    assert _counts(rt) == before  # no refused-login event, no counter


def test_upload_page_refuses_an_overlong_title_before_storing(rt, make, county):
    b = make.browser(county["drafter"])
    before = _counts(rt)
    resp = b.post("/documents/upload", content_type="multipart/form-data",
                  data={"title": "题" * 301, "file": (io.BytesIO("正文".encode()), "正文.txt")})
    assert resp.status_code == 422
    assert "标题：过长（不超过 300 个字符）" in resp.get_data(as_text=True)
    assert _counts(rt) == before


def _held_meeting(rt, clients):
    rt.clock = FixedClock(datetime(2025, 9, 22, 2))
    client, h = clients("drafter")
    meeting = client.post("/api/v1/meetings", json=MEETING, headers=h).get_json()
    rt.clock.at = datetime(2025, 10, 9, 8)
    return client, h, meeting


def test_attendance_and_cancel_forms_refuse_bad_values_and_change_nothing(rt, make, county, clients):
    client, h, meeting = _held_meeting(rt, clients)
    mid, parts = meeting["id"], meeting["participants"]
    b = make.browser(county["drafter"])
    form = {f"att_{p['id']}": "present" for p in parts}
    resp = b.post(f"/meetings/{mid}/attendance", data={**form, f"att_{parts[0]['id']}": "maybe"})
    assert resp.status_code == 422 and "出席情况：取值不在允许范围内" in resp.get_data(as_text=True)
    resp = b.post(f"/meetings/{mid}/attendance", data={**form, f"name_{parts[1]['id']}": "名" * 65})
    assert resp.status_code == 422 and "姓名：过长（不超过 64 个字符）" in resp.get_data(as_text=True)
    after = client.get(f"/api/v1/meetings/{mid}", headers=h).get_json()
    assert [p["attendance"] for p in after["participants"]] == [p["attendance"] for p in parts]

    for data, message in (({}, "原因：缺少必填字段"), ({"reason": "因" * 501}, "原因：过长（不超过 500 个字符）")):
        resp = b.post(f"/meetings/{mid}/cancel", data=data)
        assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    assert client.get(f"/api/v1/meetings/{mid}", headers=h).get_json()["status"] == "scheduled"

    assert b.post(f"/meetings/{mid}/attendance", data=form).status_code == 302  # the valid form still works
    resp = b.post(f"/meetings/{mid}/minutes", data={"decisions": "议" * 2001})
    assert resp.status_code == 422 and "议定事项：过长（不超过 2000 个字符）" in resp.get_data(as_text=True)
    assert client.get(f"/api/v1/meetings/{mid}/minutes", headers=h).status_code == 404
    assert date.fromisoformat(after["meeting_date"]) == date(2025, 10, 9)
