"""Demo correspondence for `init --demo`: a letter under review, an issued letter waiting in the
regulator's inbox, and a joint meeting with its materials deadline — so every list has something."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive_service.models import User
from archive_service.workdays import load_calendar

from .issuing import Issuing
from .meetings import MeetingService
from .models import Letter
from .seal import Seals

BODY = [
    "根据《石城县行政审批与监管协调联动管理办法（试行）》第二十二条规定，现就城东农贸市场食品经营许可有关问题函商如下：",
    "一、基本情况",
    "城东农贸市场共有126户经营主体提出食品经营许可申请，其中37户经营场所与住所不一致。",
    "二、需协商的问题",
    "（一）经营场所与住所不一致的认定；",
    "（二）许可后监管信息的推送时限。",
    "请贵局研究并于5个工作日内函复。",
]


def load_correspondence_demo(session: Session, rt, keys) -> bool:
    """Create the demo letters and meeting once; False when letters already exist."""
    if session.scalar(select(Letter.id).limit(1)) is not None:
        return False
    users = {u.username: u for u in session.scalars(select(User))}
    issuing = Issuing(session, rt.documents(session), rt.clock, keys, Seals.from_settings(rt.settings))
    letters = issuing.letters

    issued = letters.create_draft(users["drafter"], title="关于商请协助研究城东农贸市场食品经营许可有关问题的函",
                                  to=["县市场监督管理局"], cc=["县卫生健康委员会"], body=BODY,
                                  note="联系人：张伟，电话：0797-1234567")
    sha = issued.content_sha256
    for who, action, opinion in (("drafter", "submit", ""), ("reviewer", "pass", "文稿无误"),
                                 ("signer", "sign", "同意印发"), ("clerk", "recheck", "")):
        letters.act(users[who], issued, action, sha, opinion)
    issuing.register(users["clerk"], issued, sha)  # the bureau's 办公室 registers and issues
    issuing.issue(users["clerk"], issued, sha)

    pending = letters.create_draft(users["drafter"], title="关于推送建设工程消防设计审查结果的函",
                                   to=["县住房和城乡建设局"],
                                   body=["现将本月建设工程消防设计审查结果推送贵局，请查收。"],
                                   note="联系人：张伟，电话：0797-1234567")
    letters.act(users["drafter"], pending, "submit", pending.content_sha256)

    meetings = MeetingService(session, rt.clock, rt.documents(session))
    day = load_calendar(session).add_workdays(rt.clock.today(), 8)
    meetings.schedule(users["drafter"], kind="joint", title="食品经营许可审管衔接联席会议", meeting_date=day,
                      location="县政务服务中心三楼会议室", start_time="09:30",
                      topics=[{"title": "食品经营许可现场核查分工", "category": "inspection"},
                              {"title": "许可信息推送时限", "category": "process"}],
                      participants=[{"department": "SCJG"}, {"department": "WJW"}, {"user": "scjg_liaison"}])
    session.flush()
    return True
