"""督办 (issue 13): the counters the services keep equal a recount from the rows, after every kind of
change (push, claim by hand on time and late, automatic claim, information request and answer,
revocation request pushed late and handled through the sign-off chain); letter replies and minutes
issuance are counted per department and month with their on-time rates."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from correspondence.exchange import counts
from correspondence.exchange.feature import FEATURE
from test_exchange import at, ex, push_body  # noqa: F401  (ex is a fixture)


def test_counters_equal_a_recount_after_every_kind_of_change(ex, make):  # noqa: F811
    rt, county, clients, matters = ex
    client, drafter = clients("drafter")
    mid = matters["SC-001"]["id"]
    ids = []
    for i in range(4):
        ids += [p["id"] for p in client.post("/api/v1/pushes", headers=drafter, json=push_body(
            mid, applicant=f"申请人{i}", regulators=["SCJG", "ZJJ"])).get_json()["items"]]
    _, liaison = clients("scjg_liaison")
    assert client.post(f"/api/v1/pushes/{ids[0]}/claim", headers=liaison, json={}).status_code == 200
    _, staff = clients("scjg_staff")
    info = client.post(f"/api/v1/pushes/{ids[0]}/info-requests", headers=staff, json={"question": "?"}).get_json()
    assert client.post(f"/api/v1/info-requests/{info['id']}/answer", headers=drafter,
                       json={"answer": "见附件。"}).status_code == 200
    client.post(f"/api/v1/pushes/{ids[2]}/info-requests", headers=staff, json={"question": "?"})  # claimed below
    rt.clock = at("2025-10-15", 8)  # after the due day (2025-10-14): a late claim by hand, then the worker
    assert client.post(f"/api/v1/pushes/{ids[2]}/claim", headers=liaison, json={}).status_code == 200
    assert FEATURE.jobs[0](rt)() == 6
    drafter, staff, reviewer, signer = (make.token(county[u]) for u in ("drafter", "scjg_staff", "reviewer", "signer"))
    late = client.post("/api/v1/revocations", headers=staff, json={
        "matter_id": mid, "licensee": "某公司", "discovered_on": "2025-10-09", "action": "revoke", "facts": "x"})
    assert late.get_json()["late"] is True
    row = client.post("/api/v1/revocations", headers=staff, json={
        "matter_id": mid, "licensee": "某公司二", "discovered_on": "2025-10-15", "action": "cancel",
        "facts": "y"}).get_json()
    assert row["late"] is False
    actions = f"/api/v1/revocations/{row['id']}/actions"
    client.post(actions, headers=drafter, json={"action": "verify", "note": "属实"})
    sha = client.post(actions, headers=drafter, json={"action": "record", "outcome": "done",
                                                      "result": "已注销。"}).get_json()["version_sha256"]
    for who, act in ((drafter, "submit"), (reviewer, "pass"), (signer, "sign")):
        resp = client.post(actions, headers=who, json={"action": act, "version_sha256": sha, "note": "同意"})
        assert resp.status_code == 200, (act, resp.get_json())
    assert resp.get_json()["state"] == "done"

    with rt.transaction() as s:
        kept, counted = counts.read(s, 2025), counts.recount(s, 2025)
        assert kept == counted
        scjg = county["scjg_liaison"].department_id
        assert {m: n for (k, mo, d, m), n in kept.items() if k == "push" and d == scjg} == {
            "total": 4, "on_time": 1, "late": 1, "auto": 2}
        assert {m: n for (k, mo, d, m), n in kept.items() if k == "revocation"} == {
            "total": 2, "late": 1, "open": 1, "handled": 1}
        assert {m: n for (k, mo, d, m), n in kept.items() if k == "info"} == {"total": 2, "answered": 1}
        assert counts.rebuild(s) == len(counted)  # the repair path writes the same figures
        assert counts.read(s, 2025) == counted
    got = client.get("/api/v1/dashboard?year=2025", headers=signer).get_json()
    assert got["totals"]["pushes"]["auto"] == 6 and got["rates"]["pushes"] == "12.5%"  # 1 claimed on time of 8
    assert got["rates"]["revocations"] == "50.0%"
    # discovered 10-09, due 10-11 (the make-up Saturday), pushed 10-15: late by 3 working days
    assert [(o["kind"], o["title"], o["days"]) for o in got["overdue"]] == [
        ("撤销建议推送", "食品经营许可（某公司）", 3)]


def test_letter_replies_and_minutes_issuance_per_department_and_month(ex, make):  # noqa: F811
    """A reply issued at 23:00 China time on the due day is on time; the next morning it is late; an
    unreplied letter past its due day is overdue. Minutes issued within their 3 working days are on time."""
    from correspondence.meeting_models import MeetingMinutes
    from correspondence.models import LetterRecipient

    rt, county, _clients, _matters = ex
    letters = [make.letter(county["scjg_staff"], to=["县行政审批局"], title=f"关于商请协助的函{i}") for i in range(4)]
    meeting = make.meeting(county["drafter"], date(2025, 10, 20), participants=[{"department": "SCJG"}])
    bureau = county["signer"].department_id
    with rt.transaction() as s:
        rows = [s.scalar(select(LetterRecipient).where(LetterRecipient.letter_id == x.id)) for x in letters]
        for r, (state, replied) in zip(rows, [("replied", datetime(2025, 10, 20, 15)),  # 23:00 on 10-20
                                              ("replied", datetime(2025, 10, 20, 16)),  # 00:00 on 10-21
                                              ("assigned", None), ("closed", None)], strict=True):
            r.department_id, r.due_on, r.state, r.replied_at = bureau, date(2025, 10, 20), state, replied
        s.add_all([MeetingMinutes(meeting_id=meeting.id, title="纪要", decisions="[]", attendance="{}",
                                  issue_due=date(2025, 10, 23), issued_at=datetime(2025, 10, 23, 9),
                                  created_by=county["drafter"].id, created_at=datetime(2025, 10, 20),
                                  updated_at=datetime(2025, 10, 20))])
    rt.clock = at("2025-10-27")
    signer = make.token(county["signer"])
    got = make.client().get("/api/v1/dashboard?year=2025", headers=signer).get_json()
    [letter_row] = got["letters"]
    assert letter_row == {"department": "县行政审批局", "month": "2025-10", "total": 4, "on_time": 1, "late": 1,
                          "closed": 1, "open": 1, "overdue": 1}
    assert got["rates"]["letters"] == "50.0%"
    assert got["minutes"] == [{"department": "县行政审批局", "month": "2025-10", "total": 1,
                               "on_time": 1, "late": 0, "pending": 0, "overdue": 0}]
    assert got["rates"]["minutes"] == "100.0%"
    # which items are overdue: the unreplied letter, 5 working days past 2025-10-20 on 2025-10-27
    assert got["overdue"] == [{"kind": "来函办理", "department": "县行政审批局", "title": "关于商请协助的函2",
                               "due_on": "2025-10-20", "days": 5}]
    page = make.browser(county["signer"]).get("/exchange/dashboard?year=2025").get_data(as_text=True)
    assert "来函办理与复函" in page and "会议纪要印发" in page and "按期复函率" in page
    assert "逾期事项" in page and "关于商请协助的函2" in page
    csv_text = make.browser(county["signer"]).get("/exchange/dashboard.csv?year=2025").get_data(as_text=True)
    assert "来函办理与复函,县行政审批局,2025-10,4,1,1,1,1,1" in csv_text
