"""One unit of work per request: a failure after any step of a multi-step operation commits nothing.

Each operation runs through the real app (bearer-token API, the real services, SQLite or
PostgreSQL); a failure is injected after its 1st, 2nd, … flush until it runs through.
"""
from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from sqlalchemy import select

from archive_service.clock import FixedClock
from failure_injection import each_step_fails_cleanly, snapshot
from letters_support import LETTER, act, draft, post, signed_off


def ok(status: int):
    return lambda resp: resp.status_code == status


def run(rt, operation, status: int = 200) -> int:
    return each_step_fails_cleanly(rt.factory, operation, ok(status))


def test_upload_is_one_unit(rt, clients):
    client, h = clients("drafter")
    steps = run(rt, lambda: client.post("/api/v1/documents", headers=h, data={
        "title": "审批档案", "file": (io.BytesIO(b"%PDF-1.4 upload body"), "a.pdf")}), 201)
    assert steps >= 3  # blob row + document + version, audit event, outbox row


def test_letter_drafting_editing_and_attachments_are_each_one_unit(rt, clients):
    """A draft is a core document plus the letter, its recipients, its flow and its grants."""
    steps = run(rt, lambda: post(clients, "drafter", "/api/v1/letters", **{**LETTER, "co_issuers": ["县司法局"]}),
                201)
    assert steps >= 4
    letter = draft(clients)
    client, h = clients("drafter")
    run(rt, lambda: client.patch(f"/api/v1/letters/{letter['id']}", headers=h,
                                   json={"body": ["新的正文。"], "version_sha256": letter["version_sha256"]}))
    run(rt, lambda: client.post(f"/api/v1/letters/{letter['id']}/attachments", headers=h,
                                  data={"file": (io.BytesIO(b"attachment text"), "附件.txt")}), 201)


def test_every_step_of_the_chain_and_the_issue_is_one_unit(rt, clients):
    letter = draft(clients)
    clients("clerk")  # its token is issued before the failures are injected
    for who, action, opinion in (("drafter", "submit", ""), ("reviewer", "pass", ""), ("signer", "sign", "同意印发"),
                                 ("clerk", "recheck", ""), ("clerk", "register", "")):
        run(rt, lambda who=who, action=action, opinion=opinion: act(clients, who, letter, action, opinion))
    steps = run(rt, lambda: act(clients, "clerk", letter, "issue"))
    assert steps >= 10  # three documents, grants, the state change, the reply mark, audit events


def test_inbox_steps_and_the_reply_draft_are_each_one_unit(rt, clients):
    letter = signed_off(clients, draft(clients))
    assert act(clients, "clerk", letter, "issue").status_code == 200
    client, h = clients("scjg_staff")
    _, office = clients("scjg_clerk")
    _, leader = clients("scjg_leader")
    item = client.get("/api/v1/inbox", headers=office).get_json()["items"][0]
    url = f"/api/v1/inbox/{item['id']}/actions"
    run(rt, lambda: client.post(url, headers=office, json={"action": "receive"}))
    run(rt, lambda: client.post(url, headers=office, json={"action": "register"}))
    run(rt, lambda: client.post(url, headers=office, json={"action": "review"}))
    run(rt, lambda: client.post(url, headers=office, json={"action": "propose", "opinion": "请市场经办人办理"}))
    run(rt, lambda: client.post(url, headers=leader, json={"action": "assign", "handler": "scjg_staff", "days": 5}))
    # the reply: a draft document, the reply letter, its flow, and the inbox item's link to it
    steps = run(rt, lambda: client.post(url, headers=h, json={"action": "reply"}))
    assert steps >= 4


def at_china(d: date, hour: int = 10) -> datetime:
    return datetime(d.year, d.month, d.day, hour - 8)


MEETING = {"kind": "joint", "title": "食品经营许可审管衔接会议", "meeting_date": "2025-10-09",
           "topics": [{"title": "现场核查分工", "category": "inspection"}],
           "participants": [{"department": "SCJG"}, {"user": "zjj_liaison"}]}


def test_meeting_scheduling_materials_attendance_and_minutes_are_each_one_unit(rt, clients):
    rt.clock = FixedClock(at_china(date(2025, 9, 22)))
    client, h = clients("drafter")
    run(rt, lambda: client.post("/api/v1/meetings", headers=h, json=MEETING), 201)
    meeting = client.post("/api/v1/meetings", headers=h, json=MEETING).get_json()
    base = f"/api/v1/meetings/{meeting['id']}"
    # materials: a core document (blob, version, audit, outbox) and the meeting's material row
    run(rt, lambda: client.post(f"{base}/materials", headers=h,
                                  data={"file": (io.BytesIO(b"meeting material text"), "材料.txt")}), 201)
    assert client.post(f"{base}/materials", headers=h,
                       data={"file": (io.BytesIO(b"meeting material text"), "材料.txt")}).status_code == 201
    run(rt, lambda: client.post(f"{base}/send", headers=h))
    rt.clock.at = at_china(date(2025, 10, 9), 15)
    entries = [{"participant": p["id"], "attendance": "present", "name": "王五"} for p in meeting["participants"]]
    run(rt, lambda: client.post(f"{base}/attendance", headers=h, json={"entries": entries}))
    assert client.post(f"{base}/attendance", headers=h, json={"entries": entries}).status_code == 200
    # minutes: the minutes row, the minutes letter, its draft document and its flow — together
    minutes = {"decisions": ["由市场监管局牵头核查。"], "title": "审管衔接会议纪要"}
    steps = run(rt, lambda: client.post(f"{base}/minutes", headers=h, json=minutes), 201)
    assert steps >= 5


def test_an_unexpected_error_rolls_back_through_the_generic_500_path(rt, clients):
    """The injected error is no domain error: the generic handler answers 500 and nothing stays."""
    from failure_injection import FlushFailure

    before = snapshot(rt.factory)
    injector = FlushFailure(rt.factory)
    with injector.armed(2):
        resp = post(clients, "drafter", "/api/v1/letters", **LETTER)
    assert resp.status_code == 500 and resp.get_json()["error"]["code"] == "internal_error"
    assert snapshot(rt.factory) == before


def test_a_refused_login_is_counted_although_the_request_fails(rt, make, county):
    """The failed-login counter and its audit event are committed on purpose, apart from the request."""
    from archive_service.models import AuditEvent, LoginAttempt

    client = make.client()
    resp = client.post("/api/v1/auth/token", json={"username": "drafter", "password": "wrong password"})
    assert resp.status_code == 401
    with rt.factory() as s:
        assert s.scalars(select(LoginAttempt)).all()
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")) is not None


def test_a_download_commits_its_audit_event_and_still_streams(rt, clients):
    from archive_service.models import AuditEvent

    client, h = clients("drafter")
    doc = client.post("/api/v1/documents", headers=h, data={
        "file": (io.BytesIO(b"streamed body " * 1000), "s.txt")}).get_json()
    resp = client.get(f"/api/v1/documents/{doc['id']}/content", headers=h)
    assert resp.status_code == 200 and resp.data == b"streamed body " * 1000
    with rt.factory() as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "document.download")) is not None


@pytest.fixture(autouse=True)
def _prepared(rt, clients):
    """Tokens issued and the local CA made before any failure is injected."""
    from archive_service.models import Department
    from correspondence.pki import ensure_pki

    with rt.factory() as s:
        ensure_pki(rt.settings.instance, list(s.scalars(select(Department))))
    for who in ("drafter", "reviewer", "signer", "scjg_staff"):
        clients(who)


def test_a_worker_job_and_a_cli_command_are_each_one_unit(rt, make, monkeypatch, tmp_path):
    """The fixity sample marks every blob it checked in one transaction: a failure leaves none marked;
    `user add` adds the user, its roles and its audit event together or not at all (a failure is
    injected after each of its steps)."""
    import io as _io

    from click.testing import CliRunner

    from archive_service.cli import main
    from failure_injection import FlushFailure

    owner = make.user()
    with rt.transaction() as s:
        for i in range(3):
            rt.documents(s).upload(s.merge(owner), _io.BytesIO(f"fixity body {i}".encode()), f"{i}.txt")
    worker = rt.worker()
    before = snapshot(rt.factory)
    with FlushFailure(rt.factory).armed(1), pytest.raises(RuntimeError):  # the job's one flush
        worker.sample_fixity()
    assert snapshot(rt.factory) == before
    assert worker.sample_fixity() == 3

    monkeypatch.setenv("ARCHIVE_INSTANCE", str(rt.settings.instance))
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", rt.settings.database_url)
    from sqlalchemy.orm import Session

    dept = make.department("regulator")
    args = ["user", "add", "newcomer", "--department", dept.code, "--role", "drafter", "--role", "liaison",
            "--password-stdin"]
    for n in range(1, 50):  # the command builds its own Runtime: fail the n-th flush of any session
        before = snapshot(rt.factory)
        injector = FlushFailure(Session)
        with injector.armed(n):
            result = CliRunner().invoke(main, args, input="long-enough-1\n")
        if not injector.fired:
            assert result.exit_code == 0, result.output
            break
        assert result.exit_code != 0
        assert snapshot(rt.factory) == before, f"user add: a failure after step {n} left rows committed"
    assert n > 2
