"""Helpers for the archive tests: their county (factories.archive_county) and its clients and browsers,
PDFs made here, issued letters, an archive service."""
from __future__ import annotations

import io

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from sqlalchemy import select

from archive_service.archive.service import archive_for
from archive_service.models import User
from factories import archive_county


@pytest.fixture
def arch_people(make, county):
    """The archive tests' county (factories.archive_county over the `county` fixture): its users by username."""
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
                 signer: str = "signer", to=("县市场监督管理局",)):
    from correspondence.issuing import Issuing
    from correspondence.pki import key_source

    u = users(session)
    issuing = Issuing(session, rt.documents(session), rt.clock, key_source(rt.settings))
    letter = issuing.letters.create_draft(u[drafter], title=title, to=list(to), body=["特此函告。"],
                                          note="联系人：张伟，电话：0797-1234567")
    sha = letter.content_sha256
    for who, action, opinion in ((drafter, "submit", ""), (reviewer, "pass", ""), (signer, "sign", "同意"),
                                 (drafter, "recheck", "")):
        issuing.letters.act(u[who], letter, action, sha, opinion)
    issuing.register(u[drafter], letter, sha)
    issuing.issue(u[drafter], letter, sha)
    session.commit()
    return letter


def service(rt, session):
    return archive_for(rt, session)


def county_in(rt) -> None:
    """Build the archive county (factories.archive_county) in a runtime of the test's own."""
    from factories import Make

    make = Make(rt)
    try:
        archive_county(make)
    finally:
        make.close()
