"""审管互动 (第二十六至二十八条): pages 事项清单, 审批推送 (bureau), 待认领 (regulators), 撤销建议, and the
JSON API /api/v1/matters, /api/v1/pushes, /api/v1/revocations. Services live in correspondence.exchange."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for

from correspondence.exchange.models import (
    DECISIONS,
    FEEDBACK_KINDS,
    OUTCOMES,
    REVOCATION_ACTIONS,
    Feedback,
    InfoRequest,
    Notice,
    Push,
    Revocation,
)
from correspondence.exchange.service import ExchangeService

from ..clock import local_time
from ..errors import DomainError
from ..models import User
from . import exchange_schemas as xs
from . import mywork
from .api import api_login_required
from .apispec import operation, query_dict, validate, validate_form
from .context import current_user, db, runtime
from .errors import status_of
from .pages import login_required
from .services import services
from .upload_marks import streaming_upload
from .uploads import file_limit, open_upload, too_large

bp = Blueprint("exchange", __name__)


def exchange() -> ExchangeService:
    return services().exchange


def _me() -> User:
    user = current_user()
    assert user is not None  # the views are login_required / api_login_required
    return user


def _z(dt) -> str | None:
    return dt.isoformat() + "Z" if dt else None


def matter_json(m) -> dict:
    return {"id": m.id, "code": m.code, "name": m.name, "section": m.section.name,
            "regulators": [mr.regulator.name for mr in m.regulators], "transferred_from": m.transferred_from,
            "transferred_on": m.transferred_on.isoformat() if m.transferred_on else None}


def push_json(p: Push) -> dict:
    r = p.record
    return {"id": p.id, "regulator": p.regulator.name, "due_on": p.due_on.isoformat(), "state": p.state,
            "state_label": p.state_label, "matter": r.matter.name, "applicant": r.applicant,
            "credit_code": r.credit_code, "licence_no": r.licence_no, "decision": r.decision,
            "decided_on": r.decided_on.isoformat(), "pushed_at": _z(p.pushed_at), "claimed_at": _z(p.claimed_at),
            "claimed_by": p.claimer.username if p.claimer else None, "note": p.note,
            "document_ids": [d.document_id for d in r.documents],
            "feedback": [feedback_json(f) for f in p.feedback],
            "liaison": p.liaison.username if p.liaison else None,
            "info_requests": [info_json(i) for i in p.info_requests]}


def info_json(i: InfoRequest) -> dict:
    return {"id": i.id, "question": i.question, "asked_by": i.asker.username, "asked_at": _z(i.asked_at),
            "due_on": i.due_on.isoformat(), "answer": i.answer,
            "answered_by": i.answerer.username if i.answerer else None, "answered_at": _z(i.answered_at),
            "document_ids": [d.document_id for d in i.documents]}


def feedback_json(f: Feedback) -> dict:
    return {"id": f.id, "kind": f.kind, "kind_label": f.kind_label, "title": f.title,
            "decided_on": f.decided_on.isoformat(), "summary": f.summary, "created_at": _z(f.created_at),
            "created_by": f.creator.username, "document_ids": [d.document_id for d in f.documents]}


def revocation_json(v: Revocation) -> dict:
    flow = services().revocation_handling.flow(v)
    # the regulator sees the result once it is signed (办结), the bureau while it is drafted
    shown = v.state in {"done", "not_done"} or _is_bureau(_me())
    return {"state_label": v.state_label, "outcome": v.outcome if shown else "", "result": v.result if shown else "",
            "flow_state": flow.state if flow else None, "version_sha256": flow.version_sha256 if flow else None,
            "id": v.id, "matter": v.matter.name, "licensee": v.licensee, "regulator": v.regulator.name,
            "action": v.action, "action_label": v.action_label, "discovered_on": v.discovered_on.isoformat(),
            "pushed_on": v.pushed_on.isoformat(), "due_on": v.due_on.isoformat(), "late": v.late,
            "late_days": v.late_days, "state": v.state, "liaison": v.liaison.username if v.liaison else None,
            "request_letter_id": v.request_letter_id, "result_letter_id": v.result_letter_id}


def notice_json(n: Notice) -> dict:
    return {"id": n.id, "kind": n.kind, "kind_label": n.kind_label, "title": n.title,
            "effective_on": n.effective_on.isoformat(), "summary": n.summary, "regulator": n.regulator.name,
            "matters": [nm.matter.name for nm in n.matters], "letter_id": n.letter_id,
            "created_at": _z(n.created_at), "document_ids": [d.document_id for d in n.documents],
            "recipients": [{"section": r.section.name, "acked_at": _z(r.acked_at),
                            "acked_by": r.acker.username if r.acker else None} for r in n.recipients]}


def _is_bureau(user) -> bool:
    return user.department.kind in {"bureau", "section"}


def _regulators():
    return services().roster.departments_by_kind(("regulator",))


def _sections():
    return sorted(services().roster.departments_by_kind(("bureau", "section")), key=lambda d: d.id)


# -- 事项清单 ---------------------------------------------------------------------------------------
@bp.route("/exchange/matters", methods=["GET", "POST"])
@login_required
def matters_page():
    error, status, form = None, 200, request.form
    if request.method == "POST":
        try:
            body = validate(xs.MatterInput, {
                "code": form.get("code", ""), "name": form.get("name", ""), "section": form.get("section", ""),
                "regulators": form.getlist("regulators"), "transferred_from": form.get("transferred_from", ""),
                "transferred_on": form.get("transferred_on") or None})
            m = exchange().save_matter(_me(), **body.model_dump())
        except DomainError as exc:
            db().rollback()
            error, status = exc.message, status_of(exc)
        else:
            flash(f"已保存审批事项：{m.code} {m.name}")
            return redirect(url_for("exchange.matters_page"))
    return render_template("ui/exchange/matters.html", matters=exchange().matters(), error=error, form=form,
                           sections=_sections(), regulators=_regulators()), status


@bp.post("/exchange/matters/import")
@streaming_upload()
@login_required
def matters_import():
    try:
        upload = open_upload()
        data = upload.part.read(file_limit() + 1)
        if len(data) > file_limit():
            raise too_large()
        upload.finish()
        n = exchange().import_matters(_me(), upload.filename, data)
    except DomainError as exc:
        db().rollback()
        return render_template("ui/exchange/matters.html", matters=exchange().matters(), error=exc.message,
                               form={}, sections=_sections(), regulators=_regulators()), status_of(exc)
    flash(f"已导入 {n} 个审批事项")
    return redirect(url_for("exchange.matters_page"))


@bp.get("/api/v1/matters")
@api_login_required
@operation("事项清单：审批事项、审批股室、监管部门、划转情况（第七、三十条）", responses={200: xs.MatterList})
def api_matters():
    return jsonify({"items": [matter_json(m) for m in exchange().matters()]})


@bp.post("/api/v1/matters")
@api_login_required
@operation("新增或更新审批事项（系统管理员；同一编码则更新）", body=xs.MatterInput, responses={201: xs.Matter},
           errors=(403,))
def api_matter_save(body: xs.MatterInput):
    m = exchange().save_matter(_me(), **body.model_dump())
    return jsonify(matter_json(m)), 201


# -- 审批推送 / 待认领 -------------------------------------------------------------------------------
def _push_from(body) -> list[Push]:
    return exchange().push(_me(), **body.model_dump())


@bp.route("/exchange/pushes", methods=["GET", "POST"])
@login_required
def pushes_page():
    user = _me()
    if not _is_bureau(user):
        return redirect(url_for("exchange.claims_page"))
    error, status, form = None, 200, request.form
    if request.method == "POST":
        try:
            ids = [int(x) for x in form.get("document_ids", "").replace("，", ",").split(",") if x.strip().isdigit()]
            body = validate(xs.PushInput, {
                "matter_id": form.get("matter_id") or 0, "applicant": form.get("applicant", ""),
                "credit_code": form.get("credit_code", "").strip().upper(), "licence_no": form.get("licence_no", ""),
                "decision": form.get("decision", ""), "decided_on": form.get("decided_on", ""),
                "document_ids": ids, "regulators": form.getlist("regulators") or None})
            pushes = _push_from(body)
        except DomainError as exc:
            db().rollback()
            error, status = exc.message, status_of(exc)
        else:
            flash("已推送至" + "、".join(f"{p.regulator.name}（{p.due_on.isoformat()}前认领）" for p in pushes))
            return redirect(url_for("exchange.pushes_page"))
    return render_template("ui/exchange/pushes.html", pushes=exchange().pushes(user), error=error, form=form,
                           matters=exchange().matters(), regulators=_regulators(), DECISIONS=DECISIONS,
                           today=runtime().clock.today(), local_time=local_time), status


@bp.get("/exchange/claims")
@login_required
def claims_page():
    user = _me()
    pushes = exchange().pushes(user)
    return render_template("ui/exchange/claims.html", pushes=pushes, today=runtime().clock.today(),
                           local_time=local_time, is_bureau=_is_bureau(user))


@bp.post("/exchange/pushes/<int:push_id>/claim")
@login_required
def claim_form(push_id: int):
    try:
        p = exchange().claim(_me(), push_id, validate_form(xs.ClaimInput, query_dict(xs.ClaimInput, request.form)).note)
    except DomainError as exc:
        db().rollback()
        return render_template("ui/exchange/claims.html", pushes=exchange().pushes(_me()),
                               today=runtime().clock.today(), local_time=local_time, error=exc.message,
                               is_bureau=_is_bureau(_me())), status_of(exc)
    flash(f"已认领：{p.record.matter.name}（{p.record.applicant}）")
    return redirect(url_for("exchange.claims_page"))


@bp.route("/exchange/pushes/<int:push_id>", methods=["GET", "POST"])
@login_required
def push_page(push_id: int):
    """One push for both sides: the record, its claim and the regulator's feedback (反馈) with its form."""
    user = _me()
    error, status, form = None, 200, request.form
    if request.method == "POST":
        what = form.get("what", "feedback")
        try:
            ids = [int(x) for x in form.get("document_ids", "").replace("，", ",").split(",") if x.strip().isdigit()]
            if what == "ask":
                ask = validate(xs.InfoAsk, {"question": form.get("question", "")})
                exchange().ask_info(user, push_id, ask.question)
                done = "已请求审批局提供审批信息"
            elif what == "answer":
                answer = validate(xs.InfoAnswer, {"answer": form.get("answer", ""), "document_ids": ids})
                exchange().get_push(user, push_id)
                info = validate_form(xs.InfoTarget, query_dict(xs.InfoTarget, form))
                exchange().answer_info(user, info.info_id, answer.answer, answer.document_ids)
                done = "已答复，监管部门可见"
            else:
                body = validate(xs.FeedbackInput, {
                    "kind": form.get("kind", ""), "title": form.get("title", ""),
                    "decided_on": form.get("decided_on", ""), "summary": form.get("summary", ""),
                    "document_ids": ids})
                exchange().add_feedback(user, push_id, **body.model_dump())
                done = "已反馈，审批局可见"
        except DomainError as exc:
            db().rollback()
            error, status = exc.message, status_of(exc)
        else:
            flash(done)
            return redirect(url_for("exchange.push_page", push_id=push_id))
    p = exchange().get_push(user, push_id)
    return render_template("ui/exchange/push.html", p=p, error=error, form=form, KINDS=FEEDBACK_KINDS,
                           is_bureau=_is_bureau(user), today=runtime().clock.today(), local_time=local_time), status


@bp.post("/api/v1/pushes")
@api_login_required
@operation("推送审批结果（第二十六条）：按事项清单（或所选）推送给每个监管部门，认领期限为推送日 + 5 个工作日",
           body=xs.PushInput, responses={201: xs.PushCreated}, errors=(403,))
def api_push(body: xs.PushInput):
    return jsonify({"items": [push_json(p) for p in _push_from(body)]}), 201


@bp.get("/api/v1/pushes")
@api_login_required
@operation("推送列表：监管部门看推送给本部门的，审批局看本局推送的", query=xs.PushQuery,
           responses={200: xs.PushList})
def api_pushes(query: xs.PushQuery):
    return jsonify({"items": [push_json(p) for p in exchange().pushes(_me(), query.state)]})


@bp.get("/api/v1/pushes/<int:push_id>")
@api_login_required
@operation("推送详情", responses={200: xs.PushOut})
def api_push_get(push_id: int):
    return jsonify(push_json(exchange().get_push(_me(), push_id)))


@bp.post("/api/v1/pushes/<int:push_id>/claim")
@api_login_required
@operation("认领推送（监管部门联络员或档案员）；附件随即授权本部门阅读", body=xs.ClaimInput,
           responses={200: xs.PushOut}, errors=(403, 409))
def api_claim(push_id: int, body: xs.ClaimInput):
    return jsonify(push_json(exchange().claim(_me(), push_id, body.note)))


@bp.post("/api/v1/pushes/<int:push_id>/feedback")
@api_login_required
@operation("监管部门反馈对被许可人的监管信息（行政处罚、信用信息、检查结果）：须先认领；推送的审批局可见",
           body=xs.FeedbackInput, responses={201: xs.PushOut}, errors=(403, 409))
def api_feedback(push_id: int, body: xs.FeedbackInput):
    exchange().add_feedback(_me(), push_id, **body.model_dump())
    return jsonify(push_json(exchange().get_push(_me(), push_id))), 201


@bp.post("/api/v1/pushes/<int:push_id>/info-requests")
@api_login_required
@operation("监管部门请求审批局提供相关审批信息（答复期限 5 个工作日）", body=xs.InfoAsk, responses={201: xs.InfoOut},
           errors=(403,))
def api_info_ask(push_id: int, body: xs.InfoAsk):
    return jsonify(info_json(exchange().ask_info(_me(), push_id, body.question))), 201


@bp.post("/api/v1/info-requests/<int:info_id>/answer")
@api_login_required
@operation("审批局答复审批信息请求；附件随即授权请求的监管部门阅读", body=xs.InfoAnswer, responses={200: xs.InfoOut},
           errors=(403, 409))
def api_info_answer(info_id: int, body: xs.InfoAnswer):
    return jsonify(info_json(exchange().answer_info(_me(), info_id, body.answer, body.document_ids)))


# -- 撤销建议 (第二十八条) ---------------------------------------------------------------------------
@bp.route("/exchange/revocations", methods=["GET", "POST"])
@login_required
def revocations_page():
    user = _me()
    error, status, form = None, 200, request.form
    if request.method == "POST":
        try:
            ids = [int(x) for x in form.get("document_ids", "").replace("，", ",").split(",") if x.strip().isdigit()]
            body = validate(xs.RevocationInput, {
                "matter_id": form.get("matter_id") or 0, "licensee": form.get("licensee", ""),
                "discovered_on": form.get("discovered_on", ""), "action": form.get("action", ""),
                "facts": form.get("facts", ""), "document_ids": ids})
            row = exchange().request_revocation(user, **body.model_dump())
        except DomainError as exc:
            db().rollback()
            error, status = exc.message, status_of(exc)
        else:
            flash(f"已推送审批变更撤销建议：{row.matter.name}（{row.licensee}）"
                  + (f"，逾期推送{row.late_days}个工作日" if row.late else ""))
            return redirect(url_for("exchange.revocations_page"))
    return render_template("ui/exchange/revocations.html", rows=exchange().revocations(user), error=error,
                           form=form, matters=exchange().matters(), ACTIONS=REVOCATION_ACTIONS,
                           is_bureau=_is_bureau(user), today=runtime().clock.today()), status


@bp.route("/exchange/revocations/<int:revocation_id>", methods=["GET", "POST"])
@login_required
def revocation_page(revocation_id: int):
    handling = services().revocation_handling
    user = _me()
    error, status = None, 200
    if request.method == "POST":
        form = request.form
        try:
            body = validate_form(xs.RevocationAction, query_dict(xs.RevocationAction, form))
            handling.act(user, revocation_id, body.action, note=body.note, outcome=body.outcome, result=body.result,
                         version_sha256=body.version_sha256)
        except DomainError as exc:
            db().rollback()
            error, status = exc.message, status_of(exc)
        else:
            flash("已保存")
            return redirect(url_for("exchange.revocation_page", revocation_id=revocation_id))
    row = handling.get(user, revocation_id)
    return render_template("ui/exchange/revocation.html", row=row, flow=handling.flow(row), error=error,
                           is_bureau=_is_bureau(user), OUTCOMES=OUTCOMES), status


@bp.post("/api/v1/revocations")
@api_login_required
@operation("推送审批变更撤销建议（第二十八条）：期限为发现日 + 2 个工作日，之后推送记为逾期及逾期工作日数",
           body=xs.RevocationInput, responses={201: xs.RevocationOut}, errors=(403,))
def api_revocation(body: xs.RevocationInput):
    return jsonify(revocation_json(exchange().request_revocation(_me(), **body.model_dump()))), 201


@bp.get("/api/v1/revocations")
@api_login_required
@operation("审批变更撤销建议列表：监管部门看本部门推送的，审批局看推送给本局的", responses={200: xs.RevocationList})
def api_revocations():
    return jsonify({"items": [revocation_json(v) for v in exchange().revocations(_me())]})


@bp.get("/api/v1/revocations/<int:revocation_id>")
@api_login_required
@operation("撤销建议详情（推送的监管部门与承办的审批局可见）", responses={200: xs.RevocationOut})
def api_revocation_get(revocation_id: int):
    return jsonify(revocation_json(services().revocation_handling.get(_me(), revocation_id)))


@bp.post("/api/v1/revocations/<int:revocation_id>/actions")
@api_login_required
@operation("审批局核实和处理撤销建议：verify 核实 → record 登记处理结果 → submit/pass/sign 审签；"
           "签发后办结并告知监管部门",
           body=xs.RevocationAction, responses={200: xs.RevocationOut}, errors=(403, 409))
def api_revocation_action(revocation_id: int, body: xs.RevocationAction):
    row = services().revocation_handling.act(_me(), revocation_id, body.action, note=body.note,
                                             outcome=body.outcome, result=body.result,
                                             version_sha256=body.version_sha256)
    return jsonify(revocation_json(row))


def _notification_url(n) -> str:
    if n.notice_id:
        return url_for("exchange.notices_page")
    if n.revocation_id:
        return url_for("exchange.revocation_page", revocation_id=n.revocation_id)
    if n.push_id:
        return url_for("exchange.push_page", push_id=n.push_id)
    return url_for("exchange.claims_page")


@bp.post("/api/v1/revocations/<int:revocation_id>/letter")
@api_login_required
@operation("起草撤销建议的公文：监管部门起草审批变更撤销建议函，审批局在处理结果签发后起草处理结果告知函；"
           "草稿进入公文收发的审签流程", responses={201: xs.LetterDrafted}, errors=(403, 409))
def api_revocation_letter(revocation_id: int):
    letter = services().revocation_letters.draft(_me(), revocation_id)
    return jsonify({"letter_id": letter.id, "title": letter.title, "template": letter.template}), 201


@bp.post("/exchange/revocations/<int:revocation_id>/letter")
@login_required
def revocation_letter_form(revocation_id: int):
    try:
        letter = services().revocation_letters.draft(_me(), revocation_id)
    except DomainError as exc:
        db().rollback()
        flash(exc.message)
        return redirect(url_for("exchange.revocation_page", revocation_id=revocation_id)), 303
    flash(f"已起草：{letter.title}，请修改后送审")
    return redirect(url_for("letters.detail", letter_id=letter.id))


# -- 我的工作 ---------------------------------------------------------------------------------------
def work_sections(user) -> list:
    svc = services().exchange
    today = runtime().clock.today()
    items: list = []
    items_rev: list = []
    if user.department.kind == "regulator":
        for p in svc.pushes(user, "unclaimed", limit=50):
            # routed to a filed liaison: theirs first; the department's others see it once it is overdue
            if p.liaison_id not in (None, user.id) and today <= p.due_on:
                continue
            mine = "（指派给您）" if p.liaison_id == user.id else ""
            items.append(mywork.WorkItem(
                label=f"待认领{mine}：{p.record.matter.name}（{p.record.applicant}）",
                url=url_for("exchange.push_page", push_id=p.id),
                due=p.due_on, overdue=today > p.due_on, note=f"推送于 {local_time(p.pushed_at)}"))
    else:
        for v in svc.revocations_to_handle(user):
            mine = "（指派给您）" if v.liaison_id == user.id else ""
            items_rev.append(mywork.WorkItem(
                label=f"撤销建议待处理{mine}：{v.matter.name}（{v.licensee}），{v.state_label}",
                url=url_for("exchange.revocation_page", revocation_id=v.id),
                note=f"{v.regulator.name}建议{v.action_label}"))
    notes = [mywork.WorkItem(label=n.message, url=_notification_url(n), note=f"通知于 {local_time(n.created_at)}")
             for n in svc.notifications(user)]
    infos = [mywork.WorkItem(label=f"审批信息请求待答复：{i.push.record.matter.name}（{i.push.record.applicant}）",
                             url=url_for("exchange.push_page", push_id=i.push_id), due=i.due_on,
                             overdue=today > i.due_on, note=f"{i.push.regulator.name}：{i.question[:60]}")
             for i in svc.info_to_answer(user)]
    acks = [mywork.WorkItem(label=f"待签收{n.kind_label}告知：{n.title}", url=url_for("exchange.notices_page"),
                            note=f"施行日期 {n.effective_on.isoformat()}")
            for n in services().notices.to_acknowledge(user)]
    return [mywork.WorkSection("审批推送待认领", items, order=30),
            mywork.WorkSection("撤销建议待处理", items_rev, order=31),
            mywork.WorkSection("告知待签收", acks, order=32), mywork.WorkSection("审批信息请求待答复", infos, order=33),
            mywork.WorkSection("审管互动通知", notes, order=35)]


from . import exchange_board  # noqa: E402, F401  (notices, notifications and 督办 on this blueprint; it imports this module)
