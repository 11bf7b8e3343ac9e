"""收文 pages: the department's inbox with 签收 / 登记 / 承办 / 答复 and overdue marks."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from ..errors import BadRequest, DomainError, Unprocessable
from . import mywork
from .apispec import validate
from .context import current_user, db, signed_in_user
from .errors import status_of
from .letters_common import inbox
from .letters_schemas import InboxAction
from .pages import login_required
from .paging import keyset_args
from .redirects import same_site_path
from .services import services

bp = Blueprint("inbox", __name__)


@bp.get("/inbox")
@login_required
def index():
    service = inbox()
    page = service.page(signed_in_user(), **keyset_args(50))
    items = page.items
    return render_template("ui/letters/inbox.html", items=items, overdue={i.id for i in items if service.overdue(i)},
                           due_soon=_due_soon(service, items), page=page)


def _due_soon(service, items) -> set[int]:
    """Items within the reminder window before their due date (催办 in working days)."""
    return {i.id for i in items if (service.reminder(i) or ("", 0))[0] == "due_soon"}


ACTIONS = ("receive", "register", "review", "return", "propose", "assign", "circulate", "read", "remind", "reply",
           "close")


@dataclass(frozen=True)
class ActionOutcome:
    """What an inbox action did: a Chinese confirmation, and the drafted reply letter for ``reply``."""

    message: str
    reply_letter_id: int | None = None


def run_action(user, item_id: int, values: InboxAction) -> ActionOutcome:
    """Shared by the page and the API."""
    service = inbox()
    item = service.item(user, item_id)
    action = values.action
    if action == "receive":
        service.receive(user, item)
        return ActionOutcome("已签收")
    if action == "register":
        service.register(user, item)
        return ActionOutcome(f"已登记，收文编号：{item.incoming_number}")
    if action == "review":
        service.review(user, item, values.opinion or "")
        return ActionOutcome("初审通过，请拟办")
    if action == "return":
        service.send_back(user, item, values.opinion or "")
        return ActionOutcome("已退回来文机关")
    if action == "propose":
        service.propose(user, item, values.opinion or "")
        return ActionOutcome("已拟办，请负责人批办")
    if action == "assign":
        handler = services().roster.find_user(values.handler)
        service.assign(user, item, handler, days=values.days, due_on=values.due_on, opinion=values.opinion or "")
        return ActionOutcome(f"已交办，办理期限：{item.due_on.isoformat()}")
    if action == "circulate":
        readers = [services().roster.find_user(r) for r in values.readers or []]
        if any(r is None for r in readers):
            raise Unprocessable("传阅人员不存在", field="readers")
        service.circulate(user, item, [r for r in readers if r is not None])
        return ActionOutcome("已传阅")
    if action == "read":
        service.mark_read(user, item)
        return ActionOutcome("已阅知")
    if action == "remind":
        step = service.remind(user, item, values.opinion or "")
        return ActionOutcome(f"已催办：{step.opinion}")
    if action == "close":
        service.close(user, item, values.opinion or "")
        return ActionOutcome("已办结")
    body = values.body
    if isinstance(body, str):
        body = [p for p in body.splitlines() if p.strip()] or None
    reply = service.reply(user, item, title=values.title or None, body=body, note=values.note or "")
    return ActionOutcome("已起草复函，请完善后提交核稿", reply_letter_id=reply.id)


def form_action(action: str, form) -> InboxAction:
    """The inbox form's fields (blank ones left out) validated by the API's model."""
    values: dict[str, object] = {k: v for k, v in form.items()
                                 if k in InboxAction.model_fields and k not in {"action", "readers"} and v.strip()}
    if form.getlist("readers"):
        values["readers"] = [r for r in form.getlist("readers") if r.strip()]
    if action not in ACTIONS:
        raise BadRequest(f"未知操作：{action}（可选：{'、'.join(ACTIONS)}）")
    return validate(InboxAction, {**values, "action": action})


@bp.get("/inbox/<int:item_id>/sheet.pdf")
@login_required
def sheet(item_id: int):
    """The signed 收文处理单 as it stands (the receiving desk's people only)."""
    pdf = services().inbox_sheets.pdf(signed_in_user(), item_id)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=inbox-sheet-{item_id}.pdf", "Cache-Control": "no-store"})


@bp.post("/inbox/<int:item_id>/<action>")
@login_required
def act(item_id: int, action: str):
    user = signed_in_user()
    try:
        outcome = run_action(user, item_id, form_action(action, request.form))
    except DomainError as exc:
        db().rollback()
        service = inbox()
        items = service.items(user)
        return render_template("ui/letters/inbox.html", items=items, error=exc.message,
                               overdue={i.id for i in items if service.overdue(i)},
                               due_soon=_due_soon(service, items)), status_of(exc)
    flash(outcome.message)
    if outcome.reply_letter_id is not None:
        return redirect(url_for("letters.edit", letter_id=outcome.reply_letter_id))
    back = same_site_path(request.form.get("next"))
    if back:
        return redirect(back)
    return redirect(url_for("inbox.index"))


@bp.app_context_processor
def _unread_inbox():
    def unread_inbox() -> int:
        user = current_user()
        return inbox().unread_count(user) if user is not None else 0

    return {"unread_inbox": unread_inbox}


def work_sections(user):

    service = services().inbox
    items = service.items(user, include_done=False, limit=100)
    return [mywork.WorkSection("收文待办", [
        mywork.WorkItem(f"{i.letter.number or ''} {i.letter.title}（{i.role_label}，{i.state_label}）",
                        url_for("letters.detail", letter_id=i.letter_id),
                        due=i.due_on, overdue=service.overdue(i))
        for i in items if not (i.role == "cc" and i.state != "pending")], 20)]

