"""The demo county of `init --demo` (README “Demo accounts”): what the README promises is there.

The other tests build their own data (tests/factories.py); these check the demo itself."""
from sqlalchemy import select

from archive_service.demo import DEMO_PASSWORD, OTHERS, REGULATORS, SAMPLE_FILES, SECTIONS, USERS
from archive_service.models import Department, Document, User


def test_every_demo_account_exists_with_its_department_and_roles(demo):
    with demo.factory() as s:
        users = {u.username: u for u in s.scalars(select(User))}
        for username, full_name, code, roles in USERS:
            user = users[username]
            assert (user.full_name, user.department.code, user.roles, user.active) == (
                full_name, code, set(roles), True)
        names = set(s.scalars(select(Department.name)))
        full = {d.code: d.full_name for d in s.scalars(select(Department))}
    assert {"县行政审批局"} | {n for n, _ in SECTIONS + REGULATORS + OTHERS} == names
    assert (full["SPJ"], full["SCJG"], full["SPJBGS"]) == ("石城县行政审批局", "石城县市场监督管理局",
                                                           "石城县行政审批局办公室")
    assert all(full.values())  # every demo department has its 全称


def test_demo_accounts_log_in_with_the_shared_password(app):
    client = app.test_client()
    for username in ("admin", "auditor", "drafter", "signer", "scjg_leader", "wbb_staff"):
        resp = client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
        assert resp.status_code == 201, (username, resp.get_json())


def test_the_liaison_gap_list_has_the_one_deliberate_gap(api):
    client, h = api("admin")
    gaps = client.get("/api/v1/liaisons/gaps", headers=h).get_json()
    assert gaps["total"] == 1
    assert (gaps["gaps"][0]["department"], gaps["gaps"][0]["filed_with"]) == ("县生态环境局", "县行政审批局")


def test_sample_files_are_there_for_their_departments(demo, browser):
    with demo.factory() as s:
        titles = set(s.scalars(select(Document.title)))
    assert {title for _, title, _, _ in SAMPLE_FILES} <= titles
    home = browser("drafter").get("/").get_data(as_text=True)
    assert "关于加强审管联动工作的通知（样例）" in home
    admin = browser("admin").get("/admin/departments").get_data(as_text=True)
    for name, _ in REGULATORS + OTHERS:
        assert name in admin


def test_loading_twice_changes_nothing(demo):
    from archive_service.demo import load_demo

    with demo.factory() as s:
        before = (len(s.scalars(select(User)).all()), len(s.scalars(select(Document)).all()))
        assert load_demo(s, demo.clock, demo.documents) is False
        assert (len(s.scalars(select(User)).all()), len(s.scalars(select(Document)).all())) == before
