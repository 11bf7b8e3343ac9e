"""收文 pages: the department's inbox with 签收 / 登记 / 承办 / 答复 and overdue marks."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..directory import find_user
from ..errors import BadRequest, DomainError
from . import mywork
from .apispec import validate
from .context import db, signed_in_user
from .errors import status_of
from .letters_common import department_users, inbox
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
                           handlers=department_users(signed_in_user().department_id), page=page)


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
    if action == "assign":
        handler = find_user(db(), values.handler)
        service.assign(user, item, handler, days=values.days, due_on=values.due_on)
        return ActionOutcome(f"已交办，办理期限：{item.due_on.isoformat()}")
    body = values.body
    if isinstance(body, str):
        body = [p for p in body.splitlines() if p.strip()] or None
    reply = service.reply(user, item, title=values.title or None, body=body, note=values.note or "")
    return ActionOutcome("已起草复函，请完善后提交核稿", reply_letter_id=reply.id)


def form_action(action: str, form) -> InboxAction:
    """The inbox form's fields (blank ones left out) validated by the API's model."""
    values = {k: v for k, v in form.items() if k in InboxAction.model_fields and k != "action" and v.strip()}
    if action not in {"receive", "register", "assign", "reply"}:
        raise BadRequest(f"未知操作：{action}（可选：receive、register、assign、reply）")
    return validate(InboxAction, {**values, "action": action})


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
                               handlers=department_users(user.department_id)), status_of(exc)
    flash(outcome.message)
    if outcome.reply_letter_id is not None:
        return redirect(url_for("letters.edit", letter_id=outcome.reply_letter_id))
    back = same_site_path(request.form.get("next"))
    if back:
        return redirect(back)
    return redirect(url_for("inbox.index"))


def work_sections(user, session):

    service = services().inbox
    items = service.items(user, include_done=False, limit=100)
    return [mywork.WorkSection("收文待办", [
        mywork.WorkItem(f"{i.letter.number or ''} {i.letter.title}（{i.role_label}，{i.state_label}）",
                        url_for("letters.detail", letter_id=i.letter_id),
                        due=i.due_on, overdue=service.overdue(i))
        for i in items if not (i.role == "cc" and i.state != "pending")], 20)]

