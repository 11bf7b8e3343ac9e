"""Minutes (第二十五条): drafted from the meeting, signed off by the chair, issued within 3 working days."""
from datetime import date, datetime

import pytest
from sqlalchemy import select

from archive_service.clock import FixedClock
from archive_service.errors import Forbidden, InvalidTransition
from archive_service.models import User
from correspondence.letters import LetterService
from correspondence.meetings import MeetingService
from correspondence.minutes import MinutesService


def minutes_service(s, rt) -> MinutesService:
    return MinutesService(s, rt.clock, LetterService(s, rt.documents(s), rt.clock))


def at_china(d: date, hour: int = 10) -> datetime:
    return datetime(d.year, d.month, d.day, hour - 8)


@pytest.fixture
def held(rt, county):
    """A joint meeting on Thu 2025-10-09 (right after the National Day holiday), attendance recorded."""
    rt.clock = FixedClock(at_china(date(2025, 9, 22)))
    s = rt.factory()
    u = {x.username: x for x in s.scalars(select(User))}
    svc = MeetingService(s, rt.clock, rt.documents(s))
    m = svc.schedule(u["drafter"], kind="joint", title="食品经营许可审管衔接会议", meeting_date=date(2025, 10, 9),
                     location="县政务服务中心三楼会议室",
                     topics=[{"title": "食品经营许可现场核查分工", "category": "inspection"},
                             {"title": "许可信息推送时限", "category": "process"}],
                     participants=[{"department": "SCJG"}, {"user": "zjj_liaison"},
                                   {"department": "WJW"}, {"department": "SFJ", "capacity": "observer"}])
    s.commit()
    with pytest.raises(InvalidTransition, match="尚未召开"):
        svc.record_attendance(u["drafter"], m, [])
    rt.clock.at = at_china(date(2025, 10, 9), 15)
    rows = {(p.department.code, p.user.username if p.user else None): p.id for p in m.participants}
    svc.record_attendance(u["drafter"], m, [
        {"participant": rows[("SPJ", "signer")], "attendance": "present"},
        {"participant": rows[("SCJG", None)], "attendance": "present", "name": "王五"},
        {"participant": rows[("ZJJ", "zjj_liaison")], "attendance": "leave"},
        {"participant": rows[("WJW", None)], "attendance": "absent"},
        {"participant": rows[("SFJ", None)], "attendance": "present", "name": "赵六"}])
    s.commit()
    yield s, m, u, rt
    s.close()


def sign_and_check_deadline(s, m, u, rt, svc, act):
    """Sign on Fri Oct 10; +3 working days counts Sat Oct 11 (make-up day), Mon 13, Tue 14."""
    decisions = ["由县市场监督管理局牵头制定现场核查分工。", "2. 许可信息于作出决定当日推送。"]
    minutes = svc.draft(u["drafter"], m, decisions)
    s.commit()
    act(minutes, "drafter", "submit")
    act(minutes, "reviewer", "pass")
    if "deputy" not in u:  # a second signer of the bureau who did not chair the meeting
        from archive_service.directory import Directory

        u["deputy"] = Directory(s, rt.clock).add_user("deputy", "副局长周强", u["signer"].department, ["signer"],
                                                        password_hash=u["signer"].password_hash)
        s.commit()
    with pytest.raises(Forbidden, match="主持人"):
        act(minutes, "deputy", "sign", "同意")
    rt.clock.at = at_china(date(2025, 10, 10))
    act(minutes, "signer", "sign", "同意印发")
    st = svc.refresh(minutes)
    s.commit()
    assert (st.signed_by, st.due, st.overdue, st.by_chair) == ("局长李明", date(2025, 10, 14), False, True)
    assert minutes.issue_due == date(2025, 10, 14)
    rt.clock.at = at_china(date(2025, 10, 14), 23)  # the last day, late evening: not yet overdue
    assert not svc.status(minutes).overdue
    rt.clock.at = at_china(date(2025, 10, 15), 9)
    st = svc.status(minutes)
    assert st.overdue and "已逾期" in st.label
    assert [row.id for row, _ in svc.pending_for(u["drafter"])] == [minutes.id]
    assert svc.pending_for(u["scjg_staff"]) == []
    return minutes


def test_minutes_spec_from_the_meeting(held):
    s, m, _u, rt = held
    spec = minutes_service(s, rt).spec_for(
        m, ["一、由县市场监督管理局牵头。", "许可信息当日推送。"])
    assert spec["kind"] == "minutes" and spec["masthead"] == "石城县审管协调联动联席会议纪要"
    assert spec["to"] == [] and spec["issuer"] == "县行政审批局"
    assert spec["body"][1:] == ["一、由县市场监督管理局牵头。", "二、许可信息当日推送。"]
    assert "2025年10月9日" in spec["body"][0] and "县政务服务中心三楼会议室" in spec["body"][0]
    assert spec["attendance"] == {"出席": ["县行政审批局 局长李明", "县市场监督管理局 王五"],
                                  "请假": ["县住房和城乡建设局 住房联络员"], "列席": ["县司法局 赵六"]}
    from correspondence.spec import parse_spec

    assert parse_spec(spec).attendance.rows()[0][0] == "出席"


def test_minutes_through_the_letters_workflow(held):
    s, m, u, rt = held
    svc = minutes_service(s, rt)
    from correspondence.models import Letter

    letters = LetterService(s, rt.documents(s), rt.clock)

    def act(minutes, who, action, opinion=""):
        letter = s.get(Letter, minutes.letter_id)
        letters.act(u[who], letter, action, letter.content_sha256, opinion)

    minutes = sign_and_check_deadline(s, m, u, rt, svc, act)
    letter = s.get(Letter, minutes.letter_id)
    assert letter.kind == "minutes" and letter.meeting_id == m.id
    assert {r.department.code for r in letter.recipients} == {"SCJG", "ZJJ", "WJW", "SFJ"}
    assert letter.data["attendance"]["列席"] == ["县司法局 赵六"]


def test_issuing_the_minutes_letter_marks_them_issued_and_notifies_everyone(held):
    """The letters workflow renders (纪要格式), signs and distributes; its issue hook updates the meeting."""
    s, m, u, rt = held
    from archive_service.models import Department
    from correspondence.issuing import Issuing, spec_for
    from correspondence.models import Letter
    from correspondence.pki import ensure_pki, key_source

    ensure_pki(rt.settings.instance, list(s.scalars(select(Department).where(Department.code == "SPJ"))))
    svc = minutes_service(s, rt)
    minutes = svc.draft(u["drafter"], m, ["由县市场监督管理局牵头制定现场核查分工。"])
    s.commit()
    letters = LetterService(s, rt.documents(s), rt.clock)
    letter = s.get(Letter, minutes.letter_id)
    for who, action, opinion in (("drafter", "submit", ""), ("reviewer", "pass", ""), ("signer", "sign", "同意"),
                                 ("clerk", "recheck", "")):
        letters.act(u[who], letter, action, letter.content_sha256, opinion)
    spec = spec_for(letters, letter)
    assert spec["masthead"] == "石城县审管协调联动联席会议纪要" and not spec.get("to")
    issuing = Issuing(s, rt.documents(s), rt.clock, keys=key_source(rt.settings))
    issuing.register(u["clerk"], letter, letter.content_sha256)
    rt.clock.at = at_china(date(2025, 10, 13))
    issuing.issue(u["clerk"], letter, letter.content_sha256)
    s.refresh(minutes)
    assert minutes.issued_at == rt.clock.at and not svc.status(minutes).issued_late
    notes = MeetingService(s, rt.clock).notifications(u["wjw_staff"], m)
    assert notes[0].kind == "minutes" and "已印发" in notes[0].message
    docs = rt.documents(s)
    for who in ("scjg_staff", "zjj_staff", "wjw_staff", "sfj_staff"):
        assert docs.get(u[who], letter.final_document_id).id == letter.final_document_id
