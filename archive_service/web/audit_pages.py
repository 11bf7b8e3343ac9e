"""The auditor's view of the audit log, with filters and CSV export."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from sqlalchemy import select

from .. import permissions
from ..audit import AuditLog, export_csv, verify_chain
from ..models import AuditEvent
from .context import current_user, db, runtime
from .pages import login_required
from .transfer import page_args

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


@bp.get("/")
@login_required
def index():
    permissions.require_auditor(current_user())
    page, size = page_args(50)
    events = db().execute(audit_query(request.args).offset((page - 1) * size).limit(size + 1)).scalars().all()
    chain = verify_chain(db()) if request.args.get("verify") else None
    return render_template("ui/audit.html", events=events[:size], has_next=len(events) > size, page=page,
                           size=size, chain=chain, args=request.args)


@bp.get("/export.csv")
@login_required
def export():
    permissions.require_auditor(current_user())
    session = db()
    AuditLog(session, runtime().clock).record(current_user(), "audit.exported", "audit", "csv",
                                              {k: v for k, v in request.args.items()})
    session.commit()
    query = audit_query(request.args).execution_options(yield_per=1000)
    factory = runtime().factory

    def rows():
        with factory() as own:  # a session of its own: the stream outlives the request's session
            yield from export_csv(own.execute(query).scalars())

    resp = Response(rows(), mimetype="text/csv; charset=utf-8")
    resp.headers["Content-Disposition"] = "attachment; filename=\"audit.csv\"; filename*=UTF-8''%E5%AE%A1%E8%AE%A1%E6%97%A5%E5%BF%97.csv"
    return resp
