"""Meeting pages and /api/v1/meetings: scheduling with the deadline, materials, 我的工作, permissions."""
import io
from datetime import date, datetime

import pytest

from archive_service.clock import FixedClock


def at_china(d: date, hour: int = 10) -> datetime:
    return datetime(d.year, d.month, d.day, hour - 8)


MEETING = {"kind": "joint", "title": "食品经营许可审管衔接会议", "meeting_date": "2025-10-09",
           "topics": [{"title": "现场核查分工", "category": "inspection"}],
           "participants": [{"department": "SCJG"}, {"user": "zjj_liaison"}]}


@pytest.fixture
def clock(rt, county):
    rt.clock = FixedClock(at_china(date(2025, 9, 29)))  # Monday; Oct 9 needed materials by Sep 28
    return rt.clock


def test_api_refuses_a_late_schedule_and_accepts_an_urgent_one(rt, clients, clock):
    client, h = clients("drafter")
    resp = client.post("/api/v1/meetings", json=MEETING, headers=h)
    assert resp.status_code == 422
    err = resp.get_json()["error"]
    assert err["code"] == "deadline_violation" and "2025年9月28日" in err["message"]
    assert err["details"]["earliest_meeting"] == "2025-10-10"
    resp = client.post("/api/v1/meetings", json={**MEETING, "urgent_reason": "县政府督办事项"}, headers=h)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert (body["materials_deadline"], body["urgent_reason"]) == ("2025-09-28", "县政府督办事项")
    d = client.get("/api/v1/meetings/deadline?date=2025-10-13", headers=h).get_json()
    assert d["latest_day"] == "2025-10-09" and not d["missed"]
    bad = client.post("/api/v1/meetings", json={**MEETING, "meeting_date": "2025-10-32"}, headers=h)
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.get_json()["error"]["message"]
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/meetings", "/api/v1/meetings/{id}/minutes"} <= set(paths)


def test_schedule_page_shows_the_latest_day_and_refuses_then_accepts(make, county, clock):
    b = make.browser(county["drafter"])
    page = b.get("/meetings/new?meeting_date=2025-10-09").get_data(as_text=True)
    assert "2025-09-28" in page and "紧急事由" in page
    form = {"kind": "joint", "title": "审管衔接会议", "meeting_date": "2025-10-09", "convener": "SPJ",
            "topic_title": ["现场核查分工", ""], "topic_category": ["inspection", "legality"],
            "departments": ["SCJG"], "observers": ["SFJ"]}
    resp = b.post("/meetings/new", data=form)
    assert resp.status_code == 422 and "2025年9月28日" in resp.get_data(as_text=True)
    resp = b.post("/meetings/new", data={**form, "urgent_reason": "节后立即会商"})
    assert resp.status_code == 302
    detail = b.get(resp.headers["Location"]).get_data(as_text=True)
    assert "节后立即会商" in detail and "县司法局" in detail and "列席" in detail
    assert b.client.post("/meetings/new", data={**form, "urgent_reason": "x"}).status_code == 400  # no CSRF


def test_materials_reach_participants_home_pages_and_outsiders_get_404(rt, clients, make, county, clock):
    client, h = clients("drafter")
    clock.at = at_china(date(2025, 9, 22))
    mid = client.post("/api/v1/meetings", json=MEETING, headers=h).get_json()["id"]
    up = client.post(f"/api/v1/meetings/{mid}/materials", headers=h,
                     data={"file": (io.BytesIO("分工方案".encode()), "分工方案.txt")})
    assert up.status_code == 201, up.get_json()
    doc_id = up.get_json()["document_id"]
    sent = client.post(f"/api/v1/meetings/{mid}/send", headers=h).get_json()
    assert sent["late"] is False and sent["materials"] == 1

    regulator = make.browser(county["scjg_staff"])
    home = regulator.get("/").get_data(as_text=True)
    assert "会议材料已送达" in home and "食品经营许可审管衔接会议" in home
    assert regulator.get(f"/documents/{doc_id}").status_code == 200
    detail = regulator.get(f"/meetings/{mid}").get_data(as_text=True)
    assert "分工方案" in detail and "2025-09-22" in detail
    assert "会议材料已送达" not in regulator.get("/").get_data(as_text=True)  # read once the meeting is opened

    outsider = make.browser(county["wbb_staff"])
    assert outsider.get(f"/meetings/{mid}").status_code == 404
    assert outsider.get(f"/documents/{doc_id}").status_code == 404
    assert "食品经营许可" not in outsider.get("/meetings").get_data(as_text=True)
    oc, oh = clients("wbb_staff")
    assert oc.get(f"/api/v1/meetings/{mid}", headers=oh).status_code == 404
    assert oc.get(f"/api/v1/documents/{doc_id}", headers=oh).status_code == 404
    # a participant may look but not manage
    rc, rh = clients("scjg_staff")
    assert rc.post(f"/api/v1/meetings/{mid}/send", headers=rh).status_code == 403


def test_minutes_due_and_overdue_on_the_home_page(rt, clients, make, county, clock):
    client, h = clients("drafter")
    clock.at = at_china(date(2025, 9, 22))
    meeting = client.post("/api/v1/meetings", json=MEETING, headers=h).get_json()
    clock.at = at_china(date(2025, 10, 9), 16)
    entries = [{"participant": p["id"], "attendance": "present", "name": "王五"} for p in meeting["participants"]]
    assert client.post(f"/api/v1/meetings/{meeting['id']}/attendance", json={"entries": entries},
                       headers=h).status_code == 200
    b = make.browser(county["drafter"])
    page = b.get(f"/meetings/{meeting['id']}/minutes").get_data(as_text=True)
    assert "县市场监督管理局 王五" in page
    resp = b.post(f"/meetings/{meeting['id']}/minutes", data={"title": "审管衔接会议纪要",
                                                              "decisions": "由市场监管局牵头核查\n许可信息当日推送"})
    assert resp.status_code == 302
    m = client.get(f"/api/v1/meetings/{meeting['id']}/minutes", headers=h).get_json()
    assert m["issue_due"] is None and m["state"] == "drafting"
    # sign off through the minutes letter's chain
    from archive_service.models import User
    from correspondence.letters import LetterService
    from correspondence.models import Letter

    with rt.transaction() as s:
        letters = LetterService(s, rt.documents(s), rt.clock)
        for who, action, opinion in (("drafter", "submit", ""), ("reviewer", "pass", ""), ("signer", "sign", "同意")):
            if action == "sign":
                clock.at = at_china(date(2025, 10, 10))
            user = s.query(User).filter_by(username=who).one()
            letter = s.get(Letter, m["letter_id"])
            letters.act(user, letter, action, letter.content_sha256, opinion)
    m = client.get(f"/api/v1/meetings/{meeting['id']}/minutes", headers=h).get_json()
    assert (m["issue_due"], m["overdue"]) == ("2025-10-14", False)
    home = b.get("/").get_data(as_text=True)
    assert "待印发纪要" in home and "2025-10-14" in home and "已逾期" not in home
    clock.at = at_china(date(2025, 10, 15))
    home = b.get("/").get_data(as_text=True)
    assert "待印发纪要" in home and "已逾期" in home
    assert client.get(f"/api/v1/meetings/{meeting['id']}/minutes", headers=h).get_json()["overdue"] is True


def test_minutes_preview_is_rendered_in_the_minutes_format(rt, clients, make, county, clock):
    pytest.importorskip("correspondence.render_pdf")
    import pdfplumber

    client, h = clients("drafter")
    clock.at = at_china(date(2025, 9, 22))
    meeting = client.post("/api/v1/meetings", json={**MEETING, "kind": "liaison"}, headers=h).get_json()
    clock.at = at_china(date(2025, 10, 9), 16)
    entries = [{"participant": p["id"], "attendance": "present", "name": "王五"} for p in meeting["participants"]]
    client.post(f"/api/v1/meetings/{meeting['id']}/attendance", json={"entries": entries}, headers=h)
    b = make.browser(county["drafter"])
    resp = b.get(f"/meetings/{meeting['id']}/minutes/preview.pdf?decisions=由市场监管局牵头核查")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    with pdfplumber.open(io.BytesIO(resp.data)) as pdf:
        text = "".join(p.extract_text() or "" for p in pdf.pages).replace(" ", "").replace("\n", "")
    assert "联络员会议纪要" in text and "出席" in text and "一、由市场监管局牵头核查" in text
    assert "县市场监督管理局：" not in text  # no 主送机关 line in the minutes format
