"""JSON API under /api/v1 (documented in openapi.py)."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, g, jsonify, request

from .. import permissions
from ..directory import liaison_gaps
from ..errors import BadRequest, Unauthorized
from ..models import Document
from .context import current_user, db, runtime
from .openapi import openapi_document
from .paging import keyset_args, page_json
from .transfer import download_response, page_args, receive_upload, receive_version
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
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("请求体须为 JSON 对象")
    return data


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
def openapi():
    return jsonify(openapi_document())


@bp.post("/auth/token")
def issue_token():
    data = json_body()
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise BadRequest("需要 username 和 password 字段")
    auth = runtime().authenticator(db())
    user = auth.login(username, password, request.remote_addr or "")
    token, row = auth.issue_token(user)
    db().commit()
    return jsonify({"token": token, "token_type": "Bearer", "username": user.username,
                    "expires_at": row.expires_at.isoformat() + "Z"}), 201


@bp.delete("/auth/token")
@api_login_required
def revoke_token():
    header = request.headers.get("Authorization", "")
    if not g.get("via_token"):
        raise BadRequest("请用要撤销的令牌发起此请求")
    runtime().authenticator(db()).revoke_token(current_user(), header[7:].strip())
    db().commit()
    return "", 204


@bp.get("/me")
@api_login_required
def me():
    u = current_user()
    return jsonify({"id": u.id, "username": u.username, "full_name": u.full_name,
                    "department": u.department.name, "roles": sorted(u.roles)})


@bp.post("/documents")
@streaming_upload()
@api_login_required
def create_document():
    doc = receive_upload(current_user(), require_csrf=not g.get("via_token"))
    return jsonify(document_json(doc)), 201


@bp.get("/documents")
@api_login_required
def list_documents():
    service = runtime().documents(db())
    if "page" in request.args:  # OFFSET paging, kept for older clients (deep pages are slow)
        page, size = page_args()
        result = service.list(current_user(), page, size)
        return jsonify({"items": [document_json(d) for d in result.items], "total": result.total,
                        "page": result.page, "size": result.size, "pages": result.pages})
    result = service.page(current_user(), **keyset_args())
    return jsonify({"items": [document_json(d) for d in result.items], **page_json(result)})


@bp.get("/documents/<int:doc_id>")
@api_login_required
def get_document(doc_id: int):
    doc = runtime().documents(db()).get(current_user(), doc_id)
    body = document_json(doc)
    body["versions"] = [{"number": v.number, "filename": v.filename, "size": v.blob.size,
                         "media_type": v.blob.media_type, "sha256": v.blob.sha256, "sm3": v.blob.sm3,
                         "created_at": v.created_at.isoformat() + "Z"} for v in doc.versions]
    return jsonify(body)


@bp.post("/documents/<int:doc_id>/versions")
@streaming_upload()
@api_login_required
def add_document_version(doc_id: int):
    version = receive_version(current_user(), doc_id)
    return jsonify({"document_id": doc_id, "version": version.number, "filename": version.filename}), 201


@bp.get("/documents/<int:doc_id>/content")
@api_login_required
def document_content(doc_id: int):
    return download_response(current_user(), doc_id)


@bp.get("/liaisons/gaps")
@api_login_required
def liaison_gap_list():
    gaps = liaison_gaps(db())
    return jsonify({"gaps": [{"department": gp.department.name, "department_code": gp.department.code,
                              "filed_with": gp.filed_with.name, "filed_with_code": gp.filed_with.code,
                              "message": gp.message} for gp in gaps], "total": len(gaps)})


@bp.get("/audit")
@api_login_required
def audit_events():
    from .audit_pages import audit_page, audit_query

    permissions.require_auditor(current_user())
    if "page" in request.args:  # OFFSET paging, kept for older clients (deep pages are slow)
        page, size = page_args(50)
        rows = db().execute(audit_query(request.args).offset((page - 1) * size).limit(size)).scalars().all()
        extra = {"page": page, "size": size}
    else:
        result = audit_page(db(), request.args, **keyset_args(50))
        rows, extra = result.items, page_json(result)
    return jsonify({"items": [{"id": e.id, "at": e.at.isoformat() + "Z", "actor": e.actor_name,
                               "department_id": e.department_id, "action": e.action,
                               "target_type": e.target_type, "target_id": e.target_id,
                               "details": e.details, "hash": e.hash} for e in rows], **extra})


