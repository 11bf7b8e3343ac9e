"""Archive lookup pages (调阅): my requests and the shared catalogue, a request with its per-item
decisions and access log, the reader (page images, no download), and 调阅审批 (the holder's queue)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..clock import local_time
from ..errors import DomainError, NotFound
from ..lookup.models import DECISIONS, FORMS
from ..lookup.service import TRIGRAM
from ..permissions import has_role
from . import mywork
from .apispec import parse_query, query_dict, validate_form
from .context import db, signed_in_user
from .lookup_api import CatalogueSearch, LookupAction, NewLookup, _granted, _pdf, access_json, draft_letter, lookups
from .pages import login_required

bp = Blueprint("lookup_pages", __name__)


@bp.get("/lookups")
@login_required
def index():
    user = signed_in_user()
    svc = lookups()
    search = parse_query(CatalogueSearch)
    q = search.q.strip()
    rows, next_after = svc.catalogue_page(q, 50, search.after) if q else ([], None)
    found = [i for i in rows if i.department_id != user.department_id]
    return render_template("ui/lookup/index.html", mine=svc.mine(user), found=found, q=q, svc=svc, FORMS=FORMS,
                           next_after=next_after, short=0 < len(q) < TRIGRAM)


@bp.post("/lookups")
@login_required
def create():
    user = signed_in_user()
    svc = lookups()
    f = request.form
    body = validate_form(NewLookup, {**query_dict(NewLookup, f), "items": [
        {"item_id": v, "form": f.get(f"form_{v}") or "view"} for v in f.getlist("item_id") if v]})
    try:
        req = svc.create(user, [(i.item_id, i.form) for i in body.items], body.purpose, body.days, body.contact)
    except DomainError as exc:
        db().rollback()
        flash(exc.message)
        return redirect(url_for("lookup_pages.index", q=f.get("q", "")))
    flash(f"已提交调阅申请 {req.number}")
    return redirect(url_for("lookup_pages.detail", lookup_id=req.id))


@bp.get("/lookups/<int:lookup_id>")
@login_required
def detail(lookup_id: int):
    user = signed_in_user()
    svc = lookups()
    req = svc.get(user, lookup_id)
    events = [access_json(e) for e in svc.accesses(user, req)]
    holder_side = req.department_id != user.department_id
    can_decide = holder_side and any(svc.can_decide(user, req, li) for li in req.items)
    return render_template("ui/lookup/detail.html", req=req, svc=svc, events=events, holder_side=holder_side,
                           can_decide=can_decide, DECISIONS=DECISIONS, local_time=local_time,
                           leader=svc.awaiting_leader(req) and not holder_side and user.id != req.requester_id
                           and has_role(user, "signer", "reviewer"))


@bp.post("/lookups/<int:lookup_id>/actions")
@login_required
def act(lookup_id: int):
    user = signed_in_user()
    svc = lookups()
    f = request.form
    body = validate_form(LookupAction, {**query_dict(LookupAction, f), "items": [v for v in f.getlist("item") if v]})
    try:
        svc.act(user, svc.get(user, lookup_id), body.action, list(body.items), body.reason, body.days)
        flash("已办理")
    except DomainError as exc:
        db().rollback()
        flash(exc.message)
    return redirect(url_for("lookup_pages.detail", lookup_id=lookup_id))


@bp.post("/lookups/<int:lookup_id>/letter")
@login_required
def letter(lookup_id: int):
    user = signed_in_user()
    svc = lookups()
    try:
        letter_id = draft_letter(user, svc.get(user, lookup_id))
    except DomainError as exc:
        db().rollback()
        flash(exc.message)
        return redirect(url_for("lookup_pages.detail", lookup_id=lookup_id))
    flash("已生成调阅函草稿，请核对后提交核稿")
    return redirect(url_for("letters.detail", letter_id=letter_id))


@bp.get("/lookups/read/<int:item_id>")
@login_required
def reader(item_id: int):
    li = _granted(item_id, "view")
    from ..lookup import copies

    n = copies.page_count(_pdf(li))
    return render_template("ui/lookup/reader.html", li=li, pages=range(1, n + 1), local_time=local_time)


@bp.get("/lookups/items/<int:item_id>/accesses")
@login_required
def item_accesses(item_id: int):
    """The holder's view of every lookup access to one item (the archive's item page links here)."""
    from .services import services

    item = services().archive.get(signed_in_user(), item_id)  # the holder only (404 otherwise)
    events = [access_json(e) for e in lookups().item_accesses(item.id)]
    return render_template("ui/lookup/item_accesses.html", item=item, events=events)


@bp.get("/lookups/queue")
@login_required
def queue():
    user = signed_in_user()
    svc = lookups()
    if not has_role(user, "archivist", "signer"):
        raise NotFound("页面不存在")
    return render_template("ui/lookup/queue.html", rows=svc.queue(user), svc=svc)


def work_sections(user):
    """我的工作: requests to decide (with the working-day due date), grants ending within one working
    day, and overdue decisions on both sides; leaders see their department's requests to approve."""
    svc = lookups()
    work = svc.work(user)
    url = lambda r: url_for("lookup_pages.detail", lookup_id=r.id)  # noqa: E731
    return [
        mywork.WorkSection("待审批的调阅申请", [
            mywork.WorkItem(f"{r.number} {r.department.name}（{len(r.items)} 件）", url(r), due=r.due_on,
                            overdue=svc.overdue(r)) for r in work["to_decide"]], 33),
        mywork.WorkSection("待本单位负责人同意的调阅申请", [
            mywork.WorkItem(f"{r.number} {r.requester.full_name}", url(r)) for r in work["leader"]], 34),
        mywork.WorkSection("即将到期的调阅", [
            mywork.WorkItem(f"{r.number} {r.holder.name}", url(r), note=f"至 {local_time(r.until)}")
            for r in work["expiring"]], 35),
        mywork.WorkSection("超期未审批的调阅申请", [
            mywork.WorkItem(f"{r.number} {_other_side(user, r)}", url(r), due=r.due_on, overdue=True)
            for r in work["overdue"]], 36),
    ]


def _other_side(user, r) -> str:
    return r.holder.name if r.department_id == user.department_id else r.department.name
