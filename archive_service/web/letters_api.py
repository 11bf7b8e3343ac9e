"""/api/v1 endpoints for letters (函), their sign-off chain, issue, and the inbox (收文)."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ..permissions import require_admin
from . import letters_schemas as ls
from .api import api_login_required
from .apispec import operation
from .context import current_user, signed_in_user
from .letters_common import final_version, inbox, issuing, letter_preview_pdf, letters, verification
from .paging import next_link, page_json
from .schemas import KeysetQuery, SignatureReport
from .services import services
from .transfer import send_audited
from .upload_marks import streaming_upload
from .uploads import open_upload

bp = Blueprint("letters_api", __name__, url_prefix="/api/v1")


def letter_json(letter, service, user) -> dict:
    data = letter.data
    internal = service.is_internal(user, letter)
    out = {"id": letter.id, "kind": letter.kind, "title": letter.title, "issuer": letter.issuer.name,
           "department": letter.department.name, "number": letter.number, "urgency": letter.urgency,
           "disclosure": data.get("disclosure", ""),
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
        out["recipients"] = [{"department": r.department.name, "role": r.role, "state": r.state,
                              "returned_reason": next((x.opinion for x in reversed(r.steps) if x.action == "return"),
                                                      None)} for r in letter.recipients]
    item = inbox().item_for_letter(user, letter)
    if item is not None:
        out["inbox_item"] = item_json(item)
    return out


def item_json(item) -> dict:
    reminder = inbox().reminder(item)
    return {"id": item.id, "letter_id": item.letter_id, "number": item.letter.number, "title": item.letter.title,
            "issuer": item.letter.issuer.name, "role": item.role, "state": item.state,
            "state_label": item.state_label,
            "received_at": item.received_at.isoformat() + "Z" if item.received_at else None,
            "incoming_number": item.incoming_number, "handler": item.handler.username if item.handler else None,
            "due_on": item.due_on.isoformat() if item.due_on else None,
            "overdue": inbox().overdue(item), "reply_letter_id": item.reply_letter_id,
            "reminder": reminder_label(reminder),
            "steps": [{"action": s.action, "label": s.action_label, "actor": s.actor_name, "opinion": s.opinion,
                       "at": s.at.isoformat() + "Z"} for s in item.steps],
            "readings": [{"user": r.user.username, "name": r.user.full_name, "sent_at": r.sent_at.isoformat() + "Z",
                          "read_at": r.read_at.isoformat() + "Z" if r.read_at else None} for r in item.readings]}


def reminder_label(reminder) -> str | None:
    """催办 as a person reads it: 临近办理期限（还有 N 个工作日） / 已逾期 N 个工作日."""
    if reminder is None:
        return None
    kind, days = reminder
    return f"已逾期 {days} 个工作日" if kind == "overdue" else f"临近办理期限（还有 {days} 个工作日）"


@bp.get("/letters")
@api_login_required
@operation("我的公文工作清单（草稿、待核稿、待签发、待印发、已印发；按游标翻页）", query=ls.LetterListQuery,
           responses={200: ls.LetterLists})
def list_letters(query: ls.LetterListQuery):
    service, user = letters(), signed_in_user()
    page = service.visible_page(user, query.size, query.cursor())
    lists = service.worklists(user, page.items)
    body: dict = {key: [{"id": letter.id, "title": letter.title, "number": letter.number, "state": flow.state}
                        for letter, flow in rows] for key, rows in lists.items()}
    return jsonify({**body, "next_cursor": page.next_cursor, "next": next_link(page.next_cursor)})


@bp.post("/letters")
@api_login_required
@operation("起草函或纪要（拟稿）", body=ls.LetterCreate, responses={201: ls.Letter}, errors=(403, 404))
def create_letter(body: ls.LetterCreate):
    service = letters()
    letter = service.create_draft(current_user(), kind=body.kind, **body.fields())
    return jsonify(letter_json(letter, service, current_user())), 201


@bp.get("/letters/<int:letter_id>")
@api_login_required
@operation("公文详情（含处理过程）", responses={200: ls.Letter})
def get_letter(letter_id: int):
    service = letters()
    return jsonify(letter_json(service.get(current_user(), letter_id), service, current_user()))


@bp.patch("/letters/<int:letter_id>")
@api_login_required
@operation("修改文稿（产生新版本；签发后修改使签发作废）", body=ls.LetterUpdate, responses={200: ls.Letter},
           errors=(403, 409))
def update_letter(letter_id: int, body: ls.LetterUpdate):
    service, user = letters(), current_user()
    letter = service.get(user, letter_id)
    fields = body.fields()
    fields.pop("reply_to_id", None)
    service.update(user, letter, seen_sha256=body.version_sha256, **fields)
    return jsonify(letter_json(letter, service, user))


@bp.post("/letters/<int:letter_id>/actions")
@api_login_required
@operation("审签流转：提交核稿、核稿通过、退回、签发/会签、复核、登记（编号）、印发", body=ls.LetterAction,
           responses={200: ls.Letter}, errors=(403, 409))
def letter_action(letter_id: int, body: ls.LetterAction):
    action, sha = body.action, body.version_sha256
    service, user = letters(), current_user()
    letter = service.get(user, letter_id)
    if action == "register":
        issuing().register(user, letter, sha)
    elif action == "issue":
        issuing().issue(user, letter, sha)
    else:
        service.act(user, letter, action, sha, body.opinion or "")
    return jsonify(letter_json(service.get(user, letter_id), service, user))


@bp.post("/letters/<int:letter_id>/attachments")
@streaming_upload()
@api_login_required
@operation("上传附件（产生新版本）", form=ls.AttachmentUpload, responses={201: ls.Letter}, errors=(403, 409))
def letter_attachment(letter_id: int):
    service, user = letters(), current_user()
    letter = service.get(user, letter_id)
    upload = open_upload()
    service.add_attachment(user, letter, upload.part, upload.filename)
    upload.finish()
    return jsonify(letter_json(letter, service, user)), 201


@bp.get("/letters/<int:letter_id>/preview")
@api_login_required
@operation("预览当前版本（PDF，不保存）", responses={200: ("PDF", "application/pdf", None)}, errors=(422,))
def letter_preview(letter_id: int):
    return Response(letter_preview_pdf(signed_in_user(), letter_id), mimetype="application/pdf")


@bp.get("/letters/<int:letter_id>/files/<what>")
@api_login_required
@operation("下载印发文件：docx、pdf（已签名）、sheet（公文处理单，仅发文机关）",
           path_enums={"what": ["docx", "pdf", "sheet"]},
           responses={200: ("文件", "application/octet-stream", None)})
def letter_file(letter_id: int, what: str):
    user = signed_in_user()
    version = final_version(user, letters().get(user, letter_id), what)
    return send_audited(user, version)


@bp.get("/letters/<int:letter_id>/signature")
@api_login_required
@operation("验证已印发 PDF 的签名", responses={200: SignatureReport})
def letter_signature(letter_id: int):
    user = signed_in_user()
    return jsonify(verification(user, letters().get(user, letter_id)))


@bp.get("/letter-templates")
@api_login_required
@operation("函的模板（协商函等）", responses={200: ls.LetterTemplates})
def letter_templates():
    from correspondence.doc_templates import letter_templates as templates

    return jsonify({"items": templates()})


@bp.get("/inbox")
@api_login_required
@operation("本单位收文（含逾期标记；按游标翻页）", query=KeysetQuery, responses={200: ls.InboxList})
def inbox_items(query: KeysetQuery):
    page = inbox().page(current_user(), **query.keyset(50))
    return jsonify({"items": [item_json(i) for i in page.items], **page_json(page)})


@bp.get("/inbox/<int:item_id>/sheet")
@api_login_required
@operation("收文处理单（PDF/A，收文单位签名；含各环节办理人、时间、意见和传阅回执）",
           responses={200: ("PDF", "application/pdf", None)}, errors=(403,))
def inbox_sheet(item_id: int):
    return Response(services().inbox_sheets.pdf(signed_in_user(), item_id), mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename=inbox-sheet-{item_id}.pdf",
                             "Cache-Control": "no-store"})


@bp.post("/inbox/<int:item_id>/actions")
@api_login_required
@operation("收文办理：签收、登记、初审（或退回）、拟办、批办（交办，期限按工作日）、传阅、阅知、催办、答复（起草复函）、办结",
           body=ls.InboxAction,
           responses={200: ls.InboxResult}, errors=(403, 409))
def inbox_action(item_id: int, body: ls.InboxAction):
    from .inbox import run_action

    outcome = run_action(current_user(), item_id, body)
    item = inbox().item(current_user(), item_id)
    out: dict[str, object] = {"item": item_json(item), "message": outcome.message}
    if outcome.reply_letter_id is not None:
        out["reply_letter_id"] = outcome.reply_letter_id
    return jsonify(out)


@bp.get("/agency-codes")
@api_login_required
@operation("机关代字表", responses={200: ls.AgencyCodes})
def agency_codes():

    rows = services().numbering.table()
    return jsonify({"items": [{"department": d.name, "department_id": d.id, "kind": k, "prefix": p}
                              for d, k, p in rows]})


@bp.put("/agency-codes")
@api_login_required
@operation("设置机关代字（系统管理员）", body=ls.AgencyCodeSet, responses={200: ls.AgencyCode}, errors=(403, 404))
def set_agency_code(body: ls.AgencyCodeSet):

    require_admin(signed_in_user())
    dept = services().roster.get_department(body.department_id)
    row = services().numbering.set_prefix(signed_in_user(), dept, body.kind, body.prefix)
    return jsonify({"department_id": dept.id, "kind": row.kind, "prefix": row.prefix})
