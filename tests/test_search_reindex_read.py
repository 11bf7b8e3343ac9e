"""Reindexing reads documents a batch of consecutive ids at a time (by id range, not a list of ids):
every document is read once with its grants, whatever the gaps in the ids."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from archive_service.indexing import iter_records, load_records
from archive_service.models import Document, DocumentGrant


def test_reindex_batches_by_id_range_read_every_document_with_its_grants(rt, make):
    owner = make.user(username="owner")
    other, third = make.department(name="县司法局"), make.department(name="县财政局")
    docs = [make.document(owner) for _ in range(7)]
    now = rt.clock.now()
    with rt.transaction() as s:
        s.add_all([DocumentGrant(document_id=docs[1].id, department_id=other.id, reason="recipient", granted_at=now),
                   DocumentGrant(document_id=docs[4].id, department_id=third.id, reason="lookup", granted_at=now,
                                 until=now + timedelta(days=3)),
                   DocumentGrant(document_id=docs[5].id, department_id=other.id, reason="lookup", granted_at=now,
                                 until=now - timedelta(days=1))])  # expired: not in the record
        s.execute(delete(Document).where(Document.id == docs[3].id))  # a gap in the ids
    kept = [d.id for i, d in enumerate(docs) if i != 3]
    with rt.factory() as s:
        expected = {r["id"]: r for r in load_records(s, rt.store, rt.clock, kept)}  # by a list of ids
        records = list(iter_records(s, rt.store, rt.clock, batch=2))
    mine = [r for r in records if int(r["id"]) in kept]
    assert [r["id"] for r in mine] == [str(i) for i in kept]
    assert {r["id"]: r for r in mine} == expected
    grants = {int(r["id"]): r["grants"] for r in mine}
    assert grants[docs[1].id] == [other.id] and grants[docs[4].id] == [third.id] and grants[docs[5].id] == []
