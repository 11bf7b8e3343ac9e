"""OpenAPI paths and schemas of /api/v1/meetings (registered at import by web/meetings.py)."""
from __future__ import annotations

from correspondence.meeting_models import ATTENDANCE, CAPACITIES, MEETING_KINDS, TOPIC_CATEGORIES

from .openapi import errors, register_paths, register_schemas

_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _json(ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def _paths() -> dict:
    meeting = {"description": "会议", "content": _json("Meeting")}
    minutes = {"description": "纪要及其印发期限", "content": _json("Minutes")}
    return {
        "/api/v1/meetings": {
            "get": {"summary": "我可见的会议（召集单位、参会单位、参会人员）",
                    "responses": {"200": {"description": "会议列表"}, **errors(401)}},
            "post": {"summary": "安排联席会议或联络员会议（第二十二条；材料期限见第二十四条）",
                     "description": "材料最迟送达日 = 会议日期 − 3 个工作日。该日已过时拒绝（422 deadline_violation，"
                                    "details 含 latest_day 与 earliest_meeting），除非填写 urgent_reason（记入审计）。",
                     "requestBody": {"required": True, "content": _json("MeetingInput")},
                     "responses": {"201": meeting, **errors(400, 401, 403, 422)}},
        },
        "/api/v1/meetings/deadline": {"get": {
            "summary": "计算会议材料最迟送达日（会议日期 − 3 个工作日）",
            "parameters": [{"name": "date", "in": "query", "required": True,
                            "schema": {"type": "string", "format": "date"}}],
            "responses": {"200": {"description": "latest_day、earliest_meeting、missed"}, **errors(401, 422)}}},
        "/api/v1/meetings/{id}": {"get": {"summary": "会议详情（议题、参会者、材料、送达记录）", "parameters": [_ID],
                                          "responses": {"200": meeting, **errors(401, 404)}}},
        "/api/v1/meetings/{id}/materials": {"post": {
            "summary": "上传会议材料（归召集单位所有，送达时授权参会单位）", "parameters": [_ID],
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}, "title": {"type": "string"}}}}}},
            "responses": {"201": {"description": "已添加"}, **errors(400, 401, 403, 404, 409, 413, 422)}}},
        "/api/v1/meetings/{id}/send": {"post": {
            "summary": "送达议题和材料：授权并通知每个参会单位和人员，记录时间；晚于最迟送达日标记为逾期",
            "parameters": [_ID], "responses": {"200": {"description": "送达记录"}, **errors(401, 403, 404, 409)}}},
        "/api/v1/meetings/{id}/attendance": {"post": {
            "summary": "登记出席情况（会议召开后）", "parameters": [_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["entries"], "properties": {"entries": {"type": "array", "items": {
                    "type": "object", "required": ["participant", "attendance"],
                    "properties": {"participant": {"type": "integer"},
                                   "attendance": {"type": "string", "enum": [k for k in ATTENDANCE if k]},
                                   "name": {"type": "string", "description": "单位参会者的姓名"}}}}}}}}},
            "responses": {"200": meeting, **errors(401, 403, 404, 409, 422)}}},
        "/api/v1/meetings/{id}/minutes": {
            "get": {"summary": "会议纪要状态（审签日、印发期限 = 审签后 3 个工作日、是否逾期）", "parameters": [_ID],
                    "responses": {"200": minutes, **errors(401, 404)}},
            "post": {"summary": "由会议起草纪要（议定事项编号；出席/请假/列席取自出席登记）", "parameters": [_ID],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["decisions"],
                         "properties": {"decisions": {"type": "array", "items": {"type": "string"}},
                                        "title": {"type": "string"}}}}}},
                     "responses": {"201": minutes, **errors(401, 403, 404, 409, 422)}},
        },
        "/api/v1/meetings/{id}/minutes/act": {"post": {
            "summary": "纪要审签操作（仅在未安装公文流程时使用；签发须由会议主持人）", "parameters": [_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["action"],
                "properties": {"action": {"type": "string", "enum": ["submit", "pass", "return", "sign", "recheck",
                                                                      "register", "issue"]},
                               "opinion": {"type": "string"}}}}}},
            "responses": {"200": minutes, **errors(401, 403, 404, 409, 422)}}},
    }


def _schemas() -> dict:
    return {
        "MeetingInput": {"type": "object", "required": ["kind", "title", "meeting_date", "topics", "participants"],
                         "properties": {
                             "kind": {"type": "string", "enum": list(MEETING_KINDS)},
                             "title": {"type": "string", "maxLength": 200},
                             "meeting_date": {"type": "string", "format": "date"},
                             "start_time": {"type": "string"}, "location": {"type": "string"},
                             "convener": {"type": "string", "description": "部门代码或名称；默认县行政审批局"},
                             "industry_supervision": {"type": "boolean", "description": "监管部门召集时须为 true"},
                             "chair": {"type": "string", "description": "主持人用户名（召集单位的签发人）"},
                             "urgent_reason": {"type": "string"},
                             "topics": {"type": "array", "items": {"type": "object", "required": ["title", "category"],
                                        "properties": {"title": {"type": "string"},
                                                       "category": {"type": "string", "enum": list(TOPIC_CATEGORIES)}}}},
                             "participants": {"type": "array", "items": {"type": "object", "properties": {
                                 "department": {"type": "string"}, "user": {"type": "string"},
                                 "capacity": {"type": "string", "enum": list(CAPACITIES)}}}}}},
        "Meeting": {"type": "object", "properties": {
            "id": {"type": "integer"}, "kind": {"type": "string"}, "title": {"type": "string"},
            "convener": {"type": "string"}, "chair": {"type": "string"},
            "meeting_date": {"type": "string", "format": "date"},
            "materials_deadline": {"type": "string", "format": "date"}, "deadline_rule": {"type": "string"},
            "urgent_reason": {"type": "string"}, "status": {"type": "string"},
            "materials_sent_at": {"type": ["string", "null"], "format": "date-time"},
            "materials_late": {"type": "boolean"}, "topics": {"type": "array"}, "participants": {"type": "array"},
            "materials": {"type": "array"}, "dispatches": {"type": "array"}}},
        "Minutes": {"type": "object", "properties": {
            "id": {"type": "integer"}, "meeting_id": {"type": "integer"}, "title": {"type": "string"},
            "letter_id": {"type": ["integer", "null"]}, "state": {"type": "string"},
            "signed_at": {"type": ["string", "null"], "format": "date-time"}, "signed_by": {"type": "string"},
            "issue_due": {"type": ["string", "null"], "format": "date"},
            "issued_at": {"type": ["string", "null"], "format": "date-time"},
            "overdue": {"type": "boolean"}, "issued_late": {"type": "boolean"}}},
    }


register_paths(_paths)
register_schemas(_schemas)
