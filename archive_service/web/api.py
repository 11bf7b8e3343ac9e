"""JSON API under /api/v1: each operation is declared (and its input validated) with apispec.operation."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, g, jsonify, request

from .. import permissions
from ..directory import can_maintain_liaisons
from ..errors import BadRequest, Forbidden, NotFound, Unauthorized, Unprocessable
from ..models import Document, Liaison
from . import schemas as s
from .apispec import openapi_document, operation
from .context import authenticate, current_user, signed_in_user
from .limits import read_json
from .paging import page_json
from .services import services
from .transfer import download_response, receive_upload, receive_version
from .upload_marks import streaming_upload

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def api_login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_user() is None:
            raise Unauthorized("需要登录或有效的访问令牌（Authorization: Bearer …）")
        return view(*args, **kwargs)

    return wrapper


def json_body() -> dict:
    """The JSON object of the request (size, nesting and character limits applied); 400 otherwise."""
    return read_json()


def document_json(doc: Document) -> dict:
    v = doc.versions[-1]
    return {
        "id": doc.id, "title": doc.title, "kind": doc.kind, "department": doc.department.name,
        "department_code": doc.department.code, "version": doc.current_version, "filename": v.filename,
        "size": v.blob.size, "media_type": v.blob.media_type, "sha256": v.blob.sha256, "sm3": v.blob.sm3,
        "created_at": doc.created_at.isoformat() + "Z", "updated_at": doc.updated_at.isoformat() + "Z",
        "created_by": doc.creator.username,
    }


@bp.get("/openapi.json")
@operation("本 API 的 OpenAPI 3.1 文档", responses={200: s.OpenApiDocument}, public=True)
def openapi():
    return jsonify(openapi_document())


@bp.post("/auth/token")
@operation("用户名和密码换取访问令牌", body=s.TokenRequest, responses={201: s.Token}, errors=(401, 429), public=True)
def issue_token(body: s.TokenRequest):
    user = authenticate(body.username, body.password)
    token, row = services().authenticator.issue_token(user)
    return jsonify({"token": token, "token_type": "Bearer", "username": user.username,
                    "expires_at": row.expires_at.isoformat() + "Z"}), 201


@bp.delete("/auth/token")
@api_login_required
@operation("撤销当前令牌", responses={204: "已撤销"}, errors=(400,))
def revoke_token():
    header = request.headers.get("Authorization", "")
    if not g.get("via_token"):
        raise BadRequest("请用要撤销的令牌发起此请求")
    services().authenticator.revoke_token(signed_in_user(), header[7:].strip())
    return "", 204


@bp.get("/me")
@api_login_required
@operation("当前用户", responses={200: s.Me})
def me():
    u = signed_in_user()
    return jsonify({"id": u.id, "username": u.username, "full_name": u.full_name,
                    "department": u.department.name, "roles": sorted(u.roles)})


@bp.post("/documents")
@streaming_upload()
@api_login_required
@operation("上传文件，创建文档（流式接收，大小上限见 ARCHIVE_MAX_UPLOAD_MB）", form=s.DocumentUpload,
           responses={201: s.Document}, errors=(415, 503))
def create_document():
    doc = receive_upload(signed_in_user(), require_csrf=not g.get("via_token"))
    return jsonify(document_json(doc)), 201


@bp.get("/documents")
@api_login_required
@operation("本部门文档列表（按游标翻页；带 page 时按页码翻页）", query=s.ListQuery, responses={200: s.DocumentPage})
def list_documents(query: s.ListQuery):
    service = services().documents
    if query.page is not None:  # OFFSET paging, kept for older clients (deep pages are slow)
        numbered = service.list(signed_in_user(), query.page, query.size or 20)
        return jsonify({"items": [document_json(d) for d in numbered.items], "total": numbered.total,
                        "page": numbered.page, "size": numbered.size, "pages": numbered.pages})
    result = service.page(signed_in_user(), **query.keyset(20))
    return jsonify({"items": [document_json(d) for d in result.items], **page_json(result)})


@bp.get("/documents/<int:doc_id>")
@api_login_required
@operation("文档详情（含版本）", responses={200: s.Document})
def get_document(doc_id: int):
    doc = services().documents.get(signed_in_user(), doc_id)
    body = document_json(doc)
    body["versions"] = [{"number": v.number, "filename": v.filename, "size": v.blob.size,
                         "media_type": v.blob.media_type, "sha256": v.blob.sha256, "sm3": v.blob.sm3,
                         "created_at": v.created_at.isoformat() + "Z"} for v in doc.versions]
    return jsonify(body)


@bp.post("/documents/<int:doc_id>/versions")
@streaming_upload()
@api_login_required
@operation("上传新版本（流式接收；已归档的文档 409）", form=s.DocumentUpload, responses={201: s.NewVersion},
           errors=(403, 409, 415, 503))
def add_document_version(doc_id: int):
    version = receive_version(signed_in_user(), doc_id)
    return jsonify({"document_id": doc_id, "version": version.number, "filename": version.filename}), 201


@bp.get("/documents/<int:doc_id>/content")
@api_login_required
@operation("下载内容（支持 Range；文件名按 RFC 5987 编码）", query=s.VersionQuery,
           headers={"Range": {"type": "string", "description": "如 bytes=0-1023"}},
           responses={200: ("文件内容", "application/octet-stream", None), 206: "部分内容", 416: "范围无效"})
def document_content(doc_id: int, query: s.VersionQuery):
    return download_response(signed_in_user(), doc_id, query.version)


@bp.get("/liaisons/gaps")
@api_login_required
@operation("联络员备案缺口（第二十一条）", responses={200: s.LiaisonGaps})
def liaison_gap_list():
    gaps = services().roster.liaison_gaps()
    return jsonify({"gaps": [{"department": gp.department.name, "department_code": gp.department.code,
                              "filed_with": gp.filed_with.name, "filed_with_code": gp.filed_with.code,
                              "message": gp.message} for gp in gaps], "total": len(gaps)})


def liaison_json(row: Liaison) -> dict:
    return {"id": row.id, "department": row.department.name, "department_code": row.department.code,
            "name": row.user.full_name, "username": row.user.username, "phone": row.phone,
            "filed_with": row.filed_with.name, "filed_with_code": row.filed_with.code,
            "filed_on": row.filed_on.isoformat()}


@bp.get("/liaisons")
@api_login_required
@operation("联络员名录（第二十一条）：各部门备案的联络员、电话、备案对象；所有登录用户可见",
           responses={200: s.LiaisonList})
def liaison_list():
    return jsonify({"items": [liaison_json(r) for r in services().roster.liaison_directory()]})


@bp.post("/liaisons")
@api_login_required
@operation("备案联络员（系统管理员，或本部门签发人、联络员）", body=s.LiaisonInput, responses={201: s.LiaisonOut},
           errors=(403, 409))
def liaison_file(body: s.LiaisonInput):

    actor = signed_in_user()
    user = services().roster.find_user(body.user)
    if user is None:
        raise Unprocessable(f"用户不存在：{body.user}", field="user")
    if not can_maintain_liaisons(actor, user.department):
        raise Forbidden("只有系统管理员或本部门的签发人、联络员可以备案联络员")
    try:
        filed_with = services().roster.find_department(body.filed_with)
    except NotFound:
        raise Unprocessable(f"部门不存在：{body.filed_with}", field="filed_with") from None
    row = services().directory(actor).file_liaison(user, filed_with, body.phone)
    return jsonify(liaison_json(row)), 201


@bp.delete("/liaisons/<int:liaison_id>")
@api_login_required
@operation("撤回联络员备案（系统管理员，或本部门签发人、联络员）", responses={204: "已撤回"}, errors=(403,))
def liaison_withdraw(liaison_id: int):
    actor = signed_in_user()
    row = services().directory(actor).row(Liaison, liaison_id, "联络员备案不存在")
    if not can_maintain_liaisons(actor, row.department):
        raise Forbidden("只有系统管理员或本部门的签发人、联络员可以撤回联络员备案")
    services().directory(actor).withdraw_liaison(row)
    return "", 204


@bp.get("/audit")
@api_login_required
@operation("审计日志（安全审计员；按游标翻页，带 page 时按页码翻页）", query=s.AuditQuery, responses={200: s.AuditPage},
           errors=(403,))
def audit_events(query: s.AuditQuery):
    permissions.require_auditor(signed_in_user())
    filters = query.model_dump(include={"action", "actor", "target"}, exclude_none=True)
    if query.page is not None:  # OFFSET paging, kept for older clients (deep pages are slow)
        page, size = query.page, query.size or 50
        rows = services().activity.offset_page(filters, page, size)
        extra = {"page": page, "size": size}
    else:
        result = services().activity.page(filters, **query.keyset(50))
        rows, extra = result.items, page_json(result)
    return jsonify({"items": [{"id": e.id, "at": e.at.isoformat() + "Z", "actor": e.actor_name,
                               "department_id": e.department_id, "action": e.action,
                               "target_type": e.target_type, "target_id": e.target_id,
                               "details": e.details, "hash": e.hash} for e in rows], **extra})


