"""The auditor's view of the audit log, with filters and CSV export."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from .. import permissions
from .apispec import parse_query
from .context import signed_in_user
from .pages import login_required
from .paging import keyset_args
from .schemas import AuditFilter
from .services import services

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@login_required
def index():
    permissions.require_auditor(signed_in_user())
    reader = services().activity
    page = reader.page(parse_query(AuditFilter).model_dump(exclude_none=True), **keyset_args(50))
    chain = reader.verify_chain() if request.args.get("verify") else None
    filters = {k: request.args[k] for k in ("action", "actor", "target", "from") if request.args.get(k)}
    return render_template("ui/audit.html", events=page.items, page=page, chain=chain, args=request.args,
                           filters=filters, departments=reader.department_names())


@bp.get("/export.csv")
@login_required
def export():
    permissions.require_auditor(signed_in_user())
    services().audit.record(signed_in_user(), "audit.exported", "audit", "csv",
                            {k: v for k, v in request.args.items()})
    # committed by the request's unit of work before the body streams
    filters = parse_query(AuditFilter).model_dump(exclude_none=True)
    resp = Response(services().audit_csv(filters), mimetype="text/csv; charset=utf-8")
    resp.headers["Content-Disposition"] = ("attachment; filename=\"audit.csv\"; "
                                           "filename*=UTF-8''%E5%AE%A1%E8%AE%A1%E6%97%A5%E5%BF%97.csv")
    return resp
