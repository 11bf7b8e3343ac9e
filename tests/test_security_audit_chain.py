"""Issue 7 finding 10: a keyed, anchored audit chain. Each tampering case is named by `verify`:
edits (with or without recomputing the chain), two tampered rows, deleting the newest rows and
moving the head back, a document version re-pointed at another stored blob; existing (unkeyed)
chains keep verifying after the upgrade."""
import hashlib
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from archive_service.audit import AuditLog, _message, verify_anchors, verify_chain, verify_versions, write_anchor
from archive_service.models import AuditEvent, User
from security_support import department, user


def _record(rt, n, action="test.event"):
    with rt.factory() as s:
        for i in range(n):
            AuditLog(s, rt.clock).record(None, action, "thing", i, {"i": i, "名称": "测试"})
        s.commit()


def _ids(s):
    return s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()


def _recompute_unkeyed(s, era=None):
    """What someone with database access but without the key can do: recompute every hash with the
    old plain SHA-256 formula (optionally marking the rows as era 0) and move the head."""
    if era is not None:
        s.execute(text("UPDATE audit_events SET key_era = :e"), {"e": era})
    prev = "0" * 64
    for ev in s.execute(select(AuditEvent.__table__).order_by(AuditEvent.id)).all():
        row = dict(ev._mapping, prev_hash=prev)
        h = hashlib.sha256(_message(type("E", (), row))).hexdigest()
        s.execute(text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE id = :id"),
                  {"p": prev, "h": h, "id": ev.id})
        prev = h
    s.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": prev})
    s.commit()


def test_new_events_are_keyed(rt):
    _record(rt, 3)
    with rt.factory() as s:
        assert {e.key_era for e in s.scalars(select(AuditEvent))} == {1}
        assert verify_chain(s).ok and verify_chain(s).checked == 3
    with rt.factory(info={"audit_key": "another-key"}) as s:  # a wrong key: nothing verifies
        assert len(verify_chain(s).problems) == 3


def test_edit_and_recompute_without_the_key_is_detected(rt):
    _record(rt, 5)
    with rt.factory() as s:
        third = _ids(s)[2]
        s.execute(text("UPDATE audit_events SET details = :d WHERE id = :id"), {"d": '{"i":99}', "id": third})
        s.commit()
        _recompute_unkeyed(s)
        report = verify_chain(s)
        ids = _ids(s)
    assert not report.ok
    assert {event_id for event_id, _ in report.problems} == set(ids)  # every rewritten row


def test_two_tampered_rows_are_both_named(rt):
    _record(rt, 6)
    with rt.factory() as s:
        ids = _ids(s)
        for victim in (ids[1], ids[4]):
            s.execute(text("UPDATE audit_events SET actor_name = 'mallory' WHERE id = :id"), {"id": victim})
        s.commit()
        report = verify_chain(s)
    assert [event_id for event_id, _ in report.problems] == [ids[1], ids[4]]
    assert all("篡改" in reason for _, reason in report.problems)


def test_deleted_middle_rows_are_all_named(rt):
    _record(rt, 7)
    with rt.factory() as s:
        ids = _ids(s)
        s.execute(text("DELETE FROM audit_events WHERE id IN (:a, :b)"), {"a": ids[1], "b": ids[4]})
        s.commit()
        report = verify_chain(s)
    assert [event_id for event_id, _ in report.problems] == [ids[2], ids[5]]


def test_deleting_the_newest_row_and_moving_the_head_is_caught_by_the_anchor(rt):
    _record(rt, 4)
    with rt.factory() as s:
        name = write_anchor(s, rt.store, rt.clock)
        assert name and name.startswith("audit-anchors/")
        assert write_anchor(s, rt.store, rt.clock) is None  # nothing new
        assert verify_anchors(s, rt.store) == (1, [])
        ids = _ids(s)
        prev = s.scalar(select(AuditEvent.hash).where(AuditEvent.id == ids[-2]))
        s.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[-1]})
        s.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": prev})
        s.commit()
        assert verify_chain(s).ok  # the chain alone looks fine …
        checked, problems = verify_anchors(s, rt.store)
    assert checked == 1 and len(problems) == 1  # … the anchor is not
    assert str(ids[-1]) in problems[0][1]


def test_downgrading_to_unkeyed_hashes_is_caught_by_the_anchor(rt):
    _record(rt, 4)
    with rt.factory() as s:
        write_anchor(s, rt.store, rt.clock)
        _recompute_unkeyed(s, era=0)  # every row claims to be from before the upgrade
        assert verify_chain(s).ok
        _, problems = verify_anchors(s, rt.store)
    assert len(problems) == 1 and "改写" in problems[0][1]


def test_a_forged_anchor_is_refused(rt):
    _record(rt, 2)
    with rt.factory() as s:
        last = s.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc())).first()
        body = {"event_id": last.id, "hash": last.hash, "count": 2, "at": "2026-01-01T00:00:00Z", "mac": "0" * 64}
        rt.store.put_record("audit-anchors/999999999999-forged.json", json.dumps(body).encode())
        _, problems = verify_anchors(s, rt.store)
    assert [n for n, _ in problems] == ["audit-anchors/999999999999-forged.json"]


def test_anchors_are_write_once(rt):
    from archive_service.errors import Conflict

    rt.store.put_record("audit-anchors/000000000001-x.json", b"{}")
    with pytest.raises(Conflict):
        rt.store.put_record("audit-anchors/000000000001-x.json", b"{}")


def test_version_re_pointed_at_another_blob_is_named(rt):
    owner = user(rt, department(rt), "drafter")
    with rt.factory() as s:
        u = s.scalar(select(User).where(User.username == owner))
        docs = rt.documents(s)
        a = docs.upload(u, io.BytesIO("甲方合同正文".encode()), "甲.txt", "甲")
        b = docs.upload(u, io.BytesIO("乙方合同正文".encode()), "乙.txt", "乙")
        s.commit()
        a_id, b_sha = a.id, b.versions[0].blob_sha256
    with rt.factory() as s:
        assert verify_versions(s)[1] == []
        s.execute(text("UPDATE document_versions SET blob_sha256 = :sha WHERE document_id = :d"),
                  {"sha": b_sha, "d": a_id})
        s.commit()
        checked, problems = verify_versions(s)
    assert checked == 2 and [(d, n) for d, n, _ in problems] == [(a_id, 1)]
    assert "改指" in problems[0][2]


def test_unkeyed_chain_from_before_the_upgrade_keeps_verifying(empty_settings):
    from archive_service.db import migrate
    from archive_service.runtime import Runtime

    runtime = Runtime.build(empty_settings)
    try:
        migrate(runtime.engine, "security_0001")  # the schema before the chain was keyed
        prev = "0" * 64
        with runtime.engine.begin() as conn:
            conn.execute(text("INSERT INTO audit_head (id, last_hash) VALUES (1, :h)"), {"h": prev})
            for i in range(1, 4):
                at = datetime(2026, 1, 1, 0, 0, i)
                row = dict(id=i, at=at, actor_id=None, actor_name="system", department_id=None, action="old.event",
                           target_type="thing", target_id=str(i), details="{}", prev_hash=prev)
                h = hashlib.sha256(_message(type("E", (), row))).hexdigest()
                conn.execute(text("INSERT INTO audit_events (id, at, actor_id, actor_name, department_id, action, "
                                  "target_type, target_id, details, prev_hash, hash) VALUES (:id, :at, :actor_id, "
                                  ":actor_name, :department_id, :action, :target_type, :target_id, :details, "
                                  ":prev_hash, :hash)"), {**row, "hash": h})
                prev = h
            conn.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": prev})
            if conn.dialect.name == "postgresql":  # rows with explicit ids do not move the sequence
                conn.execute(text("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), 3)"))
        migrate(runtime.engine)
        _record(runtime, 2, "new.event")
        with runtime.factory() as s:
            eras = [e.key_era for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
            report = verify_chain(s)
            assert eras == [0, 0, 0, 1, 1] and report.ok and report.checked == 5, report.problems
            # an old row edited and its hash recomputed breaks the link the first keyed event holds
            s.execute(text("UPDATE audit_events SET details = :d WHERE id = 2"), {"d": '{"x":1}'})
            s.commit()
            _recompute_unkeyed_prefix(s, upto=3)
            assert [event_id for event_id, _ in verify_chain(s).problems] == [4]
    finally:
        runtime.engine.dispose()


def _recompute_unkeyed_prefix(s, upto):
    prev = "0" * 64
    for ev in s.execute(select(AuditEvent.__table__).where(AuditEvent.id <= upto).order_by(AuditEvent.id)).all():
        h = hashlib.sha256(_message(type("E", (), dict(ev._mapping, prev_hash=prev)))).hexdigest()
        s.execute(text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE id = :id"),
                  {"p": prev, "h": h, "id": ev.id})
        prev = h
    s.commit()


def test_worker_anchors_the_head(rt):
    _record(rt, 2)
    assert rt.worker().anchor_audit()
    names = list(rt.store.list_records("audit-anchors/"))
    assert len(names) == 1
    data = json.loads(rt.store.read_record(names[0]))
    assert data["count"] == 2 and len(data["mac"]) == 64


def test_s3_anchor_is_locked(s3_endpoint, rt):
    from archive_service.storage.s3 import S3Store
    from s3peer import ACCESS_KEY, SECRET_KEY

    store = S3Store(s3_endpoint, ACCESS_KEY, SECRET_KEY, f"anchors-{uuid.uuid4().hex[:12]}", object_lock=True)
    _record(rt, 2)
    with rt.factory() as s:
        name = write_anchor(s, store, rt.clock, retention_days=1)
        assert verify_anchors(s, store) == (1, [])
    meta = store.client.stat_object(store.bucket, "records/" + name).metadata
    assert meta.get("x-amz-object-lock-mode") == "COMPLIANCE"
    until = datetime.fromisoformat(meta["x-amz-object-lock-retain-until-date"].replace("Z", "+00:00"))
    assert until > datetime.now(UTC) + timedelta(hours=12)


def test_verify_command_names_every_problem(tmp_path, database_url, monkeypatch):
    from archive_service.cli import main
    from archive_service.runtime import Runtime
    from archive_service.settings import Settings

    monkeypatch.setenv("ARCHIVE_INSTANCE", str(tmp_path / "inst"))
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", database_url)
    runner = CliRunner()
    assert runner.invoke(main, ["init"], catch_exceptions=False).exit_code == 0
    rt = Runtime.build(Settings.from_env())
    try:
        owner = user(rt, department(rt), "drafter")
        with rt.factory() as s:
            u = s.scalar(select(User).where(User.username == owner))
            a = rt.documents(s).upload(u, io.BytesIO(b"first text"), "a.txt", "a")
            b = rt.documents(s).upload(u, io.BytesIO(b"second text"), "b.txt", "b")
            s.commit()
            a_id, b_sha = a.id, b.versions[0].blob_sha256
        ok = runner.invoke(main, ["audit-anchor"], catch_exceptions=False)
        assert ok.exit_code == 0 and "anchor written" in ok.output
        clean = runner.invoke(main, ["verify"], catch_exceptions=False)
        assert clean.exit_code == 0, clean.output
        with rt.factory() as s:
            ids = _ids(s)
            s.execute(text("UPDATE audit_events SET actor_name = 'x' WHERE id IN (:a, :b)"), {"a": ids[1], "b": ids[2]})
            s.execute(text("UPDATE document_versions SET blob_sha256 = :sha WHERE document_id = :d"),
                      {"sha": b_sha, "d": a_id})
            last = s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()))
            s.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": last})
            s.commit()
    finally:
        rt.engine.dispose()
    out = runner.invoke(main, ["verify"], catch_exceptions=False)
    assert out.exit_code == 1
    assert f"AUDIT CHAIN BROKEN at event {ids[1]}" in out.output
    assert f"AUDIT CHAIN BROKEN at event {ids[2]}" in out.output
    assert f"VERSION FAIL document {a_id} v1" in out.output
    assert "AUDIT ANCHOR FAIL" in out.output
