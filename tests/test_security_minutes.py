"""Issue 7 finding 8: minutes are drafted only from their meeting; the letters API cannot create one."""
from datetime import date, timedelta

from sqlalchemy import func, select

from correspondence.models import Letter
from letters_support import LETTER, draft, post

MINUTES = {"kind": "minutes", "title": "联席会议纪要", "distribution": ["县市场监督管理局"],
           "body": ["一、会议议定事项"], "attendance": {"出席": ["县行政审批局 李明"], "请假": [], "列席": []}}


def _minutes_count(rt) -> int:
    with rt.factory() as s:
        return s.scalar(select(func.count()).select_from(Letter).where(Letter.kind == "minutes"))


def test_letters_api_refuses_minutes_with_or_without_meeting(clients, rt, make, county):
    when = date.today() + timedelta(days=30)
    meeting_id = make.meeting(county["drafter"], when, participants=[{"department": "SCJG"}]).id
    before = _minutes_count(rt)
    for who in ("drafter", "signer", "admin", "auditor", "scjg_staff"):
        for body in (MINUTES, {**MINUTES, "meeting_id": meeting_id}):
            resp = post(clients, who, "/api/v1/letters", **body)
            assert resp.status_code in {403, 422}, (who, body, resp.get_json())
            assert resp.get_json()["error"]["message"]
    assert _minutes_count(rt) == before


def test_a_letter_cannot_be_rebound_to_a_meeting(clients, rt):
    letter = draft(clients)
    client, headers = clients("drafter")
    resp = client.patch(f"/api/v1/letters/{letter['id']}", headers=headers,
                        json={"meeting_id": 1, "title": "关于商请协助研究有关问题的函"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["meeting_id"] is None and resp.get_json()["kind"] == "letter"
    created = post(clients, "drafter", "/api/v1/letters", **{**LETTER, "meeting_id": 1}).get_json()
    assert created["meeting_id"] is None
