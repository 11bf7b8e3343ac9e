"""JSON API of meetings and minutes under /api/v1/meetings (routes on the meetings blueprint)."""
from __future__ import annotations

from flask import jsonify

from correspondence.meeting_models import Meeting, MeetingMinutes
from correspondence.meetings import cn_date
from correspondence.minutes import MinutesService

from ..errors import NotFound
from . import meetings_schemas as ms
from .api import api_login_required
from .apispec import operation
from .context import signed_in_user
from .meetings import bp, meetings, minutes, schedule_from
from .paging import next_link
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
        body["participants"] = [{"id": p.id, "department": p.department.name,
                                 "user": p.user.username if p.user else None, "person": p.person,
                                 "capacity": p.capacity, "attendance": p.attendance}
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
@operation("我可见的会议（召集单位、参会单位、参会人员；按游标翻页）", query=ms.MeetingListQuery,
           responses={200: ms.MeetingList})
def api_list(query: ms.MeetingListQuery):
    rows, following = meetings().visible_page(signed_in_user(), query.size, query.cursor())
    cursor = following.encode() if following else None
    return jsonify({"items": [meeting_json(m) for m in rows], "next_cursor": cursor, "next": next_link(cursor)})


@bp.post("/api/v1/meetings")
@api_login_required
@operation("安排联席会议或联络员会议（第二十二条；材料期限见第二十四条）", body=ms.MeetingInput,
           description="材料最迟送达日 = 会议日期 − 3 个工作日。该日已过时拒绝（422 deadline_violation，"
                       "details 含 latest_day 与 earliest_meeting），除非填写 urgent_reason（记入审计）。",
           responses={201: ms.Meeting}, errors=(403,))
def api_schedule(body: ms.MeetingInput):
    meeting = schedule_from(body)
    return jsonify(meeting_json(meeting, detail=True)), 201


@bp.get("/api/v1/meetings/deadline")
@api_login_required
@operation("计算会议材料最迟送达日（会议日期 − 3 个工作日）", query=ms.DeadlineQuery, responses={200: ms.Deadline})
def api_deadline(query: ms.DeadlineQuery):
    check = meetings().check_deadline(query.date)
    return jsonify({"meeting_date": check.meeting_date.isoformat(), "latest_day": check.latest_day.isoformat(),
                    "today": check.today.isoformat(), "missed": check.missed,
                    "earliest_meeting": check.earliest_meeting.isoformat(),
                    "message": check.message() if check.missed else
                    f"材料最迟须于{cn_date(check.latest_day)}送达参会单位（第二十四条）"})


@bp.get("/api/v1/meetings/<int:meeting_id>")
@api_login_required
@operation("会议详情（议题、参会者、材料、送达记录）", responses={200: ms.Meeting})
def api_get(meeting_id: int):
    return jsonify(meeting_json(meetings().get(signed_in_user(), meeting_id), detail=True))


@bp.post("/api/v1/meetings/<int:meeting_id>/materials")
@streaming_upload()
@api_login_required
@operation("上传会议材料（归召集单位所有，送达时授权参会单位）", form=ms.MaterialUpload,
           responses={201: ms.MaterialOut},
           errors=(403, 409))
def api_material(meeting_id: int):
    svc = meetings()
    meeting = svc.manageable(signed_in_user(), meeting_id)
    upload = open_upload()
    row = svc.add_material(signed_in_user(), meeting, upload.part, upload.filename,
                           upload.fields_as(ms.MaterialFields).title)
    upload.finish()
    return jsonify({"document_id": row.document_id, "title": row.document.title}), 201


@bp.post("/api/v1/meetings/<int:meeting_id>/send")
@api_login_required
@operation("送达议题和材料：授权并通知每个参会单位和人员，记录时间；晚于最迟送达日标记为逾期",
           responses={200: ms.Dispatch}, errors=(403, 409))
def api_send(meeting_id: int):
    svc = meetings()
    d = svc.send_materials(signed_in_user(), svc.manageable(signed_in_user(), meeting_id))
    return jsonify({"sent_at": d.sent_at.isoformat() + "Z", "late": d.late, "materials": d.material_count})


@bp.post("/api/v1/meetings/<int:meeting_id>/attendance")
@api_login_required
@operation("登记出席情况（会议召开后）", body=ms.AttendanceInput, responses={200: ms.Meeting}, errors=(403, 409))
def api_attendance(meeting_id: int, body: ms.AttendanceInput):
    svc = meetings()
    meeting = svc.manageable(signed_in_user(), meeting_id)
    svc.record_attendance(signed_in_user(), meeting, [e.model_dump() for e in body.entries])
    return jsonify(meeting_json(meeting, detail=True))


@bp.get("/api/v1/meetings/<int:meeting_id>/minutes")
@api_login_required
@operation("会议纪要状态（审签日、印发期限 = 审签后 3 个工作日、是否逾期）", responses={200: ms.Minutes})
def api_minutes(meeting_id: int):
    meeting = meetings().get(signed_in_user(), meeting_id)
    svc = minutes()
    row = svc.for_meeting(meeting)
    if row is None:
        raise NotFound("本次会议尚无纪要")
    return jsonify(minutes_json(svc, row))


@bp.post("/api/v1/meetings/<int:meeting_id>/minutes")
@api_login_required
@operation("由会议起草纪要（议定事项编号；出席/请假/列席取自出席登记）", body=ms.MinutesInput,
           responses={201: ms.Minutes}, errors=(403, 409))
def api_draft_minutes(meeting_id: int, body: ms.MinutesInput):
    meeting = meetings().manageable(signed_in_user(), meeting_id)
    svc = minutes()
    row = svc.draft(signed_in_user(), meeting, body.decisions, body.title)
    return jsonify(minutes_json(svc, row)), 201
