"""/api/v1 endpoints for letters (函), their sign-off chain, issue, and the inbox (收文)."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ..errors import BadRequest, NotFound
from ..models import Department
from ..permissions import require_admin
from .api import api_login_required, json_body
from .context import current_user, db, runtime
from .letters_common import (fields_from_json, final_version, inbox, issuing, letter_preview_pdf, letters,
                             verification)
from .openapi import errors, register_paths
from .paging import keyset_args, page_json
from .transfer import send_audited
from .upload_marks import streaming_upload
from .uploads import open_upload

bp = Blueprint("letters_api", __name__, url_prefix="/api/v1")


def letter_json(letter, service, user) -> dict:
    data = letter.data
    internal = service.is_internal(user, letter)
    out = {"id": letter.id, "kind": letter.kind, "title": letter.title, "issuer": letter.issuer.name,
           "department": letter.department.name, "number": letter.number, "urgency": letter.urgency,
           "to": data["to"], "cc": data["cc"], "distribution": data.get("distribution", []),
           "co_issuers": data.get("co_issuers", []), "body": data["body"], "note": data.get("note", ""),
           "attachments": data.get("attachments", []), "attendance": data.get("attendance"),
           "upward": data.get("upward", False), "reply_to_id": letter.reply_to_id, "meeting_id": letter.meeting_id,
           "written_on": letter.written_on.isoformat() if letter.written_on else None,
           "issued_at": letter.issued_at.isoformat() + "Z" if letter.issued_at else None,
           "version_sha256": letter.content_sha256, "document_id": letter.document_id if internal else None,
           "final_document_id": letter.final_document_id}
    if internal:
        flow = service.flow(letter)
        out["state"] = flow.state
        out["state_label"] = flow.state_label
        out["steps"] = [{"action": s.action, "label": s.action_label, "actor": s.actor_name, "opinion": s.opinion,
                         "at": s.at.isoformat() + "Z", "version_sha256": s.version_sha256, "voided": s.voided}
                        for s in flow.steps]
        out["recipients"] = [{"department": r.department.name, "role": r.role, "state": r.state}
                             for r in letter.recipients]
    item = inbox().item_for_letter(user, letter)
    if item is not None:
        out["inbox_item"] = item_json(item)
    return out


def item_json(item) -> dict:
    return {"id": item.id, "letter_id": item.letter_id, "number": item.letter.number, "title": item.letter.title,
            "issuer": item.letter.issuer.name, "role": item.role, "state": item.state,
            "received_at": item.received_at.isoformat() + "Z" if item.received_at else None,
            "incoming_number": item.incoming_number, "handler": item.handler.username if item.handler else None,
            "due_on": item.due_on.isoformat() if item.due_on else None,
            "overdue": inbox().overdue(item), "reply_letter_id": item.reply_letter_id}


@bp.get("/letters")
@api_login_required
def list_letters():
    service, user = letters(), current_user()
    lists = service.worklists(user)
    return jsonify({key: [{"id": letter.id, "title": letter.title, "number": letter.number, "state": flow.state}
                          for letter, flow in rows] for key, rows in lists.items()})


@bp.post("/letters")
@api_login_required
def create_letter():
    data = json_body()
    kind = data.get("kind", "letter")
    service = letters()
    letter = service.create_draft(current_user(), kind=kind, **fields_from_json(data))
    return jsonify(letter_json(letter, service, current_user())), 201


@bp.get("/letters/<int:letter_id>")
@api_login_required
def get_letter(letter_id: int):
    service = letters()
    return jsonify(letter_json(service.get(current_user(), letter_id), service, current_user()))


@bp.patch("/letters/<int:letter_id>")
@api_login_required
def update_letter(letter_id: int):
    data = json_body()
    service, user = letters(), current_user()
    letter = service.get(user, letter_id)
    fields = fields_from_json(data)
    fields.pop("reply_to_id", None)
    service.update(user, letter, seen_sha256=data.get("version_sha256"), **fields)
    return jsonify(letter_json(letter, service, user))


@bp.post("/letters/<int:letter_id>/actions")
@api_login_required
def letter_action(letter_id: int):
    data = json_body()
    action, sha = data.get("action"), data.get("version_sha256")
    if not isinstance(action, str) or not isinstance(sha, str):
        raise BadRequest("需要 action 和 version_sha256 字段")
    service, user = letters(), current_user()
    letter = service.get(user, letter_id)
    if action == "register":
        issuing().register(user, letter, sha)
    elif action == "issue":
        issuing().issue(user, letter, sha)
    else:
        service.act(user, letter, action, sha, str(data.get("opinion") or ""))
    return jsonify(letter_json(service.get(user, letter_id), service, user))


@bp.post("/letters/<int:letter_id>/attachments")
@streaming_upload()
@api_login_required
def letter_attachment(letter_id: int):
    service, user = letters(), current_user()
    letter = service.get(user, letter_id)
    upload = open_upload()
    service.add_attachment(user, letter, upload.part, upload.filename)
    upload.finish()
    return jsonify(letter_json(letter, service, user)), 201


@bp.get("/letters/<int:letter_id>/preview")
@api_login_required
def letter_preview(letter_id: int):
    return Response(letter_preview_pdf(current_user(), letter_id), mimetype="application/pdf")


@bp.get("/letters/<int:letter_id>/files/<what>")
@api_login_required
def letter_file(letter_id: int, what: str):
    user = current_user()
    version = final_version(user, letters().get(user, letter_id), what)
    return send_audited(user, version)


@bp.get("/letters/<int:letter_id>/signature")
@api_login_required
def letter_signature(letter_id: int):
    user = current_user()
    return jsonify(verification(user, letters().get(user, letter_id)))


@bp.get("/letter-templates")
@api_login_required
def letter_templates():
    from correspondence.doc_templates import letter_templates as templates

    return jsonify({"items": templates()})


@bp.get("/inbox")
@api_login_required
def inbox_items():
    page = inbox().page(current_user(), **keyset_args(50))
    return jsonify({"items": [item_json(i) for i in page.items], **page_json(page)})


@bp.post("/inbox/<int:item_id>/actions")
@api_login_required
def inbox_action(item_id: int):
    from .inbox import run_action

    data = json_body()
    message = run_action(current_user(), item_id, str(data.get("action", "")), data)
    item = inbox().item(current_user(), item_id)
    body = {"item": item_json(item), "message": message}
    if message.startswith("reply:"):
        body["reply_letter_id"] = int(message[6:])
    return jsonify(body)


@bp.get("/agency-codes")
@api_login_required
def agency_codes():
    from correspondence.numbering import Numbering

    rows = Numbering(db(), runtime().clock).table()
    return jsonify({"items": [{"department": d.name, "department_id": d.id, "kind": k, "prefix": p}
                              for d, k, p in rows]})


@bp.put("/agency-codes")
@api_login_required
def set_agency_code():
    from correspondence.numbering import Numbering

    require_admin(current_user())
    data = json_body()
    dept = db().get(Department, int(data.get("department_id") or 0))
    if dept is None:
        raise NotFound("部门不存在")
    row = Numbering(db(), runtime().clock).set_prefix(current_user(), dept, str(data.get("kind", "")),
                                                      str(data.get("prefix", "")))
    db().commit()
    return jsonify({"department_id": dept.id, "kind": row.kind, "prefix": row.prefix})


def _paths() -> dict:
    lid = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    js = lambda schema: {"required": True, "content": {"application/json": {"schema": schema}}}  # noqa: E731
    ok = lambda d: {"200": {"description": d}}  # noqa: E731
    letter_in = {"type": "object", "properties": {
        "kind": {"enum": ["letter", "minutes"]}, "template": {"type": "string"}, "title": {"type": "string"},
        "to": {"type": "array", "items": {"type": ["string", "integer"]}, "description": "主送机关（名称、代码或编号）"},
        "cc": {"type": "array", "items": {"type": ["string", "integer"]}},
        "distribution": {"type": "array", "items": {"type": ["string", "integer"]}, "description": "纪要分送单位"},
        "co_issuers": {"type": "array", "items": {"type": ["string", "integer"]}, "description": "联合发文会签机关"},
        "body": {"type": "array", "items": {"type": "string"}}, "note": {"type": "string", "description": "附注"},
        "urgency": {"enum": ["", "加急", "特急"]}, "upward": {"type": "boolean"},
        "classification": {"type": "string", "description": "密级：只接受“非密”，其他取值 422"},
        "attendance": {"type": "object"}, "meeting_id": {"type": "integer"}, "reply_to_id": {"type": "integer"},
        "version_sha256": {"type": "string", "description": "修改时：所见版本的摘要"}}}
    action_in = {"type": "object", "required": ["action", "version_sha256"], "properties": {
        "action": {"enum": ["submit", "pass", "return", "sign", "recheck", "register", "issue"]},
        "version_sha256": {"type": "string"}, "opinion": {"type": "string"}}}
    inbox_in = {"type": "object", "required": ["action"], "properties": {
        "action": {"enum": ["receive", "register", "assign", "reply"]}, "handler": {"type": ["string", "integer"]},
        "days": {"type": "integer"}, "due_on": {"type": "string", "format": "date"}, "title": {"type": "string"},
        "body": {"type": "array", "items": {"type": "string"}}, "note": {"type": "string"}}}
    return {
        "/api/v1/letters": {
            "get": {"summary": "我的公文工作清单（草稿、待核稿、待签发、待印发、已印发）", "responses": {**ok("清单"), **errors(401)}},
            "post": {"summary": "起草函或纪要（拟稿）", "requestBody": js(letter_in),
                     "responses": {"201": {"description": "草稿"}, **errors(400, 401, 403, 422)}}},
        "/api/v1/letters/{id}": {
            "get": {"summary": "公文详情（含处理过程）", "parameters": lid, "responses": {**ok("公文"), **errors(401, 404)}},
            "patch": {"summary": "修改文稿（产生新版本；签发后修改使签发作废）", "parameters": lid, "requestBody": js(letter_in),
                      "responses": {**ok("公文"), **errors(401, 403, 404, 409, 422)}}},
        "/api/v1/letters/{id}/actions": {"post": {
            "summary": "审签流转：提交核稿、核稿通过、退回、签发/会签、复核、登记（编号）、印发", "parameters": lid,
            "requestBody": js(action_in), "responses": {**ok("公文"), **errors(400, 401, 403, 404, 409, 422)}}},
        "/api/v1/letters/{id}/attachments": {"post": {
            "summary": "上传附件（产生新版本）", "parameters": lid,
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}},
            "responses": {"201": {"description": "公文"}, **errors(400, 401, 403, 404, 409)}}},
        "/api/v1/letters/{id}/preview": {"get": {"summary": "预览当前版本（PDF，不保存）", "parameters": lid,
                                                 "responses": {**ok("PDF"), **errors(401, 404, 422)}}},
        "/api/v1/letters/{id}/files/{what}": {"get": {
            "summary": "下载印发文件：docx、pdf（已签名）、sheet（公文处理单，仅发文机关）",
            "parameters": lid + [{"name": "what", "in": "path", "required": True,
                                  "schema": {"enum": ["docx", "pdf", "sheet"]}}],
            "responses": {**ok("文件"), **errors(401, 404)}}},
        "/api/v1/letters/{id}/signature": {"get": {"summary": "验证已印发 PDF 的签名", "parameters": lid,
                                                   "responses": {**ok("验证报告"), **errors(401, 404)}}},
        "/api/v1/letter-templates": {"get": {"summary": "函的模板（协商函等）", "responses": {**ok("模板"), **errors(401)}}},
        "/api/v1/inbox": {"get": {"summary": "本单位收文（含逾期标记）", "responses": {**ok("收文"), **errors(401)}}},
        "/api/v1/inbox/{id}/actions": {"post": {
            "summary": "收文办理：签收、登记、承办（交办，期限按工作日）、答复（起草复函）", "parameters": lid,
            "requestBody": js(inbox_in), "responses": {**ok("收文"), **errors(400, 401, 403, 404, 409, 422)}}},
        "/api/v1/agency-codes": {
            "get": {"summary": "机关代字表", "responses": {**ok("代字"), **errors(401)}},
            "put": {"summary": "设置机关代字（系统管理员）", "requestBody": js({"type": "object", "properties": {
                "department_id": {"type": "integer"}, "kind": {"enum": ["letter", "minutes", "incoming"]},
                "prefix": {"type": "string"}}}), "responses": {**ok("代字"), **errors(401, 403, 404, 422)}}},
    }


register_paths(_paths)
