"""Letters (函) pages: lists, drafting from a template, the sign-off chain, issue, downloads."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from ..errors import DomainError, Forbidden, NotFound, Unprocessable
from ..permissions import issuing_organisation, require_admin
from ..signoff import ACTIONS, CHAIN_ACTIONS, STATES
from . import mywork
from .apispec import parse_form, query_dict, validate_form
from .context import current_user, db, runtime, signed_in_user
from .errors import status_of
from .letters_common import (
    departments,
    fields_from_form,
    final_version,
    inbox,
    issuing,
    letter_preview_pdf,
    letters,
    verification,
)
from .letters_schemas import AgencyCodeSet, LetterAction
from .pages import login_required
from .services import services
from .transfer import send_audited
from .upload_marks import streaming_upload
from .uploads import open_upload

bp = Blueprint("letters", __name__)

ACTION_LABELS = {action: ACTIONS[action] for action in CHAIN_ACTIONS}


def _templates() -> list[dict]:
    try:
        from correspondence.doc_templates import letter_templates
    except ImportError:
        return []
    return letter_templates()


def _template_fill(template_id: str, subject: str) -> dict:
    from correspondence.doc_templates import fill, load_letter_template

    try:
        return fill(load_letter_template(template_id), subject=subject or "×××")
    except KeyError:
        raise NotFound("没有此公文模板") from None


@bp.get("/letters")
@login_required
def index():
    lists = letters().worklists(current_user())
    return render_template("ui/letters/list.html", lists=lists)


@bp.route("/letters/new", methods=["GET", "POST"])
@login_required
def new():
    user = current_user()
    if request.method == "POST":
        fields = fields_from_form(request.form)
        fields["co_issuers"] = fields["co_issuers"] or []
        try:
            letter = letters().create_draft(user, kind="letter", **fields)
        except DomainError as exc:
            db().rollback()
            return render_template("ui/letters/form.html", letter=None, values=fields, error=exc.message,
                                   error_field=exc.details.get("field"), departments=departments(user),
                                   templates=_templates()), status_of(exc)
        flash(f"已保存草稿：{letter.title}")
        return redirect(url_for("letters.detail", letter_id=letter.id))
    values = {"template": "", "title": "", "to": [], "cc": [], "co_issuers": [], "body": [], "note": "",
              "urgency": "", "upward": False, "classification": "非密", "disclosure": ""}
    template_id = request.args.get("template")
    if template_id:
        filled = _template_fill(template_id, request.args.get("subject", ""))
        values.update(template=template_id, title=filled["title"], body=filled["body"], note=filled["note"])
    return render_template("ui/letters/form.html", letter=None, values=values, error=None,
                           departments=departments(user), templates=_templates())


def _values_of(letter) -> dict:
    data = letter.data
    ids = {d.name: d.id for d in departments()}
    return {**data, "to": [ids.get(n) for n in data["to"]], "cc": [ids.get(n) for n in data["cc"]],
            "co_issuers": [ids.get(n) for n in data.get("co_issuers", [])]}


@bp.route("/letters/<int:letter_id>/edit", methods=["GET", "POST"])
@login_required
def edit(letter_id: int):
    user, service = current_user(), letters()
    letter = service.get(user, letter_id)
    if not service.can_edit(user, letter):
        raise Forbidden("只有发文机关的拟稿人、核稿人或签发人可以修改文稿")
    if request.method == "POST":
        fields = fields_from_form(request.form)
        if letter.kind == "minutes":
            fields = {k: fields[k] for k in ("title", "body", "note")}
        try:
            service.update(user, letter, seen_sha256=request.form.get("version_sha256"), **fields)
        except DomainError as exc:
            db().rollback()
            letter = service.get(user, letter_id)
            return render_template("ui/letters/form.html", letter=letter, values=fields, error=exc.message,
                                   error_field=exc.details.get("field"), departments=departments(user),
                                   templates=_templates()), status_of(exc)
        flash("已保存为新版本" + ("，原签发已作废，需重新签发" if service.flow(letter).state == "signing" else ""))
        return redirect(url_for("letters.detail", letter_id=letter.id))
    return render_template("ui/letters/form.html", letter=letter, values=_values_of(letter), error=None,
                           departments=departments(user), templates=_templates())


@bp.get("/letters/<int:letter_id>")
@login_required
def detail(letter_id: int):
    return _detail_page(letter_id)


def _detail_page(letter_id: int, error: str | None = None):
    user, service = current_user(), letters()
    letter = service.get(user, letter_id)
    internal = service.is_internal(user, letter)
    flow = service.flow(letter) if internal else None
    actions = []
    if flow is not None:
        for action in ACTION_LABELS:
            if action == "return" and flow.state == "drafting":
                continue
            if service.signoff.allowed(flow, user, action):
                actions.append(action)
    item = inbox().item_for_letter(user, letter)
    return render_template(
        "ui/letters/detail.html", letter=letter, data=letter.data, flow=flow, internal=internal,
        actions=actions, action_labels=ACTION_LABELS, can_edit=flow is not None and service.can_edit(user, letter)
        and flow.state not in {"registered", "issued"}, item=item, thread=service.thread(user, letter),
        overdue=item is not None and inbox().overdue(item), today=runtime().clock.today(),
        handlers=_handlers(item), error=error, chain_states=STATES,
        item_desk=item is not None and item.department_id in inbox().desks(user))


def _handlers(item):

    return services().roster.organisation_users(item.department_id) if item is not None else []


@bp.post("/letters/<int:letter_id>/act")
@login_required
def act(letter_id: int):
    user, service = current_user(), letters()
    letter = service.get(user, letter_id)
    try:
        body = validate_form(LetterAction, query_dict(LetterAction, request.form))
        action, sha, opinion = body.action, body.version_sha256, body.opinion or ""
        if action == "register":
            number = issuing().register(user, letter, sha)
            flash(f"已登记，发文字号：{number}")
        elif action == "issue":
            issuing().issue(user, letter, sha)
            flash(f"已印发：{letter.number}")
        else:
            step = service.act(user, letter, action, sha, opinion)
            flash(f"已{step.action_label}")
    except DomainError as exc:
        db().rollback()
        return _detail_page(letter_id, f"操作未完成：{exc.message}"), status_of(exc)
    return redirect(url_for("letters.detail", letter_id=letter_id))


@bp.post("/letters/<int:letter_id>/attachments")
@streaming_upload()
@login_required
def attach(letter_id: int):
    user, service = current_user(), letters()
    letter = service.get(user, letter_id)
    try:
        upload = open_upload(missing="请选择附件文件")
        service.add_attachment(user, letter, upload.part, upload.filename)
        upload.finish()
    except DomainError as exc:
        db().rollback()
        return _detail_page(letter_id, f"附件未添加：{exc.message}"), status_of(exc)
    flash("已添加附件（文稿已产生新版本）")
    return redirect(url_for("letters.detail", letter_id=letter_id))


@bp.post("/letters/preview.pdf")
@login_required
def preview_form():
    """预览 of the form as typed (nothing is saved)."""
    from correspondence.issuing import render_functions
    from correspondence.letters import check_classification
    from correspondence.spec import SpecError, parse_spec

    user = signed_in_user()
    fields = fields_from_form(request.form)
    check_classification(fields["classification"])
    names = {str(d.id): d.name for d in departments()}
    spec = {"kind": "letter", "issuer": issuing_organisation(user.department).name, "title": fields["title"],
            "to": [names[i] for i in fields["to"] if i in names], "cc": [names[i] for i in fields["cc"] if i in names],
            "body": fields["body"], "note": fields["note"], "urgency": fields["urgency"] or None,
            "date": runtime().clock.today().isoformat()}
    try:
        pdf = render_functions()[0](parse_spec(spec))
    except SpecError as exc:
        raise Unprocessable(f"无法预览：{exc.field}：{exc.message}") from None
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": "inline; filename=preview.pdf", "Cache-Control": "no-store"})


@bp.get("/letters/<int:letter_id>/preview.pdf")
@login_required
def preview(letter_id: int):
    pdf = letter_preview_pdf(signed_in_user(), letter_id)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": "inline; filename=preview.pdf", "Cache-Control": "no-store"})


@bp.get("/letters/<int:letter_id>/files/<what>")
@login_required
def download(letter_id: int, what: str):
    user = signed_in_user()
    letter = letters().get(user, letter_id)
    version = final_version(user, letter, what)
    return send_audited(user, version)


@bp.get("/letters/<int:letter_id>/signature")
@login_required
def signature(letter_id: int):
    user = signed_in_user()
    letter = letters().get(user, letter_id)
    return render_template("ui/letters/signature.html", letter=letter, report=verification(user, letter))


@bp.route("/letters/agency-codes", methods=["GET", "POST"])
@login_required
def agency_codes():
    from correspondence.numbering import NUMBER_KINDS

    user = signed_in_user()
    require_admin(user)
    numbering = services().numbering
    error = None
    if request.method == "POST":
        try:
            form = parse_form(AgencyCodeSet)
            dept = services().roster.get_department(form.department_id)
            numbering.set_prefix(user, dept, form.kind, form.prefix)
            flash("机关代字已保存")
            return redirect(url_for("letters.agency_codes"))
        except DomainError as exc:
            db().rollback()
            error = exc.message
    return render_template("ui/letters/agency_codes.html", rows=numbering.table(), kinds=NUMBER_KINDS, error=error)


def work_sections(user):

    lists = services().letters.worklists(user)
    url = lambda letter: url_for("letters.detail", letter_id=letter.id)  # noqa: E731
    sections = [("我的公文草稿", "drafts", 10), ("待核稿", "review", 11), ("待签发", "sign", 12),
                ("待复核、登记、印发", "process", 13)]
    return [mywork.WorkSection(title, [mywork.WorkItem(letter.title, url(letter), note=flow.state_label)
                                       for letter, flow in lists[key]], order)
            for title, key, order in sections]

