"""The transactional outbox: rows written with a change, drained by workers exactly once."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .clock import Clock
from .models import OutboxEntry

SEARCH = "search"


def enqueue(session: Session, clock: Clock, document_id: int, revision: int, topic: str = SEARCH) -> None:
    now = clock.now()
    session.add(OutboxEntry(topic=topic, document_id=document_id, revision=revision, created_at=now,
                            available_at=now, attempts=0))


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
