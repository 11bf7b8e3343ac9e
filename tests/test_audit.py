"""The audit chain: append-only, tamper-evident, reported by `verify`."""
from sqlalchemy import select, text

from archive_service.audit import AuditLog, verify_chain
from archive_service.models import AuditEvent


def _record(rt, n):
    with rt.factory() as s:
        for i in range(n):
            AuditLog(s, rt.clock).record(None, "test.event", "thing", i, {"i": i, "名称": "测试"})
        s.commit()


def test_chain_links_every_event(rt):
    _record(rt, 5)
    with rt.factory() as s:
        events = s.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
        assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
        assert verify_chain(s).ok and verify_chain(s).checked == 5


def test_edited_row_is_named(rt):
    _record(rt, 5)
    with rt.factory() as s:
        third = s.execute(select(AuditEvent.id).order_by(AuditEvent.id).offset(2)).scalar()
        s.execute(text("UPDATE audit_events SET details = :d WHERE id = :id"), {"d": '{"i":99}', "id": third})
        s.commit()
        report = verify_chain(s)
    assert not report.ok
    assert report.broken_id == third
    assert "篡改" in report.reason


def test_deleted_row_is_named(rt):
    _record(rt, 5)
    with rt.factory() as s:
        ids = s.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars().all()
        s.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[1]})
        s.commit()
        report = verify_chain(s)
    assert report.broken_id == ids[2]


def test_truncated_tail_is_detected(rt):
    _record(rt, 3)
    with rt.factory() as s:
        last = s.execute(select(AuditEvent.id).order_by(AuditEvent.id.desc())).scalar()
        s.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": last})
        s.commit()
        assert not verify_chain(s).ok
