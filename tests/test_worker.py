"""The worker drains the outbox exactly once, even with several workers on PostgreSQL."""
import io
import threading

from sqlalchemy import func, select

from archive_service.models import OutboxEntry
from factories import Make
from tests_support import PG_ONLY


class RecordingSink:
    def __init__(self, fail_times=0):
        self.seen = []
        self.fail_times = fail_times
        self.lock = threading.Lock()

    def apply(self, session, entries):
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("search backend down")
        with self.lock:
            self.seen.extend(e.id for e in entries)


def _upload_many(rt, n):
    with rt.transaction() as s:
        user = Make(rt, s).user()
        for i in range(n):
            rt.documents(s).upload(user, io.BytesIO(f"document {i}".encode()), f"{i}.txt")


def _pending(rt):
    with rt.factory() as s:
        return s.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.processed_at.is_(None)))


def test_drain_marks_rows_processed(rt):
    sink = RecordingSink()
    _upload_many(rt, 5)
    worker = rt.worker(search=sink)
    while worker.drain_outbox():
        pass
    assert _pending(rt) == 0
    assert len(sink.seen) == len(set(sink.seen)) >= 5


def test_failing_sink_keeps_rows_with_reason_and_backoff(rt):
    sink = RecordingSink(fail_times=1)
    _upload_many(rt, 2)
    worker = rt.worker(search=sink)
    assert worker.drain_outbox() == 0
    with rt.factory() as s:
        row = s.scalars(select(OutboxEntry).where(OutboxEntry.processed_at.is_(None))).first()
        assert row.attempts == 1 and "search backend down" in row.last_error
        assert row.available_at > rt.clock.now()
    assert _pending(rt) > 0


def test_run_once_does_housekeeping(rt):
    _upload_many(rt, 2)
    assert _pending(rt) == 2
    worker = rt.worker(search=RecordingSink())
    worker.run(once=True)
    assert _pending(rt) == 0


@PG_ONLY
def test_two_workers_handle_each_row_exactly_once(rt):
    _upload_many(rt, 120)
    sink = RecordingSink()
    workers = [rt.worker(search=sink, batch=7, name=f"w{i}") for i in range(2)]

    def drain(w):
        while w.drain_outbox():
            pass

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _pending(rt) == 0
    assert len(sink.seen) == len(set(sink.seen))
    with rt.factory() as s:
        total = s.scalar(select(func.count()).select_from(OutboxEntry))
        by = dict(s.execute(select(OutboxEntry.processed_by, func.count()).group_by(OutboxEntry.processed_by)).all())
    assert len(sink.seen) == total
    assert set(by) == {"w0", "w1"}, "both workers should have taken rows"


def test_grants_and_catalogue_changes_reach_the_outbox(rt):
    """Search filters by department in the engine: access changes must be re-indexed."""
    from archive_service.models import Document, DocumentGrant

    _upload_many(rt, 1)
    with rt.factory() as s:
        doc = s.scalars(select(Document).order_by(Document.id.desc())).first()
        other = Make(rt, s).user()  # of another department
        before = (doc.revision, s.scalar(select(func.count()).select_from(OutboxEntry)))
        grant = DocumentGrant(document_id=doc.id, department_id=other.department_id, reason="lookup",
                              granted_at=rt.clock.now())
        s.add(grant)
        s.commit()
        assert doc.revision == before[0] + 1
        doc.catalogue = True
        s.commit()
        s.delete(grant)
        s.commit()
        rows = s.scalars(select(OutboxEntry).where(OutboxEntry.document_id == doc.id)
                         .order_by(OutboxEntry.id)).all()
        assert len(rows) >= 4  # the upload, the grant, the catalogue flag, the revoked grant
        assert [r.revision for r in rows[-3:]] == [before[0] + 1, before[0] + 2, before[0] + 3]
