"""Builders for test data: each test creates the departments, users, documents, letters and meetings it needs.

    make = Make(rt)                      # or the `make` fixture (conftest.py)
    bureau = make.department(kind="bureau", code="SPJ", name="县行政审批局")
    section = make.department(kind="section", parent=bureau)
    drafter = make.user(section, "drafter")
    doc = make.document(drafter, b"bytes")
    client, headers = make.api(drafter)

Names and codes are generated when not given, so two calls never clash. Everything goes through the
real services (Directory, DocumentService, LetterService, MeetingService) and is committed, so a web
request or a new session sees it. The demo county (archive_service.demo) is for the demo and browser tests.
"""
from __future__ import annotations

import io
import itertools
from datetime import date
from functools import cache

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from archive_service.auth import Authenticator
from archive_service.directory import Directory
from archive_service.models import Department, Document, User
from archive_service.runtime import Runtime

PASSWORD = "test-pass-2026"

_seq = itertools.count(1)

# Department names by kind, so generated departments read like the county's.
_KIND_NAMES = {"bureau": "县行政审批局{n}", "section": "审批{n}股", "regulator": "县监管局{n}",
               "other": "县其他单位{n}"}


#: argon2id at its lowest cost, for test accounts only. Logins read the cost from the stored hash, so a test
#: login takes ~1 ms instead of the production profile's 100–300 ms on a busy 2-core machine (the suite logs
#: in a few hundred times); test_security_sessions.py checks that real accounts get the production profile.
_TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)


@cache
def cheap_password_hash(password: str = PASSWORD) -> str:
    """A cheap argon2id hash of ``password`` for test accounts (one per password and process)."""
    return _TEST_HASHER.hash(password)


class Make:
    """Builds committed rows through the services, in its own session unless one is given."""

    def __init__(self, rt: Runtime, session: Session | None = None, app=None):
        self.rt = rt
        self.s = session if session is not None else rt.factory()
        self._own_session = session is None
        self.app = app

    def using(self, session: Session) -> Make:
        """The same builder working in the caller's session (rows come back attached to it)."""
        return Make(self.rt, session, self.app)

    def close(self) -> None:
        if self._own_session:
            self.s.close()

    # -- directory -------------------------------------------------------------------------------
    def department(self, kind: str = "regulator", *, name: str | None = None, code: str | None = None,
                   parent: Department | None = None, full_name: str = "") -> Department:
        """A department (``full_name``: its 全称); a section gets (or is given) a bureau as its parent."""
        n = next(_seq)
        if kind == "section" and parent is None:
            parent = self.department("bureau")
        dept = Directory(self.s, self.rt.clock).add_department(
            name or _KIND_NAMES[kind].format(n=n), code or f"{kind[:3].upper()}{n}", kind, parent, full_name)
        self.s.commit()
        return dept

    def user(self, department: Department | None = None, *roles: str, username: str | None = None,
             full_name: str | None = None) -> User:
        """A user with ``roles`` (default 拟稿人) in ``department`` (default: a new regulator).

        The password is PASSWORD (for the login form and POST /api/v1/auth/token)."""
        n = next(_seq)
        department = department if department is not None else self.department()
        username = username or f"user{n}"
        user = Directory(self.s, self.rt.clock).add_user(
            username, full_name or f"测试用户{n}", department, list(roles) or ["drafter"],
            password_hash=cheap_password_hash())
        self.s.commit()
        return user

    def link(self, section: Department, regulator: Department) -> None:
        """The 第二十一条 correspondence between an approval section and a regulator."""
        Directory(self.s, self.rt.clock).link(section, regulator)
        self.s.commit()

    def liaison(self, user: User, filed_with: Department, phone: str = "0797-0000000") -> None:
        Directory(self.s, self.rt.clock).file_liaison(user, filed_with, phone=phone)
        self.s.commit()

    # -- documents -------------------------------------------------------------------------------
    def document(self, owner: User, content: bytes | None = None, filename: str = "文件.txt",
                 title: str | None = None) -> Document:
        """An uploaded document of ``owner``'s department (unique text content unless given)."""
        n = next(_seq)
        data = content if content is not None else f"测试文件 {n} 的内容".encode()
        doc = self.rt.documents(self.s).upload(owner, io.BytesIO(data), filename, title or f"测试文件{n}")
        self.s.commit()
        return doc

    # -- correspondence --------------------------------------------------------------------------
    def letter(self, drafter: User, *, to: list[str], kind: str = "letter", **fields):
        """A draft letter (函) from ``drafter`` to the named departments."""
        from correspondence.letters import LetterService

        fields.setdefault("title", "关于商请协助研究有关问题的函")
        fields.setdefault("body", ["现函商如下：", "特此函商。"])
        letter = LetterService(self.s, self.rt.documents(self.s), self.rt.clock).create_draft(
            drafter, kind=kind, to=to, **fields)
        self.s.commit()
        return letter

    def meeting(self, user: User, meeting_date: date, *, participants: list[dict], **kw):
        """A scheduled meeting convened by ``user`` (the deadline rules apply: pass urgent_reason if late)."""
        from correspondence.meetings import MeetingService

        kw.setdefault("kind", "joint")
        kw.setdefault("title", "审管衔接会议")
        kw.setdefault("topics", [{"title": "现场核查分工", "category": "inspection"}])
        meeting = MeetingService(self.s, self.rt.clock, self.rt.documents(self.s)).schedule(
            user, meeting_date=meeting_date, participants=participants, **kw)
        self.s.commit()
        return meeting

    # -- clients ---------------------------------------------------------------------------------
    def token(self, user: User) -> dict[str, str]:
        """Bearer headers for ``user``, issued directly (no password hashing)."""
        token, _ = Authenticator(self.s, self.rt.clock).issue_token(user)
        self.s.commit()
        return {"Authorization": f"Bearer {token}"}

    def client(self):
        """An anonymous test client of the app over this runtime."""
        return self._app().test_client()

    def api(self, user: User):
        """(test client, bearer headers) of the app over this runtime."""
        return self._app().test_client(), self.token(user)

    def browser(self, user: User | None = None):
        """A Browser (conftest.py) logged in as ``user`` through the real login form."""
        from conftest import Browser  # the login-form client shared with the demo-county fixtures

        b = Browser(self._app().test_client())
        if user is not None:
            resp = b.login(user.username, PASSWORD)
            assert resp.status_code == 302, resp.get_data(as_text=True)
        return b

    def _app(self):
        if self.app is None:
            from archive_service.web import create_app

            self.app = create_app(self.rt)
            self.app.config["TESTING"] = True
        return self.app



# (username, full name, department code, roles) of the people the correspondence tests act as.
COUNTY_PEOPLE = [
    ("admin", "系统管理员", "SPJ", ["admin"]),
    ("auditor", "安全审计员", "SPJ", ["auditor"]),
    ("archivist", "档案员王芳", "SPJ", ["archivist"]),
    ("signer", "局长李明", "SPJ", ["signer", "reviewer"]),
    ("clerk", "文书周丽", "SPJ", ["clerk"]),
    ("drafter", "拟稿人张伟", "SCZR", ["drafter"]),
    ("reviewer", "股长刘洋", "SCZR", ["reviewer"]),
    ("liaison_tzjs", "联络员杨帆", "TZJS", ["liaison", "drafter"]),
    ("scjg_staff", "市场经办人", "SCJG", ["drafter", "archivist"]),
    ("scjg_leader", "市场负责人", "SCJG", ["reviewer", "signer"]),
    ("scjg_liaison", "市场联络员", "SCJG", ["liaison"]),
    ("scjg_clerk", "市场文书", "SCJG", ["clerk"]),
    ("zjj_staff", "住房经办人", "ZJJ", ["drafter", "archivist"]),
    ("zjj_leader", "住房负责人", "ZJJ", ["reviewer", "signer"]),
    ("zjj_liaison", "住房联络员", "ZJJ", ["liaison"]),
    ("zjj_clerk", "住房文书", "ZJJ", ["clerk"]),
    ("wjw_staff", "卫生经办人", "WJW", ["drafter", "archivist"]),
    ("wjw_leader", "卫生负责人", "WJW", ["reviewer", "signer"]),
    ("wjw_clerk", "卫生文书", "WJW", ["clerk"]),
    ("sfj_staff", "司法局经办人", "SFJ", ["drafter"]),
    ("wbb_staff", "编办经办人", "WBB", ["drafter"]),
]


def county_users(make: Make) -> dict[str, User]:
    """The users of a database that already holds the small county (the `county` fixture's template)."""
    from sqlalchemy import select

    names = [username for username, *_ in COUNTY_PEOPLE]
    users = {u.username: u for u in make.s.scalars(select(User).where(User.username.in_(names)))}
    assert len(users) == len(names), "this database does not hold the small county"
    return users


def small_county(make: Make) -> dict[str, User]:
    """The small county the letters and meetings tests work in; returns its users by username.

    县行政审批局 (SPJ) with two sections (市场准入审批股 SCZR, 投资建设审批股 TZJS), three regulators
    (县市场监督管理局 SCJG, 县住房和城乡建设局 ZJJ, 县卫生健康委员会 WJW) and two other departments
    (县司法局 SFJ, 县委编办 WBB) — no liaison filings, links or documents."""
    bureau = make.department("bureau", name="县行政审批局", code="SPJ")
    depts = {"SPJ": bureau}
    for name, code in [("市场准入审批股", "SCZR"), ("投资建设审批股", "TZJS")]:
        depts[code] = make.department("section", name=name, code=code, parent=bureau)
    for name, code in [("县市场监督管理局", "SCJG"), ("县住房和城乡建设局", "ZJJ"), ("县卫生健康委员会", "WJW")]:
        depts[code] = make.department("regulator", name=name, code=code)
    for name, code in [("县司法局", "SFJ"), ("县委编办", "WBB")]:
        depts[code] = make.department("other", name=name, code=code)
    return {username: make.user(depts[code], *roles, username=username, full_name=full_name)
            for username, full_name, code, roles in COUNTY_PEOPLE}
