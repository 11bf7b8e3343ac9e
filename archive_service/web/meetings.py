"""Meetings and minutes (第二十二条–第二十五条): HTML pages under /meetings, JSON under /api/v1/meetings.

Services live in correspondence.meetings / correspondence.minutes; this module only parses requests,
commits, and renders. Home-page items come from the ``mywork`` provider registered below.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from correspondence.meeting_models import ATTENDANCE, CAPACITIES, MEETING_KINDS, TOPIC_CATEGORIES, Meeting
from correspondence.meetings import MeetingService, cn_date
from correspondence.minutes import MinutesService, render_preview

from .. import permissions
from ..errors import DomainError, Unprocessable
from ..models import Department, User
from . import meetings_schemas as ms
from . import mywork
from .apispec import parse_form, parse_query, validate, validate_form
from .context import db, runtime, signed_in_user
from .errors import status_of
from .meetings_schemas import DeadlineQuery, MeetingInput
from .pages import login_required
from .services import services
from .upload_marks import streaming_upload
from .uploads import open_upload

bp = Blueprint("meetings", __name__)


def meetings() -> MeetingService:
    return services().meetings


def minutes() -> MinutesService:
    return services().minutes


def _user(username: str | None) -> User | None:
    if not username:
        return None
    user = services().roster.find_user_by_name(username)
    if user is None:
        raise Unprocessable(f"用户不存在：{username}")
    return user


def _department(ref: str | None) -> Department | None:
    if not ref:
        return None
    dept = services().roster.find_department_ref(ref)
    if dept is None:
        raise Unprocessable(f"部门不存在：{ref}")
    return dept


def schedule_from(body: MeetingInput) -> Meeting:
    """Shared by the form and the API: ``body`` is validated by the model the OpenAPI documents."""
    return meetings().schedule(
        signed_in_user(), kind=body.kind, title=body.title, meeting_date=body.meeting_date,
        topics=[t.model_dump() for t in body.topics], participants=[p.model_dump() for p in body.participants],
        convener=_department(body.convener), chair=_user(body.chair),
        industry_supervision=body.industry_supervision, urgent_reason=body.urgent_reason,
        start_time=body.start_time, location=body.location)


# -- HTML ------------------------------------------------------------------------------------------
@bp.get("/meetings")
@login_required
def index():
    return render_template("ui/meetings/list.html", meetings=meetings().visible(signed_in_user()),
                           today=runtime().clock.today())


def _form_choices():
    user = signed_in_user()
    roster = services().roster
    conveners = sorted((d for d in roster.departments_by_kind(("bureau", "regulator"))
                        if permissions.belongs_to(user, d.id)), key=lambda d: d.id) or roster.departments_by_kind(
        ("bureau",))
    departments = roster.departments_by_kind()
    people = roster.all_users(active_only=True)
    chairs = [u for u in people if "signer" in u.roles and any(permissions.belongs_to(u, c.id) for c in conveners)]
    return {"conveners": conveners, "departments": departments, "people": people, "chairs": chairs,
            "KINDS": MEETING_KINDS, "CATEGORIES": TOPIC_CATEGORIES, "CAPACITIES": CAPACITIES}


def _form_data(form) -> MeetingInput:
    """The scheduling form's fields (blank ones left out) validated by the API's model."""
    pairs = zip(form.getlist("topic_title"), form.getlist("topic_category"), strict=False)  # a short list: fewer
    topics = [{"title": t, "category": c} for t, c in pairs if t.strip()]
    participants = [{"department": d, "capacity": "member"} for d in form.getlist("departments")]
    participants += [{"department": d, "capacity": "observer"} for d in form.getlist("observers")]
    participants += [{"user": u, "capacity": "member"} for u in form.getlist("people")]
    fields = {k: form.get(k, "").strip() for k in ("kind", "title", "meeting_date", "start_time", "location",
                                                      "convener", "chair", "urgent_reason")}
    return validate(MeetingInput, {**{k: v for k, v in fields.items() if v},
                                   "industry_supervision": form.get("industry_supervision") == "1",
                                   "topics": topics, "participants": participants})


@bp.route("/meetings/new", methods=["GET", "POST"])
@login_required
def new():
    error, status, check, form = None, 200, None, request.form if request.method == "POST" else request.args
    if form.get("meeting_date"):
        try:
            check = meetings().check_deadline(validate(DeadlineQuery, {"date": form.get("meeting_date")}).date)
        except DomainError:
            check = None
    if request.method == "POST":
        try:
            meeting = schedule_from(_form_data(request.form))
        except DomainError as exc:
            db().rollback()
            error, status = exc.message, status_of(exc)
        else:
            flash(f"会议已安排：{meeting.title}，材料最迟于{cn_date(meeting.materials_deadline)}送达")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    return render_template("ui/meetings/new.html", error=error, check=check, form=form,
                           today=runtime().clock.today(), **_form_choices()), status


@bp.get("/meetings/<int:meeting_id>")
@login_required
def detail(meeting_id: int):
    svc = meetings()
    user = signed_in_user()
    meeting = svc.get(user, meeting_id)
    msvc = minutes()
    row = msvc.for_meeting(meeting)
    st = msvc.refresh(row) if row is not None else None
    svc.mark_read(user, meeting)
    readable = {m.document_id for m in meeting.materials if permissions.can_read(user, m.document)}
    return render_template("ui/meetings/detail.html", meeting=meeting, minutes=row, status=st,
                           can_manage=permissions.can_manage_meeting(user, meeting.convener_id),
                           notifications=svc.all_notifications(meeting), readable=readable,
                           ATTENDANCE=ATTENDANCE, today=runtime().clock.today())


def _back(meeting_id: int, message: str):
    flash(message)
    return redirect(url_for("meetings.detail", meeting_id=meeting_id))


@bp.post("/meetings/<int:meeting_id>/materials")
@streaming_upload()
@login_required
def upload_material(meeting_id: int):
    svc = meetings()
    meeting = svc.manageable(signed_in_user(), meeting_id)
    upload = open_upload(missing="请选择要上传的会议材料")
    fields = upload.fields_as(ms.MaterialFields)
    row = svc.add_material(signed_in_user(), meeting, upload.part, upload.filename, fields.title)
    upload.finish()
    return _back(meeting_id, f"已添加会议材料：{row.document.title}")


@bp.post("/meetings/<int:meeting_id>/send")
@login_required
def send(meeting_id: int):
    svc = meetings()
    d = svc.send_materials(signed_in_user(), svc.manageable(signed_in_user(), meeting_id))
    return _back(meeting_id, "会议议题和材料已送达参会单位" + ("（晚于第二十四条期限）" if d.late else ""))


@bp.post("/meetings/<int:meeting_id>/attendance")
@login_required
def attendance(meeting_id: int):
    svc = meetings()
    meeting = svc.manageable(signed_in_user(), meeting_id)
    form = request.form
    entries = [{"participant": p.id, **({"attendance": form[f"att_{p.id}"]} if form.get(f"att_{p.id}") else {}),
                **({"name": form[f"name_{p.id}"]} if form.get(f"name_{p.id}") else {})} for p in meeting.participants]
    data = validate_form(ms.AttendanceInput, {"entries": entries})
    svc.record_attendance(signed_in_user(), meeting, [e.model_dump() for e in data.entries])
    return _back(meeting_id, "出席情况已登记")


@bp.post("/meetings/<int:meeting_id>/cancel")
@login_required
def cancel(meeting_id: int):
    svc = meetings()
    meeting = svc.manageable(signed_in_user(), meeting_id)
    svc.cancel(signed_in_user(), meeting, parse_form(ms.CancelInput).reason)
    return _back(meeting_id, "会议已取消")


@bp.route("/meetings/<int:meeting_id>/minutes", methods=["GET", "POST"])
@login_required
def draft_minutes(meeting_id: int):
    meeting = meetings().manageable(signed_in_user(), meeting_id)
    svc = minutes()
    error, status = None, 200
    if request.method == "POST":
        decisions = [line for line in request.form.get("decisions", "").splitlines() if line.strip()]
        title = request.form.get("title")
        try:
            data = validate_form(ms.MinutesInput, {"decisions": decisions, **({"title": title} if title else {})})
            svc.draft(signed_in_user(), meeting, data.decisions, data.title)
        except DomainError as exc:
            db().rollback()
            error, status = exc.message, status_of(exc)
        else:
            return _back(meeting_id, "纪要稿已生成，请提交审签（由会议主持人签发）")
    from correspondence.minutes import attendance_block

    return render_template("ui/meetings/minutes.html", meeting=meeting, error=error, form=request.form,
                           attendance=attendance_block(meeting), existing=svc.for_meeting(meeting)), status


@bp.get("/meetings/<int:meeting_id>/minutes/preview.pdf")
@login_required
def minutes_preview(meeting_id: int):
    """预览: the minutes in 纪要格式 from the stored decisions (or ?decisions=… lines), nothing saved."""
    meeting = meetings().get(signed_in_user(), meeting_id)
    svc = minutes()
    row = svc.for_meeting(meeting)
    query = parse_query(ms.MinutesPreviewQuery)
    lines = [x for x in query.decisions.splitlines() if x.strip()]
    if not lines and row is not None:
        lines = json.loads(row.decisions)
    spec = svc.spec_for(meeting, lines, row.title if row else query.title)
    resp = Response(render_preview(spec), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = "inline; filename=minutes-preview.pdf"
    return resp


# -- 我的工作 ---------------------------------------------------------------------------------------
def work_sections(user) -> list:
    svc = services().meetings
    today = runtime().clock.today()
    items = []
    for m in svc.visible(user, limit=50):
        if m.status != "scheduled" or m.meeting_date < today:
            continue
        manage = permissions.can_manage_meeting(user, m.convener_id)
        pending = manage and m.materials_sent_at is None
        items.append(mywork.WorkItem(
            label=f"{m.kind_label}：{m.title}（{cn_date(m.meeting_date)}）",
            url=url_for("meetings.detail", meeting_id=m.id),
            due=m.materials_deadline if pending else None, overdue=pending and today > m.materials_deadline,
            note="材料待送达" if pending else ("材料已送达" if m.materials_sent_at else "")))
    for n in svc.notifications(user, unread_only=True)[:20]:
        from ..clock import local_time

        items.append(mywork.WorkItem(label=n.message, url=url_for("meetings.detail", meeting_id=n.meeting_id),
                                     note=f"通知于 {local_time(n.created_at)}"))
    due = [mywork.WorkItem(label=f"纪要：{row.title}", url=url_for("meetings.detail", meeting_id=row.meeting_id),
                           due=st.due, overdue=st.overdue, note=f"{st.signed_by}已审签，3个工作日内印发")
           for row, st in services().minutes.pending_for(user)]
    return [mywork.WorkSection("会议", items, order=40), mywork.WorkSection("待印发纪要", due, order=45)]


from . import meetings_api  # noqa: E402, F401  (API routes on this blueprint; it imports this module)
