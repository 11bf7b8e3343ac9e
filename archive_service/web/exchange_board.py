"""审管互动 pages and API beyond pushes and revocations: policy-change notices (第二十七条), notifications
(unread count, mark read, the department's digest mailbox) and the 督办 dashboard. Routes on the exchange
blueprint (web/exchange.py imports this module at its end), so their endpoint names stay ``exchange.*``."""
from __future__ import annotations

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup

from correspondence.exchange import dashboard as dash
from correspondence.exchange.models import NOTICE_KINDS

from ..clock import local_time
from ..errors import DomainError
from . import exchange_schemas as xs
from .api import api_login_required
from .apispec import operation, parse_form, parse_query, validate
from .context import current_user, db, runtime
from .errors import status_of
from .exchange import _is_bureau, _me, _notification_url, _z, bp, exchange, notice_json
from .pages import login_required
from .services import services


# -- 政策告知 (第二十七条) ---------------------------------------------------------------------------
@bp.route("/exchange/notices", methods=["GET", "POST"])
@login_required
def notices_page():
    user = _me()
    error, status, form = None, 200, request.form
    if request.method == "POST":
        try:
            ids = [int(x) for x in form.get("document_ids", "").replace("，", ",").split(",") if x.strip().isdigit()]
            body = validate(xs.NoticeInput, {
                "kind": form.get("kind", "policy"), "title": form.get("title", ""),
                "effective_on": form.get("effective_on", ""), "summary": form.get("summary", ""),
                "matter_ids": [int(x) for x in form.getlist("matter_ids") if x.isdigit()], "document_ids": ids,
                "draft_letter": form.get("draft_letter") == "1"})
            row = services().notices.send(user, **body.model_dump())
        except DomainError as exc:
            db().rollback()
            error, status = exc.message, status_of(exc)
        else:
            drafted = "，告知函已起草，请在公文收发中送审" if row.letter_id else ""
            flash(f"已发送{row.kind_label}告知：{row.title}{drafted}")
            return redirect(url_for("exchange.notices_page"))
    return render_template("ui/exchange/notices.html", notices=services().notices.notices(user), error=error,
                           form=form, matters=exchange().matters(), KINDS=NOTICE_KINDS, is_bureau=_is_bureau(user),
                           me=user, today=runtime().clock.today(), local_time=local_time), status


@bp.post("/exchange/notices/<int:notice_id>/ack")
@login_required
def notice_ack_form(notice_id: int):
    try:
        row = services().notices.acknowledge(_me(), notice_id)
    except DomainError as exc:
        db().rollback()
        flash(exc.message)
        return redirect(url_for("exchange.notices_page")), 303
    flash(f"已签收：{row.title}")
    return redirect(url_for("exchange.notices_page"))


@bp.post("/api/v1/notices")
@api_login_required
@operation("发送政策变动告知（第二十七条）或上级会议、培训通知：发给所涉事项的审批股室，可同时起草政策变动告知函",
           body=xs.NoticeInput, responses={201: xs.NoticeOut}, errors=(403,))
def api_notice(body: xs.NoticeInput):
    return jsonify(notice_json(services().notices.send(_me(), **body.model_dump()))), 201


@bp.get("/api/v1/notices")
@api_login_required
@operation("告知列表：监管部门看本部门发出的，审批局看发给本局股室的", responses={200: xs.NoticeList})
def api_notices():
    return jsonify({"items": [notice_json(n) for n in services().notices.notices(_me())]})


@bp.get("/api/v1/notices/<int:notice_id>")
@api_login_required
@operation("告知详情", responses={200: xs.NoticeOut})
def api_notice_get(notice_id: int):
    return jsonify(notice_json(services().notices.get(_me(), notice_id)))


@bp.post("/api/v1/notices/<int:notice_id>/ack")
@api_login_required
@operation("审批股室签收告知", responses={200: xs.NoticeOut}, errors=(403, 409))
def api_notice_ack(notice_id: int):
    return jsonify(notice_json(services().notices.acknowledge(_me(), notice_id)))


# -- 通知 (unread count, mark read, the department's digest mailbox) -------------------------------------
@bp.app_context_processor
def _unread():
    def unread_notifications() -> int:
        user = current_user()
        return services().exchange.unread_count(user) if user is not None else 0

    return {"unread_notifications": unread_notifications}


def notification_json(n) -> dict:
    return {"id": n.id, "message": n.message, "created_at": _z(n.created_at), "read_at": _z(n.read_at),
            "push_id": n.push_id, "revocation_id": n.revocation_id, "notice_id": n.notice_id}


@bp.route("/exchange/notifications", methods=["GET", "POST"])
@login_required
def notifications_page():
    user = _me()
    error, status = None, 200
    if request.method == "POST":
        try:
            form = parse_form(xs.NotificationsForm)
            if form.what == "mailbox":
                services().exchange.set_mailbox(user, form.address)
                flash("部门邮箱已保存")
            else:
                n = services().exchange.mark_all_read(user)
                flash(f"已将 {n} 条通知标为已读")
        except DomainError as exc:
            db().rollback()
            error, status = exc.message, status_of(exc)
        else:
            return redirect(url_for("exchange.notifications_page"))
    svc = services().exchange
    from ..directory import can_maintain_liaisons

    return render_template("ui/exchange/notifications.html", notes=svc.notifications(user, unread_only=False,
                                                                                       limit=200),
                           unread=svc.unread_count(user), mailbox=svc.mailbox(user.department_id),
                           can_set_mailbox=can_maintain_liaisons(user, user.department), error=error,
                           local_time=local_time, url_of=_notification_url), status


@bp.get("/api/v1/notifications")
@api_login_required
@operation("本部门的审管互动通知（最近 200 条）及未读数", responses={200: xs.NotificationList})
def api_notifications():
    svc = services().exchange
    user = _me()
    return jsonify({"unread": svc.unread_count(user),
                    "items": [notification_json(n) for n in svc.notifications(user, unread_only=False, limit=200)]})


@bp.post("/api/v1/notifications/read")
@api_login_required
@operation("将本部门的通知全部标为已读", responses={200: xs.NotificationList})
def api_notifications_read():
    svc = services().exchange
    user = _me()
    svc.mark_all_read(user)
    return jsonify({"unread": 0,
                    "items": [notification_json(n) for n in svc.notifications(user, unread_only=False, limit=200)]})


@bp.put("/api/v1/notifications/mailbox")
@api_login_required
@operation("设置本部门接收每日提醒邮件的邮箱（空为取消；本部门签发人、联络员或系统管理员）", body=xs.MailboxInput,
           responses={200: xs.MailboxOut}, errors=(403,))
def api_mailbox(body: xs.MailboxInput):

    user = _me()
    dept = services().roster.find_department(body.department) if body.department else None
    box = services().exchange.set_mailbox(user, body.address, dept)
    return jsonify({"department": (dept or user.department).name, "address": box.address if box else ""})


# -- 督办 -----------------------------------------------------------------------------------------
def _board():
    return services().dashboard.board(_me(), parse_query(xs.DashboardQuery).year)


CHART_KEYS = {"pushes": ("审批推送认领", ["on_time", "late", "auto", "unclaimed"]),
              "revocations": ("撤销建议推送与办理", ["handled", "open"]),
              "info": ("审批信息请求答复", ["answered", "overdue"]),
              "letters": ("来函办理与复函", ["on_time", "late", "closed", "open"]),
              "minutes": ("会议纪要印发", ["on_time", "late", "pending"])}


@bp.get("/exchange/dashboard")
@login_required
def dashboard_page():
    board = _board()
    charts = []
    for title, attr, columns in dash.SECTIONS:
        rows = getattr(board, attr)
        chart_title, keys = CHART_KEYS[attr]
        svg = Markup(dash.bar_chart(f"{board.year}年{chart_title}（按部门）", board.by_department(rows, columns),
                                    columns, keys))
        charts.append((svg, rows, columns, title, attr))
    overdue = services().dashboard.overdue(_me(), board.year)
    return render_template("ui/exchange/dashboard.html", board=board, charts=charts, dash=dash, overdue=overdue)


@bp.get("/exchange/dashboard.csv")
@login_required
def dashboard_csv():
    board = _board()  # counted inside the request; the CSV lines are then streamed
    resp = Response(dash.csv_rows(board), mimetype="text/csv; charset=utf-8")
    resp.headers["Content-Disposition"] = (f"attachment; filename=\"dashboard-{board.year}.csv\"; "
                                           f"filename*=UTF-8''%E7%9D%A3%E5%8A%9E-{board.year}.csv")
    return resp


@bp.get("/api/v1/dashboard")
@api_login_required
@operation("督办数据：按部门、月份统计推送认领（按期/逾期人工/系统自动/待认领）、撤销建议（逾期推送/办结）、"
           "审批信息请求（答复/逾期）、来函复函（按期/逾期）、会议纪要印发（按期/逾期）及全年按期率，"
           "并列出逾期事项（每类最多 50 件）；"
           "仅单位负责人（签发人）与系统管理员", query=xs.DashboardQuery,
           responses={200: xs.DashboardOut}, errors=(403,))
def api_dashboard(query: xs.DashboardQuery):
    board = services().dashboard.board(_me(), query.year)

    def rows(items):
        return [{"department": r.department, "month": r.month, **r.counts} for r in items]

    return jsonify({"year": board.year, "pushes": rows(board.pushes), "revocations": rows(board.revocations),
                    "info_requests": rows(board.info), "letters": rows(board.letters),
                    "minutes": rows(board.minutes),
                    "totals": {"info_requests" if attr == "info" else attr: board.totals(getattr(board, attr), columns)
                               for _, attr, columns in dash.SECTIONS},
                    "rates": {"info_requests" if attr == "info" else attr:
                              dash.rate(attr, board.totals(getattr(board, attr), columns))
                              for _, attr, columns in dash.SECTIONS},
                    "overdue": [{"kind": o.kind, "department": o.department, "title": o.title,
                                 "due_on": o.due_on.isoformat(), "days": o.days}
                                for o in services().dashboard.overdue(_me(), board.year)]})
