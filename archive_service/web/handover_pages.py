"""Handover pages: 移交 (my manifests by state, a new manifest three ways, the manifest page) and 待接收."""
from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..archive.models import RETENTIONS
from ..errors import DomainError, Unprocessable
from ..handover.models import PURPOSES, STATES
from ..handover.service import organisation
from ..permissions import has_role
from . import mywork
from .apispec import parse_query, query_dict, validate_form
from .context import after_commit, db, signed_in_user
from .handover_api import (
    HandoverAction,
    HandoverPatch,
    ItemSelection,
    NewHandover,
    RevisionQuery,
    create_from,
    handover_json,
    lock_records,
    service,
)
from .pages import login_required
from .services import services

bp = Blueprint("handover_pages", __name__)
ACTION_LABELS = {"submit": "提交", "sign": "签署", "receive": "接收并检验", "accept": "同意接收", "reject": "退回"}


def _ids(text: str | None) -> list[str]:
    """The item ids of a form field: separated by commas (either width) or spaces."""
    return [x for x in (text or "").replace("，", ",").replace(" ", ",").split(",") if x.strip()]


@bp.route("/handovers", methods=["GET", "POST"])
@login_required
def index():
    user = signed_in_user()
    svc = service()
    org = organisation(user.department)
    if request.method == "POST":
        form = request.form
        select = query_dict(ItemSelection, form)
        query = form.get("query", "").strip()
        body = validate_form(NewHandover, {**query_dict(NewHandover, form), "items": _ids(form.get("items")),
                                           "select": select or None, "query": query or None})
        try:
            h = create_from(svc, body)
            return redirect(url_for("handover_pages.show", handover_id=h.id))
        except DomainError as exc:
            db().rollback()
            flash(exc.message)
    mine = [h for h in svc.mine(user) if h.from_department_id == org.id]
    departments = [d for d in services().roster.organisations(by_code=True) if d.id != org.id]
    return render_template("ui/handover/list.html", rows=mine, STATES=STATES, PURPOSES=PURPOSES,
                           departments=departments, RETENTIONS=RETENTIONS, incoming=False,
                           can_create=has_role(user, "archivist"))


@bp.get("/handovers/incoming")
@login_required
def incoming():
    user = signed_in_user()
    org = organisation(user.department)
    rows = [h for h in service().mine(user) if h.to_department_id == org.id]
    return render_template("ui/handover/list.html", rows=rows, STATES=STATES, incoming=True, can_create=False)


@bp.get("/handovers/<int:handover_id>")
@login_required
def show(handover_id: int):
    svc = service()
    h = svc.get(signed_in_user(), handover_id)
    data = handover_json(svc, h)
    number = parse_query(RevisionQuery).revision
    report = svc.report(h, number)
    editable = h.state in {"draft", "rejected"} and has_role(signed_in_user(), "archivist") \
        and organisation(signed_in_user().department).id == h.from_department_id
    return render_template("ui/handover/show.html", h=h, data=data, report=report, ACTION_LABELS=ACTION_LABELS,
                           revision=number or h.revision, editable=editable)


@bp.post("/handovers/<int:handover_id>/act")
@login_required
def act(handover_id: int):
    svc = service()
    user = signed_in_user()
    try:
        exceptions = json.loads(request.form.get("exceptions") or "[]")
    except ValueError:
        raise Unprocessable("例外说明：格式不正确（应为 JSON 列表）", field="exceptions") from None
    try:
        exceptions += _ticked_exceptions(request.form)
    except DomainError as exc:
        flash(exc.message)  # nothing changed: the page shows the report again with the message
        return redirect(url_for("handover_pages.show", handover_id=handover_id))
    body = validate_form(HandoverAction, {**query_dict(HandoverAction, request.form), "exceptions": exceptions})
    action = body.action
    try:
        h = svc.get(user, handover_id)
        svc.act(user, h, action, body.reason, [e.model_dump() for e in body.exceptions])
        after_commit(lambda: lock_records(svc, h))
        flash(f"已{ACTION_LABELS.get(action, action)}，当前状态：{h.state_label}")
    except DomainError as exc:
        db().rollback()
        flash(exc.message)
    return redirect(url_for("handover_pages.show", handover_id=handover_id))


def _ticked_exceptions(form) -> list[dict]:
    """The report table's ticked "作为例外" boxes (``item_id:check``) with their reasons."""
    out = []
    for key in form.getlist("exception"):
        item_id, _, check = key.partition(":")
        if not item_id.isdigit() or not check:
            raise Unprocessable("例外说明：检测项不正确", field="exception")
        reason = (form.get(f"reason:{key}") or "").strip()
        if not reason:
            raise Unprocessable("勾选为例外的检测项须写明理由", field=f"reason:{key}")
        out.append({"item_id": int(item_id), "check": check, "reason": reason})
    return out


@bp.post("/handovers/<int:handover_id>/edit")
@login_required
def edit(handover_id: int):
    """The sender changes a draft's items, or makes a rejected manifest's next revision."""
    svc = service()
    user = signed_in_user()
    body = validate_form(HandoverPatch, {"items": _ids(request.form.get("items")) or None})
    try:
        h = svc.get(user, handover_id)
        svc.edit(user, h, body.items)
        flash(f"已修改，当前为第 {h.revision} 版")
    except DomainError as exc:
        db().rollback()
        flash(exc.message)
    return redirect(url_for("handover_pages.show", handover_id=handover_id))


def work_sections(user):
    """我的工作: manifests to submit, sign, receive or accept, and rejected ones to fix."""
    if not has_role(user, "archivist", "signer"):
        return []
    todo = service().to_do(user)
    labels = {"submit": "待提交", "sign": "待签署", "receive": "待接收", "accept": "待同意接收", "fix": "被退回待修改"}
    return [mywork.WorkSection("移交与接收", [
        mywork.WorkItem(h.name, url_for("handover_pages.show", handover_id=h.id), note=labels[what])
        for h, what in todo[:8]], 33)] if todo else []
