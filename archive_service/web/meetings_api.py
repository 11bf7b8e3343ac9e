"""JSON API of meetings and minutes under /api/v1/meetings (routes on the meetings blueprint)."""
from __future__ import annotations

from flask import jsonify, request

from correspondence.meeting_models import Meeting, MeetingMinutes
from correspondence.meetings import cn_date
from correspondence.minutes import MinutesService

from ..errors import NotFound, Unprocessable
from .api import api_login_required, json_body
from .context import current_user, db
from .meetings import bp, meetings, minutes, parse_date, schedule_from
from .upload_marks import streaming_upload
from .uploads import open_upload


# -- JSON ------------------------------------------------------------------------------------------
def meeting_json(m: Meeting, detail: bool = False) -> dict:
    body = {
        "id": m.id, "kind": m.kind, "kind_label": m.kind_label, "title": m.title, "convener": m.convener.name,
        "industry_supervision": m.industry_supervision, "chair": m.chair.username, "chair_name": m.chair.full_name,
        "meeting_date": m.meeting_date.isoformat(), "start_time": m.start_time, "location": m.location,
        "materials_deadline": m.materials_deadline.isoformat(), "deadline_rule": m.deadline_rule,
        "urgent_reason": m.urgent_reason, "status": m.status,
        "materials_sent_at": m.materials_sent_at.isoformat() + "Z" if m.materials_sent_at else None,
        "materials_late": m.materials_late,
    }
    if detail:
        body["topics"] = [{"title": t.title, "category": t.category, "category_label": t.category_label}
                          for t in m.topics]
        body["participants"] = [{"id": p.id, "department": p.department.name, "user": p.user.username if p.user else None,
                                 "person": p.person, "capacity": p.capacity, "attendance": p.attendance}
                                for p in m.participants]
        body["materials"] = [{"document_id": x.document_id, "title": x.document.title,
                              "sent_at": x.sent_at.isoformat() + "Z" if x.sent_at else None} for x in m.materials]
        body["dispatches"] = [{"sent_at": d.sent_at.isoformat() + "Z", "sent_on": d.sent_on.isoformat(),
                               "late": d.late, "materials": d.material_count} for d in m.dispatches]
    return body


def minutes_json(svc: MinutesService, row: MeetingMinutes) -> dict:
    st = svc.status(row)
    return {"id": row.id, "meeting_id": row.meeting_id, "title": row.title, "letter_id": row.letter_id,
            "state": st.state, "state_label": st.state_label,
            "signed_at": st.signed_at.isoformat() + "Z" if st.signed_at else None, "signed_by": st.signed_by,
            "issue_due": st.due.isoformat() if st.due else None,
            "issued_at": st.issued_at.isoformat() + "Z" if st.issued_at else None,
            "overdue": st.overdue, "issued_late": st.issued_late, "signed_by_chair": st.by_chair}


@bp.get("/api/v1/meetings")
@api_login_required
def api_list():
    return jsonify({"items": [meeting_json(m) for m in meetings().visible(current_user())]})


@bp.post("/api/v1/meetings")
@api_login_required
def api_schedule():
    meeting = schedule_from(json_body())
    db().commit()
    return jsonify(meeting_json(meeting, detail=True)), 201


@bp.get("/api/v1/meetings/deadline")
@api_login_required
def api_deadline():
    check = meetings().check_deadline(parse_date(request.args.get("date"), "date"))
    return jsonify({"meeting_date": check.meeting_date.isoformat(), "latest_day": check.latest_day.isoformat(),
                    "today": check.today.isoformat(), "missed": check.missed,
                    "earliest_meeting": check.earliest_meeting.isoformat(),
                    "message": check.message() if check.missed else
                    f"材料最迟须于{cn_date(check.latest_day)}送达参会单位（第二十四条）"})


@bp.get("/api/v1/meetings/<int:meeting_id>")
@api_login_required
def api_get(meeting_id: int):
    return jsonify(meeting_json(meetings().get(current_user(), meeting_id), detail=True))


@bp.post("/api/v1/meetings/<int:meeting_id>/materials")
@streaming_upload()
@api_login_required
def api_material(meeting_id: int):
    svc = meetings()
    meeting = svc.manageable(current_user(), meeting_id)
    upload = open_upload()
    row = svc.add_material(current_user(), meeting, upload.part, upload.filename, upload.fields.get("title"))
    upload.finish()
    db().commit()
    return jsonify({"document_id": row.document_id, "title": row.document.title}), 201


@bp.post("/api/v1/meetings/<int:meeting_id>/send")
@api_login_required
def api_send(meeting_id: int):
    svc = meetings()
    d = svc.send_materials(current_user(), svc.manageable(current_user(), meeting_id))
    db().commit()
    return jsonify({"sent_at": d.sent_at.isoformat() + "Z", "late": d.late, "materials": d.material_count})


@bp.post("/api/v1/meetings/<int:meeting_id>/attendance")
@api_login_required
def api_attendance(meeting_id: int):
    entries = json_body().get("entries")
    if not isinstance(entries, list):
        raise Unprocessable("entries 须为列表：[{participant, attendance, name}]")
    svc = meetings()
    meeting = svc.manageable(current_user(), meeting_id)
    svc.record_attendance(current_user(), meeting, entries)
    db().commit()
    return jsonify(meeting_json(meeting, detail=True))


@bp.get("/api/v1/meetings/<int:meeting_id>/minutes")
@api_login_required
def api_minutes(meeting_id: int):
    meeting = meetings().get(current_user(), meeting_id)
    svc = minutes()
    row = svc.for_meeting(meeting)
    if row is None:
        raise NotFound("本次会议尚无纪要")
    return jsonify(minutes_json(svc, row))


@bp.post("/api/v1/meetings/<int:meeting_id>/minutes")
@api_login_required
def api_draft_minutes(meeting_id: int):
    data = json_body()
    decisions = data.get("decisions")
    if not isinstance(decisions, list):
        raise Unprocessable("decisions 须为议定事项列表")
    meeting = meetings().manageable(current_user(), meeting_id)
    svc = minutes()
    row = svc.draft(current_user(), meeting, decisions, data.get("title"))
    db().commit()
    return jsonify(minutes_json(svc, row)), 201


@bp.post("/api/v1/meetings/<int:meeting_id>/minutes/act")
@api_login_required
def api_minutes_act(meeting_id: int):
    data = json_body()
    meeting = meetings().get(current_user(), meeting_id)
    svc = minutes()
    row = svc.for_meeting(meeting)
    if row is None:
        raise NotFound("本次会议尚无纪要")
    svc.act(current_user(), row, str(data.get("action") or ""), str(data.get("opinion") or ""))
    db().commit()
    return jsonify(minutes_json(svc, row))
