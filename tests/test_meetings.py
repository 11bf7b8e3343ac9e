"""Meetings (第二十二条–第二十四条): the materials deadline in working days, urgent scheduling,
materials sent to participants with notifications."""
import io
from datetime import date, datetime

import pytest
from sqlalchemy import select

from archive_service.clock import FixedClock
from archive_service.errors import Forbidden, NotFound
from archive_service.models import AuditEvent, Department, User
from correspondence.meeting_models import MeetingNotification
from correspondence.meetings import DeadlineViolation, MeetingService


def at_china(d: date, hour: int = 10) -> datetime:
    """A naive UTC instant that is ``hour`` o'clock on ``d`` in China."""
    return datetime(d.year, d.month, d.day, hour - 8)


@pytest.fixture
def ctx(rt, county):
    rt.clock = FixedClock(at_china(date(2025, 9, 22)))  # a Monday, well before the holiday
    s = rt.factory()
    users = {u.username: u for u in s.scalars(select(User))}
    yield s, MeetingService(s, rt.clock, rt.documents(s)), users, rt
    s.close()


def schedule(svc, user, when: date, **kw):
    kw.setdefault("participants", [{"department": "SCJG"}, {"user": "zjj_liaison"},
                                   {"department": "SFJ", "capacity": "observer"}])
    return svc.schedule(user, kind=kw.pop("kind", "joint"), title=kw.pop("title", "食品经营许可审管衔接"),
                        meeting_date=when, topics=kw.pop("topics", [{"title": "食品经营许可现场核查分工",
                                                                     "category": "inspection"}]), **kw)


def test_materials_deadline_across_national_day_2025(ctx):
    _s, svc, u, _ = ctx
    # Oct 1–8 are holidays; Sun Sep 28 and Sat Oct 11 are make-up working days.
    assert svc.check_deadline(date(2025, 10, 9)).latest_day == date(2025, 9, 28)   # Sep 30, 29, 28
    assert svc.check_deadline(date(2025, 10, 10)).latest_day == date(2025, 9, 29)  # Oct 9, Sep 30, 29
    assert svc.check_deadline(date(2025, 10, 13)).latest_day == date(2025, 10, 9)  # Oct 11, 10, 9
    m = schedule(svc, u["drafter"], date(2025, 10, 9))
    assert (m.materials_deadline, m.convener.code, m.chair.username) == (date(2025, 9, 28), "SPJ", "signer")
    assert "第二十四条" in m.deadline_rule


def test_too_late_is_refused_without_an_urgent_reason_and_audited_with_one(ctx):
    s, svc, u, rt = ctx
    rt.clock.at = at_china(date(2025, 9, 29))  # Monday; a meeting on Oct 9 needed materials by Sep 28
    svc.clock = rt.clock
    with pytest.raises(DeadlineViolation) as exc:
        schedule(svc, u["drafter"], date(2025, 10, 9))
    assert "2025年9月28日" in exc.value.message and exc.value.kind == "invalid"
    assert exc.value.details["latest_day"] == "2025-09-28"
    assert exc.value.details["earliest_meeting"] == "2025-10-10"  # Sep 30, Oct 9, Oct 10
    m = schedule(svc, u["drafter"], date(2025, 10, 9), urgent_reason="省局督办，须在节后立即会商")
    s.commit()
    assert m.urgent_reason == "省局督办，须在节后立即会商"
    ev = s.scalar(select(AuditEvent).where(AuditEvent.action == "meeting.urgent_schedule"))
    assert ev.target_id == str(m.id) and "省局督办" in ev.details and "2025-09-28" in ev.details
    # the next possible date needs no reason
    assert schedule(svc, u["drafter"], date(2025, 10, 10)).urgent_reason == ""


def test_who_may_convene(ctx):
    s, svc, u, _ = ctx
    scjg = s.scalar(select(Department).where(Department.code == "SCJG"))
    with pytest.raises(Forbidden, match="行业监管"):
        schedule(svc, u["scjg_staff"], date(2025, 10, 9), convener=scjg, participants=[{"department": "SPJ"}])
    m = schedule(svc, u["scjg_staff"], date(2025, 10, 9), convener=scjg, industry_supervision=True,
                 participants=[{"department": "SPJ"}], kind="liaison")
    assert m.chair.username == "scjg_leader"
    with pytest.raises(Forbidden):  # a regulator cannot convene in the bureau's name
        schedule(svc, u["scjg_staff"], date(2025, 10, 9))


def test_sending_materials_grants_notifies_and_records_late(ctx):
    s, svc, u, rt = ctx
    m = schedule(svc, u["drafter"], date(2025, 10, 9))
    s.commit()
    svc.add_material(u["drafter"], m, io.BytesIO("现场核查分工方案（讨论稿）".encode()), "分工方案.txt")
    doc_id = m.materials[0].document_id
    docs = rt.documents(s)
    assert docs.get(u["signer"], doc_id).id == doc_id  # uploaded by a section: the convener (bureau) reads it
    with pytest.raises(NotFound):  # not yet sent: participants cannot read it
        docs.get(u["scjg_staff"], doc_id)
    rt.clock.at = at_china(date(2025, 9, 29), 9)  # one working day after the latest day
    d = svc.send_materials(u["drafter"], m)
    s.commit()
    assert d.late and m.materials_late and m.materials_sent_at == rt.clock.at
    assert docs.get(u["scjg_staff"], doc_id).id == doc_id          # participant department
    assert docs.get(u["zjj_staff"], doc_id).id == doc_id           # department of an invited person
    with pytest.raises(NotFound):
        docs.get(u["wbb_staff"], doc_id)                           # not invited
    notes = s.scalars(select(MeetingNotification).where(MeetingNotification.kind == "materials")).all()
    assert {(n.department.code, n.user.username if n.user else None) for n in notes} == {
        ("SCJG", None), ("ZJJ", "zjj_liaison"), ("SFJ", None), ("SPJ", "signer")}  # signer: the chair
    assert all(n.created_at == rt.clock.at for n in notes)
    assert "逾期" in notes[0].message or "晚于" in notes[0].message
    assert [n.kind for n in svc.notifications(u["scjg_leader"], m)] == ["materials", "scheduled"]
    assert svc.notifications(u["zjj_staff"], m) == []              # ZJJ was invited by person only


def test_a_non_participant_cannot_see_the_meeting(ctx):
    s, svc, u, _ = ctx
    m = schedule(svc, u["drafter"], date(2025, 10, 9))
    s.commit()
    with pytest.raises(NotFound):
        svc.get(u["wbb_staff"], m.id)
    assert svc.visible(u["wbb_staff"]) == []
    assert [x.id for x in svc.visible(u["scjg_liaison"])] == [m.id]
    assert [x.id for x in svc.visible(u["signer"])] == [m.id]      # the convener (bureau)


def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(ctx):
    from archive_service.errors import Unprocessable
    from correspondence.meeting_models import Meeting

    s, svc, u, _ = ctx
    cases = [
        (dict(topics=[{"title": "x", "category": "weather"}]), "类别无效"),
        (dict(topics=[]), "至少填写一个会议议题"),
        (dict(participants=[{"department": "不存在的局"}]), "参会单位不存在"),
        (dict(participants=[{"department": "SCZR"}]), "召集单位以外"),
        (dict(chair=u["scjg_leader"]), "主持人须为县行政审批局"),
        (dict(kind="party"), "会议类型无效"),
    ]
    for kw, message in cases:
        with pytest.raises(Unprocessable, match=message):
            schedule(svc, u["drafter"], date(2025, 10, 9), **kw)
    with pytest.raises(Unprocessable, match="早于今天"):
        schedule(svc, u["drafter"], date(2025, 9, 19), urgent_reason="补记")
    s.rollback()
    assert s.scalars(select(Meeting)).all() == []


def test_a_person_named_and_in_a_participant_department_is_notified_once(ctx):
    s, svc, u, _rt = ctx
    m = schedule(svc, u["drafter"], date(2025, 10, 9),
                 participants=[{"department": "SCJG"}, {"user": "scjg_leader", "capacity": "observer"}])
    s.commit()
    svc.send_materials(u["drafter"], m)
    s.commit()
    rows = s.scalars(select(MeetingNotification).where(MeetingNotification.department_id == u["scjg_leader"]
                                                       .department_id)).all()
    assert len(rows) == 4  # a department row and a personal row for each of the two events
    assert [n.kind for n in svc.notifications(u["scjg_leader"], unread_only=True)] == ["materials", "scheduled"]
    assert all(n.user_id == u["scjg_leader"].id for n in svc.notifications(u["scjg_leader"]))
    assert [n.kind for n in svc.notifications(u["scjg_staff"])] == ["materials", "scheduled"]
    svc.mark_read(u["scjg_leader"], m)
    s.commit()
    assert svc.notifications(u["scjg_leader"], unread_only=True) == []
