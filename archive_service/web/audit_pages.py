"""The auditor's view of the audit log, with filters and CSV export."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, render_template, request
from sqlalchemy import select

from .. import permissions
from ..audit import AuditLog, export_csv, verify_chain
from ..listing import Cursor, KeysetPage
from ..models import AuditEvent
from .apispec import parse_query
from .context import current_user, db, runtime
from .pages import login_required
from .paging import keyset_args
from .schemas import AuditFilter

bp = Blueprint("audit", __name__, url_prefix="/audit")


def audit_query(args):
    q = select(AuditEvent).order_by(AuditEvent.id.desc())
    if args.get("action"):
        q = q.where(AuditEvent.action.startswith(args["action"].strip()))
    if args.get("actor"):
        q = q.where(AuditEvent.actor_name == args["actor"].strip())
    if args.get("target"):
        q = q.where(AuditEvent.target_id == args["target"].strip())
    return q


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


@bp.get("/")
@login_required
def index():
    permissions.require_auditor(current_user())
    page = audit_page(db(), parse_query(AuditFilter).model_dump(exclude_none=True), **keyset_args(50))
    chain = verify_chain(db()) if request.args.get("verify") else None
    filters = {k: request.args[k] for k in ("action", "actor", "target", "from") if request.args.get(k)}
    return render_template("ui/audit.html", events=page.items, page=page, chain=chain, args=request.args,
                           filters=filters)


@bp.get("/export.csv")
@login_required
def export():
    permissions.require_auditor(current_user())
    session = db()
    AuditLog(session, runtime().clock).record(current_user(), "audit.exported", "audit", "csv",
                                              {k: v for k, v in request.args.items()})
    session.commit()
    query = audit_query(parse_query(AuditFilter).model_dump(exclude_none=True)).execution_options(yield_per=1000)
    factory = runtime().factory

    def rows():
        with factory() as own:  # a session of its own: the stream outlives the request's session
            yield from export_csv(own.execute(query).scalars())

    resp = Response(rows(), mimetype="text/csv; charset=utf-8")
    resp.headers["Content-Disposition"] = "attachment; filename=\"audit.csv\"; filename*=UTF-8''%E5%AE%A1%E8%AE%A1%E6%97%A5%E5%BF%97.csv"
    return resp
