"""Archive pages (档案): 归档 candidates and batch filing, 档案 list, item page, 目录 export, 导入, 鉴定."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..archive.checks import PROPERTIES, report_from_json
from ..archive.fonds import holding_organisation
from ..archive.models import RETENTIONS
from ..errors import DomainError
from ..permissions import can_view_archive, has_role
from . import mywork
from .apispec import parse_form, parse_query, query_dict, validate_form
from .archive_api import (
    CandidatesQuery,
    DisposalProposal,
    DisposalTarget,
    FileBatch,
    ListQuery,
    SignOpinion,
    archive,
    import_json,
    resume_import,
    start_import,
    visible_run,
)
from .context import after_commit, db, runtime, signed_in_user
from .errors import status_of
from .pages import login_required
from .services import services
from .upload_marks import streaming_upload
from .uploads import open_upload

bp = Blueprint("archive_pages", __name__)


@bp.get("/archive")
@login_required
def index():
    user = signed_in_user()
    svc = archive()
    args = request.args
    q = parse_query(ListQuery)
    page = svc.list(user, q.fonds, q.year, q.retention, q.unit, q.after, 50)
    can_view = can_view_archive(user, holding_organisation(user.department))
    return render_template("ui/archive/list.html", page=page, facets=svc.facets(user), args=args,
                           RETENTIONS=RETENTIONS, can_view=can_view)


@bp.route("/archive/file", methods=["GET", "POST"])
@login_required
def file_page():
    user = signed_in_user()
    svc = archive()
    if request.method == "POST":
        refs = []
        for value in request.form.getlist("ref"):
            kind, _, ident = value.partition(":")
            if ident.isdigit() and kind in {"letter", "document"}:
                refs.append({"letter_id": int(ident)} if kind == "letter" else {"document_id": int(ident)})
        if not refs:
            flash("请至少选择一件")
            args: dict[str, Any] = request.args.to_dict()
            return redirect(url_for("archive_pages.file_page", **args))
        batch = validate_form(FileBatch, {**query_dict(FileBatch, request.form), "items": refs})
        filed, failed = svc.file_many(user, [r.model_dump(exclude_none=True) for r in batch.items], batch.retention,
                                      batch.unit)
        after_commit(lambda: [svc.apply_retention(item) for item in filed])
        return render_template("ui/archive/filed.html", filed=filed, failed=failed)
    wanted = parse_query(CandidatesQuery)
    rows = svc.candidates(user, wanted.year, wanted.source_type)
    fonds = None
    try:
        fonds = svc.fondses.for_department(user.department)
    except DomainError as exc:
        flash(exc.message)
    return render_template("ui/archive/file.html", rows=rows, fonds=fonds, args=request.args, RETENTIONS=RETENTIONS)


@bp.get("/archive/items/<int:item_id>")
@login_required
def item_page(item_id: int):
    svc = archive()
    item = svc.get(signed_in_user(), item_id)
    reports = svc.reports(item)
    latest = report_from_json(reports[0].results) if reports else []
    review = svc.review_for(item)
    return render_template("ui/archive/item.html", item=item, reports=reports, latest=latest, history=svc.history(item),
                           PROPERTIES=PROPERTIES, review=review, today=runtime().clock.today())


@bp.post("/archive/items/<int:item_id>/check")
@login_required
def check_page(item_id: int):
    svc = archive()
    item = svc.get(signed_in_user(), item_id)
    report = svc.check(item, "demand", signed_in_user())
    flash("四性检测通过" if report.passed else f"四性检测未通过：{report.summary()}")
    return redirect(url_for("archive_pages.item_page", item_id=item.id))


@bp.get("/archive/catalogue")
@login_required
def catalogue_page():
    svc = archive()
    return render_template("ui/archive/catalogue.html", facets=svc.facets(signed_in_user()), RETENTIONS=RETENTIONS)


@bp.route("/archive/import", methods=["GET", "POST"])
@streaming_upload()
@login_required
def import_page():
    user = signed_in_user()
    error, status = None, 200
    if request.method == "POST":
        try:
            upload = open_upload(missing="请选择 ZIP 文件")
            run = start_import(user, upload.part, upload.filename)
            upload.finish()
            return redirect(url_for("archive_pages.import_status", run_id=run.id))
        except DomainError as exc:
            db().rollback()
            error, status = exc.message, status_of(exc)
    runs = services().import_runs.recent(user, 20)
    return render_template("ui/archive/import.html", error=error, runs=runs), status


@bp.get("/archive/imports/<int:run_id>")
@login_required
def import_status(run_id: int):
    run = visible_run(run_id)
    return render_template("ui/archive/import_status.html", run=run, data=import_json(run))


@bp.post("/archive/imports/<int:run_id>/resume")
@login_required
def import_resume(run_id: int):
    try:
        resume_import(visible_run(run_id))
        flash("已重新排队，已导入的行不会重复导入")
    except DomainError as exc:
        db().rollback()
        flash(exc.message)
    return redirect(url_for("archive_pages.import_status", run_id=run_id))


@bp.route("/archive/disposal", methods=["GET", "POST"])
@login_required
def disposal_page():
    user = signed_in_user()
    svc = archive()
    if request.method == "POST":
        target = validate_form(DisposalTarget, query_dict(DisposalTarget, request.form))
        try:
            if target.review_id is not None:
                review = svc.review(user, target.review_id)
                svc.sign_disposal(user, review, parse_form(SignOpinion).opinion)
                flash("已审签鉴定意见")
            else:
                item = svc.get(user, target.item_id or 0)
                proposal = parse_form(DisposalProposal)
                svc.propose_disposal(user, item, proposal.proposal, proposal.reason)
                flash(f"已提交鉴定意见：{item.archival_code}")
        except DomainError as exc:
            db().rollback()
            flash(exc.message)
        return redirect(url_for("archive_pages.disposal_page"))
    rows = [(item, svc.review_for(item)) for item in svc.disposal_due(user)]
    flows = {}
    for _item, open_review in rows:
        if open_review is not None:
            flows[open_review.id] = svc.disposal_flow(open_review)
    return render_template("ui/archive/disposal.html", rows=rows, flows=flows)


def work_sections(user):
    """我的工作: archivists see what waits to be filed and items whose last check failed; leaders see
    disposal proposals to sign."""
    sections = []
    org = holding_organisation(user.department)
    svc = services().archive
    if has_role(user, "archivist"):
        rows = svc.candidates(user, limit=6)
        sections.append(mywork.WorkSection("待归档", [
            mywork.WorkItem(b.title, url_for("archive_pages.file_page"), note=b.kind_label) for b in rows[:5]], 30))
        bad = svc.failed_checks(user, 5)
        sections.append(mywork.WorkSection("四性检测未通过的档案", [
            mywork.WorkItem(i.archival_code + " " + i.title, url_for("archive_pages.item_page", item_id=i.id),
                            note="需处理") for i in bad], 31))
    if has_role(user, "signer") and can_view_archive(user, org):
        pending = svc.reviews_to_sign(user, 5)
        sections.append(mywork.WorkSection("待审签的档案鉴定", [
            mywork.WorkItem(f"{r.item.archival_code} {r.item.title}", url_for("archive_pages.disposal_page"),
                            note="建议销毁" if r.proposal == "destroy" else "建议继续保存") for r in pending], 32))
    return sections



@bp.route("/archive/fonds", methods=["GET", "POST"])
@login_required
def fonds_page():
    """Administrators set each organisation's 全宗号 and its 机构(问题)代码 (one per line: 代码 名称 [股室代码])."""
    from ..permissions import require_admin
    from .archive_api import FondsIn, save_fonds

    require_admin(signed_in_user())
    error, status = None, 200
    if request.method == "POST":
        units = []
        for line in request.form.get("units", "").splitlines():
            parts = line.split()
            if parts:
                units.append({"code": parts[0].upper(), "name": parts[1] if len(parts) > 1 else parts[0],
                              "department": parts[2] if len(parts) > 2 else None})
        try:
            save_fonds(validate_form(FondsIn, {"department": request.form.get("department", ""),
                                               "code": request.form.get("code", "").upper(), "units": units}))
            flash("全宗号已保存")
            return redirect(url_for("archive_pages.fonds_page"))
        except DomainError as exc:
            db().rollback()
            error, status = exc.message, status_of(exc)
    depts = services().roster.organisations()
    return render_template("ui/archive/fonds.html", fonds=archive().fondses.all(), departments=depts,
                           error=error), status


@bp.post("/archive/items/<int:item_id>/metadata")
@login_required
def metadata_page(item_id: int):
    """An archivist corrects the descriptive metadata (题名, 文件编号, 责任者, 日期, 文种, 备注); audited."""
    from .archive_api import MetadataPatch

    svc = archive()
    item = svc.get(signed_in_user(), item_id)
    fields = {k: request.form.get(k, "").strip() for k in svc.EDITABLE if k in request.form}
    if fields.get("doc_date") == "":
        fields.pop("doc_date")
    data = validate_form(MetadataPatch, fields)
    try:
        svc.update_metadata(signed_in_user(), item, data.model_dump(exclude_unset=True))
        flash("著录项已保存（已记入审计）")
    except DomainError as exc:
        db().rollback()
        flash(exc.message)
    return redirect(url_for("archive_pages.item_page", item_id=item.id))
