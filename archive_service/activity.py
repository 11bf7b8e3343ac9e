"""Reading the audit log for pages: a user's recent activity and an object's trail (the auditor's
filtered view is ``audit_query``)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from .listing import Cursor, KeysetPage
from .models import AuditEvent, User


def recent_activity(session: Session, user: User, limit: int = 15) -> list[AuditEvent]:
    """The user's own and their department's latest events: two index range scans, merged."""
    scans = ((AuditEvent.actor_id, user.id), (AuditEvent.department_id, user.department_id))
    events = {e.id: e for column, value in scans
              for e in session.scalars(select(AuditEvent).where(column == value)
                                       .order_by(AuditEvent.id.desc()).limit(limit))}
    return sorted(events.values(), key=lambda e: e.id, reverse=True)[:limit]


def trail(session: Session, target_type: str, target_id) -> list[AuditEvent]:
    """Every event about one object, oldest first."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.target_type == target_type,
                                                        AuditEvent.target_id == str(target_id))
                                .order_by(AuditEvent.id)))


def audit_query(args) -> Select:
    """The auditor's view: newest first, filtered by action prefix, actor and target."""
    q = select(AuditEvent).order_by(AuditEvent.id.desc())
    if args.get("action"):
        q = q.where(AuditEvent.action.startswith(args["action"].strip()))
    if args.get("actor"):
        q = q.where(AuditEvent.actor_name == args["actor"].strip())
    if args.get("target"):
        q = q.where(AuditEvent.target_id == args["target"].strip())
    return q


def audit_offset_page(session, args, page: int, size: int) -> list[AuditEvent]:
    """Events newest first by page number (OFFSET paging, kept for older clients; deep pages are slow)."""
    return list(session.scalars(audit_query(args).offset((page - 1) * size).limit(size)))


def audit_rows(session, args) -> Iterator[AuditEvent]:
    """Every event the filters select, newest first, streamed in batches (the CSV export)."""
    yield from session.scalars(audit_query(args).execution_options(yield_per=1000))


def audit_page(session, args, size: int, after: Cursor | None = None, before: Cursor | None = None,
               start: datetime | None = None) -> KeysetPage:
    """Events newest first by id, by keyset (``id < cursor``); ``start`` jumps to the last event before it.

    Every filter has an index ending in ``id`` (migration firsthour_0001), so a page is one range scan."""
    q = audit_query(args)
    if start is not None:  # ids grow with time (the chain appends): find the boundary through the `at` index
        boundary = session.scalar(select(AuditEvent.id).where(AuditEvent.at < start)
                                  .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1))
        q = q.where(AuditEvent.id <= (boundary or 0))
    if before is not None:
        rows = session.scalars(q.where(AuditEvent.id > before.id).order_by(None).order_by(AuditEvent.id)
                               .limit(size + 1)).all()
        more_newer, rows = len(rows) > size, rows[:size][::-1]
        more_older = True
    else:
        if after is not None:
            q = q.where(AuditEvent.id < after.id)
        rows = session.scalars(q.limit(size + 1)).all()
        more_older, rows = len(rows) > size, rows[:size]
        more_newer = after is not None or start is not None
    page = KeysetPage(list(rows), size, start=start)
    if rows:
        page.next_cursor = Cursor(rows[-1].at, rows[-1].id).encode() if more_older else None
        page.prev_cursor = Cursor(rows[0].at, rows[0].id).encode() if more_newer else None
    return page
