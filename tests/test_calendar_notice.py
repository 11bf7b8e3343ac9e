"""Next year's calendar: estimated statutory holidays until the State Council notice is entered, the notice
imported from CSV/ICS winning, and deadlines over estimated days saying so (issue 12 part 10)."""
import io
from datetime import date, datetime

from archive_service.clock import FixedClock
from test_calendar import CSV_2027


def test_meeting_on_4_january_2027_gets_a_deadline_that_skips_new_year_marked_estimated(rt, make, county):
    rt.clock = FixedClock(datetime(2026, 12, 1, 2))          # 10:00 in China on 2026-12-01
    meeting = make.meeting(county["drafter"], date(2027, 1, 4), participants=[{"department": "SCJG"}])
    # Jan 3 (Sun), Jan 2 (Sat), Jan 1 (元旦, estimated) are skipped: Dec 31, 30, 29
    assert meeting.materials_deadline == date(2026, 12, 29)
    b = make.browser(county["drafter"])
    page = b.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "2026-12-29（估算）" in page
    assert "2026-12-29（估算）" in b.get("/meetings").get_data(as_text=True)
    # a meeting whose counting stays in 2026 is not marked
    plain = make.meeting(county["drafter"], date(2026, 12, 21), participants=[{"department": "SCJG"}])
    assert "（估算）" not in b.get(f"/meetings/{plain.id}").get_data(as_text=True)


def test_admin_sees_estimated_days_imports_the_notice_and_it_wins(rt, make, county):
    rt.clock = FixedClock(datetime(2026, 12, 1, 2))
    admin = make.user(None, "admin")
    b = make.browser(admin)
    page = b.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert "2027 年尚无国务院节假日安排" in page
    assert "2027-01-01</td><td>五</td><td>元旦（估算）" in page
    assert "2027-10-04</td><td>一</td><td>国庆节（补假）（估算）" in page
    # a bad file changes nothing
    bad = b.client.post("/admin/calendar/notice", data={"csrf_token": b.csrf, "year": "2027",
                                                        "file": (io.BytesIO(b"2027-01-01,maybe\n"), "n.csv")})
    assert bad.status_code == 422 and "休" in bad.get_data(as_text=True)
    assert "元旦（估算）" in b.get("/admin/calendar?year=2027").get_data(as_text=True)
    ok = b.client.post("/admin/calendar/notice", data={
        "csrf_token": b.csrf, "year": "2027", "title": "国务院办公厅关于2027年部分节假日安排的通知",
        "file": (io.BytesIO(CSV_2027.encode()), "2027.csv")})
    assert ok.status_code == 302, ok.get_data(as_text=True)
    page = b.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert "2027 年尚无国务院节假日安排" not in page and "元旦（估算）" not in page
    assert "国务院办公厅关于2027年部分节假日安排的通知" in page
    # the notice wins: Feb 11 is off (not estimated), Feb 20 (Sat) is a working day
    meeting = make.meeting(county["drafter"], date(2027, 2, 22), participants=[{"department": "SCJG"}])
    assert meeting.materials_deadline == date(2027, 2, 18)   # Feb 20 (班), Feb 19, Feb 18
    assert "（估算）" not in make.browser(county["drafter"]).get(f"/meetings/{meeting.id}").get_data(as_text=True)
    # withdrawing the confirmation brings the estimate back for days the notice did not list
    assert b.post("/admin/calendar", data={"action": "withdraw_notice", "year": "2027"}).status_code == 302
    assert "2027 年尚无国务院节假日安排" in b.get("/admin/calendar?year=2027").get_data(as_text=True)
