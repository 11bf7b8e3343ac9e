"""The archive-service command line: init (idempotent), user add, verify, gc."""
import hashlib

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from archive_service.cli import main
from archive_service.models import AuditEvent, User
from archive_service.runtime import Runtime
from archive_service.settings import Settings
from archive_service.storage.base import blob_key
from factories import Make


@pytest.fixture
def cli(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("ARCHIVE_INSTANCE", str(tmp_path / "inst"))
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", database_url)
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return run


def _runtime():
    return Runtime.build(Settings.from_env())


def test_init_without_demo_has_no_users(cli):
    assert cli("init").exit_code == 0
    with _runtime().factory() as s:
        assert s.scalars(select(User)).first() is None


def test_init_demo_is_idempotent(cli):
    first = cli("init", "--demo")
    assert first.exit_code == 0 and "demo data loaded" in first.output
    second = cli("init", "--demo")
    assert second.exit_code == 0 and "already present" in second.output


def test_user_add_reads_password_from_stdin(cli):
    cli("init")
    make = Make(_runtime())
    make.department("bureau", code="SPJ")
    make.department("regulator", name="县自然资源局", code="ZRZY")
    result = cli("user", "add", "newclerk", "--department", "县自然资源局", "--role", "drafter",
                 "--role", "liaison", "--password-stdin", input="a-long-password\n")
    assert result.exit_code == 0, result.output
    with _runtime().factory() as s:
        user = s.scalar(select(User).where(User.username == "newclerk"))
        assert user.roles == {"drafter", "liaison"} and user.department.code == "ZRZY"
        assert user.password_hash.startswith("$argon2")
    bad = cli("user", "add", "x2", "--department", "NOPE", "--role", "drafter", "--password-stdin",
              input="a-long-password\n")
    assert bad.exit_code != 0 and "部门不存在" in bad.output
    bad_role = cli("user", "add", "x3", "--department", "SPJ", "--role", "king", "--password-stdin",
                   input="a-long-password\n")
    assert bad_role.exit_code != 0 and "未知角色" in bad_role.output
    both = cli("user", "add", "x4", "--department", "SPJ", "--role", "admin,auditor", "--password-stdin",
               input="a-long-password\n")  # 三员分立
    assert both.exit_code != 0 and "系统管理员与安全审计员不能由同一人兼任" in both.output


def test_verify_reports_blob_and_chain_failures(cli):
    cli("init")
    make = Make(_runtime())
    owner = make.user()
    make.document(owner)
    make.document(owner)
    ok = cli("verify")
    assert ok.exit_code == 0 and "audit chain intact" in ok.output
    rt = _runtime()
    with rt.factory() as s:
        sha = next(rt.store.list()).sha256
        event_id = s.scalar(select(AuditEvent.id).order_by(AuditEvent.id).offset(3))
        s.execute(text("UPDATE audit_events SET actor_name = 'mallory' WHERE id = :i"), {"i": event_id})
        s.commit()
    path = rt.settings.instance / "objects" / blob_key(sha)
    path.chmod(0o644)
    path.write_bytes(b"bit rot")
    bad = cli("verify")
    assert bad.exit_code == 1
    assert f"BLOB FAIL {sha}" in bad.output
    assert f"AUDIT CHAIN BROKEN at event {event_id}" in bad.output


def test_gc_removes_only_orphans(cli):
    cli("init")
    rt = _runtime()
    make = Make(rt)
    make.document(make.user())
    import io

    orphan = rt.store.put_stream(io.BytesIO(b"nobody refers to me"))
    assert cli("gc", "--grace-hours", "0", "--dry-run").output.count(orphan.sha256) == 1
    assert rt.store.exists(orphan.sha256)
    result = cli("gc", "--grace-hours", "0")
    assert result.exit_code == 0 and "removed 1 orphan" in result.output
    assert not rt.store.exists(orphan.sha256)
    assert cli("verify").exit_code == 0
    assert orphan.sha256 == hashlib.sha256(b"nobody refers to me").hexdigest()


def test_demo_has_letters_in_every_state_and_a_meeting(cli):
    result = cli("init", "--demo")
    assert "demo letters and meeting created" in result.output
    from correspondence.meeting_models import Meeting
    from correspondence.models import Letter

    with _runtime().factory() as s:
        letters = s.scalars(select(Letter).order_by(Letter.id)).all()
        assert letters[0].number and letters[0].issued_at is not None   # waiting in 县市场监督管理局's inbox
        assert letters[1].issued_at is None                             # waiting for 核稿
        assert s.scalars(select(Meeting)).first() is not None
    assert "demo letters and meeting created" not in cli("init", "--demo").output
