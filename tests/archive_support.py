"""Helpers for the archive tests: their county (archive_county, built with tests/factories.py), its clients
and browsers, PDFs made here, issued letters, an archive service."""
from __future__ import annotations

import io

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from sqlalchemy import select

from archive_service.archive.fonds import Fondses
from archive_service.archive.service import archive_for
from archive_service.models import Department, User
from factories import Make, county_users, small_county

# More regulators (with a 经办人 who is also the archivist, and a 负责人) for the archive and lookup tests.
MORE_REGULATORS = [("县自然资源局", "ZRZY"), ("县生态环境局", "STHJ"), ("县文化广电新闻出版旅游局", "WGLY")]
# 全宗号 of the archive tests' organisations: the bureau's sections are its 机构（问题）代码, others have 办公室.
FONDS = {"SPJ": "J001", "SCJG": "J011", "ZJJ": "J012", "ZRZY": "J013", "STHJ": "J014", "WJW": "J015",
         "WGLY": "J016", "SFJ": "J021", "WBB": "J022"}


def fonds(make: Make, organisation: Department, code: str, units: list[tuple[str, str, Department | None]]):
    """The organisation's 全宗号 and its 机构（问题）代码 (code, name, the section it stands for), committed."""
    row = Fondses(make.s, make.rt.clock).set(
        None, organisation, code, [(u, name, d.id if d is not None else None) for u, name, d in units])
    make.s.commit()
    return row


def archive_county(make: Make, people: dict[str, User] | None = None) -> dict[str, User]:
    """The small county (``people``, or built here) plus three more regulators (zrzy/sthj/wgly _staff and
    _leader) and every organisation's 全宗号 (县行政审批局 J001 with BGS, SCZR, TZJS; 县住房和城乡建设局 J012, …);
    its users by username."""
    people = dict(people) if people is not None else small_county(make)
    for name, code in MORE_REGULATORS:
        dept = make.department("regulator", name=name, code=code)
        people[f"{code.lower()}_staff"] = make.user(dept, "drafter", "archivist", username=f"{code.lower()}_staff",
                                                    full_name=f"{name[1:3]}经办人")
        people[f"{code.lower()}_leader"] = make.user(dept, "reviewer", "signer", username=f"{code.lower()}_leader",
                                                     full_name=f"{name[1:3]}负责人")
    depts = {u.department.code: u.department for u in people.values()}
    bureau = people["signer"].department
    for code, number in FONDS.items():
        if code == "SPJ":
            fonds(make, bureau, number, [("BGS", "办公室", None), ("SCZR", "市场准入审批股", depts["SCZR"]),
                                         ("TZJS", "投资建设审批股", depts["TZJS"])])
        else:
            fonds(make, depts[code], number, [("BGS", "办公室", depts[code])])
    return people


@pytest.fixture
def arch_people(make, county):
    """The archive tests' county (archive_county over the `county` fixture): its users by username."""
    return archive_county(make, county)


@pytest.fixture
def arch_clients(make, arch_people):
    """arch_clients(username) -> (test client, bearer headers) in the archive county; tokens issued directly."""
    cache: dict = {}
    client = make.client()

    def get(username):
        if username not in cache:
            cache[username] = (client, make.token(arch_people[username]))
        return cache[username]

    return get


@pytest.fixture
def arch_browser(make, arch_people):
    """arch_browser(username) -> a Browser (conftest.py) signed in through the login form."""
    return lambda username=None: make.browser(arch_people[username] if username else None)


def make_pdf(text: str = "archive test", pages: int = 1) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for i in range(pages):
        c.setFont("Helvetica", 14)
        c.drawString(72, 700, f"{text} page {i + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


def users(session) -> dict[str, User]:
    return {u.username: u for u in session.scalars(select(User))}


def upload_pdf(rt, session, username: str, title: str, pages: int = 1, text: str | None = None):
    user = users(session)[username]
    doc = rt.documents(session).upload(user, io.BytesIO(make_pdf(text or title, pages)), f"{title}.pdf", title)
    session.commit()  # services only flush: the helper commits what it built
    return doc


def issue_letter(rt, session, title: str, drafter: str = "drafter", reviewer: str = "reviewer",
                 signer: str = "signer", to=("县市场监督管理局",), clerk: str = "clerk"):
    from correspondence.issuing import Issuing
    from correspondence.pki import key_source

    u = users(session)
    issuing = Issuing(session, rt.documents(session), rt.clock, key_source(rt.settings))
    letter = issuing.letters.create_draft(u[drafter], title=title, to=list(to), body=["特此函告。"],
                                          note="联系人：张伟，电话：0797-1234567")
    sha = letter.content_sha256
    for who, action, opinion in ((drafter, "submit", ""), (reviewer, "pass", ""), (signer, "sign", "同意"),
                                 (clerk, "recheck", "")):
        issuing.letters.act(u[who], letter, action, sha, opinion)
    issuing.register(u[clerk], letter, sha)
    issuing.issue(u[clerk], letter, sha)
    session.commit()
    return letter


def service(rt, session):
    return archive_for(rt, session)


def county_in(rt, over_small_county: bool = False) -> None:
    """Build the archive county (archive_county) in a runtime of the test's own; ``over_small_county``: its
    database already holds the small county (a copy from `county_database_url`)."""
    make = Make(rt)
    try:
        archive_county(make, county_users(make) if over_small_county else None)
    finally:
        make.close()
