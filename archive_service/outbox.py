"""The transactional outbox: rows written with a change, drained by workers exactly once."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from .clock import Clock
from .models import OutboxEntry

SEARCH = "search"


def enqueue(session: Session, clock: Clock, document_id: int, revision: int, topic: str = SEARCH) -> None:
    now = clock.now()
    session.add(OutboxEntry(topic=topic, document_id=document_id, revision=revision, created_at=now,
                            available_at=now, attempts=0))


def enqueue_many(session: Session, clock: Clock, entries: list[tuple[int, int]], topic: str = SEARCH) -> None:
    """``enqueue`` for many ``(document_id, revision)`` at once, inserted as one batch (ids reserved)."""
    from sqlalchemy import insert

    from .db import reserve_ids

    now = clock.now()
    ids = reserve_ids(session, OutboxEntry.__table__, len(entries))
    if entries:
        session.execute(insert(OutboxEntry), [
            dict(id=i, topic=topic, document_id=d, revision=r, created_at=now, available_at=now, attempts=0)
            for i, (d, r) in zip(ids, entries, strict=True)])


def claim(session: Session, clock: Clock, topic: str, limit: int) -> list[OutboxEntry]:
    """Rows ready to handle, locked for this transaction. On PostgreSQL other workers skip them."""
    q = (select(OutboxEntry)
         .where(OutboxEntry.topic == topic, OutboxEntry.processed_at.is_(None),
                OutboxEntry.available_at <= clock.now())
         .order_by(OutboxEntry.id).limit(limit)
         .with_for_update(skip_locked=True))
    return list(session.execute(q).scalars())


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** attempts, 600))


# -- access changes announce themselves ----------------------------------------------------------
# Search filters by department inside the engine, so a new, changed or removed grant and a change of
# the catalogue flag must reach the index. Rather than trusting every feature to remember, one flush
# hook bumps the document's revision and writes the outbox row in the same transaction.
IMMEDIATELY = datetime(2000, 1, 1)


@event.listens_for(Session, "before_flush")
def _announce_access_changes(session: Session, _flush_context, _instances) -> None:
    from .models import Document, DocumentGrant

    touched: set[int] = set()
    for obj in list(session.new) + list(session.deleted):
        if isinstance(obj, DocumentGrant) and obj.document_id is not None:
            touched.add(obj.document_id)
    for obj in session.dirty:
        state = inspect(obj)
        if isinstance(obj, DocumentGrant) and state.attrs.until.history.has_changes():
            touched.add(obj.document_id)
        elif isinstance(obj, Document) and state.attrs.catalogue.history.has_changes():
            touched.add(obj.id)
    if not touched:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    with session.no_autoflush:
        for doc_id in sorted(touched):
            doc = session.get(Document, doc_id)
            if doc is None or doc in session.deleted:
                continue
            doc.revision += 1
            session.add(OutboxEntry(topic=SEARCH, document_id=doc_id, revision=doc.revision, created_at=now,
                                    available_at=IMMEDIATELY, attempts=0))
