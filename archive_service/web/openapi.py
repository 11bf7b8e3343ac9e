"""The OpenAPI 3.1 document for /api/v1."""
from __future__ import annotations

ERROR = {"$ref": "#/components/responses/Error"}

# Feature blueprints add their paths and schemas here at import: register_paths(lambda: {...}).
_PATH_PROVIDERS = []
_SCHEMA_PROVIDERS = []


def register_paths(provider) -> None:
    """``provider()`` returns {path: {method: operation}} merged into the document."""
    _PATH_PROVIDERS.append(provider)


def register_schemas(provider) -> None:
    """``provider()`` returns {name: schema} merged into components.schemas."""
    _SCHEMA_PROVIDERS.append(provider)


def _errors(*codes: int) -> dict:
    return {str(c): ERROR for c in codes}


def openapi_document() -> dict:
    doc = _core_document()
    for provider in _PATH_PROVIDERS:
        for path, ops in provider().items():
            doc["paths"].setdefault(path, {}).update(ops)
    for provider in _SCHEMA_PROVIDERS:
        doc["components"]["schemas"].update(provider())
    return doc


def errors(*codes: int) -> dict:
    """Error responses for an operation (for feature blueprints)."""
    return _errors(*codes)


def _core_document() -> dict:
    doc_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    paging = [
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
        {"name": "size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
    ]
    return {
        "openapi": "3.1.0",
        "info": {"title": "石城县审管协调电子档案与公文系统 API", "version": "1"},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/api/v1/auth/token": {
                "post": {"summary": "用户名和密码换取访问令牌", "security": [],
                         "requestBody": {"required": True, "content": {"application/json": {"schema": {
                             "type": "object", "required": ["username", "password"],
                             "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}},
                         "responses": {"201": {"description": "令牌", "content": {"application/json": {"schema": {
                             "$ref": "#/components/schemas/Token"}}}}, **_errors(400, 401, 429)}},
                "delete": {"summary": "撤销当前令牌", "responses": {"204": {"description": "已撤销"},
                                                                  **_errors(400, 401)}},
            },
            "/api/v1/me": {"get": {"summary": "当前用户", "responses": {"200": {"description": "用户"},
                                                                     **_errors(401)}}},
            "/api/v1/documents": {
                "post": {"summary": "上传文件，创建文档",
                         "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                             "type": "object", "required": ["file"],
                             "properties": {"title": {"type": "string", "maxLength": 300},
                                            "file": {"type": "string", "format": "binary"}}}}}},
                         "responses": {"201": {"description": "已创建", "content": {"application/json": {
                             "schema": {"$ref": "#/components/schemas/Document"}}}},
                             **_errors(400, 401, 413, 422, 503)}},
                "get": {"summary": "本部门文档列表（分页）", "parameters": paging,
                        "responses": {"200": {"description": "一页文档", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/DocumentPage"}}}}, **_errors(400, 401)}},
            },
            "/api/v1/documents/{id}": {"get": {
                "summary": "文档详情（含版本）", "parameters": [doc_id],
                "responses": {"200": {"description": "文档", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Document"}}}}, **_errors(401, 404)}}},
            "/api/v1/documents/{id}/versions": {"post": {
                "summary": "上传新版本（已归档的文档拒绝：409）", "parameters": [doc_id],
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}}}}}},
                "responses": {"201": {"description": "新版本"}, **_errors(401, 404, 409, 413, 422)}}},
            "/api/v1/documents/{id}/content": {"get": {
                "summary": "下载内容（支持 Range；文件名按 RFC 5987 编码）",
                "parameters": [doc_id, {"name": "version", "in": "query", "schema": {"type": "integer"}},
                               {"name": "Range", "in": "header", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "文件内容"}, "206": {"description": "部分内容"},
                              "416": {"description": "范围无效"}, **_errors(401, 404)}}},
            "/api/v1/liaisons/gaps": {"get": {"summary": "联络员备案缺口（第二十一条）",
                                              "responses": {"200": {"description": "缺口列表"}, **_errors(401)}}},
            "/api/v1/audit": {"get": {"summary": "审计日志（安全审计员）", "parameters": paging + [
                {"name": "action", "in": "query", "schema": {"type": "string"}},
                {"name": "actor", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "事件"}, **_errors(401, 403)}}},
            "/healthz": {"get": {"summary": "存活检查", "security": [], "responses": {"200": {"description": "ok"}}}},
            "/readyz": {"get": {"summary": "就绪检查（数据库、存储）", "security": [],
                                "responses": {"200": {"description": "ok"}, "503": {"description": "不可用"}}}},
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "网页会话；修改类请求须带 X-CSRF-Token 头"},
            },
            "responses": {"Error": {"description": "错误", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Error"}}}}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                   "details": {"type": "object"}}}}},
                "Token": {"type": "object", "properties": {"token": {"type": "string"},
                                                           "token_type": {"type": "string"},
                                                           "username": {"type": "string"},
                                                           "expires_at": {"type": "string", "format": "date-time"}}},
                "Document": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "title": {"type": "string"}, "kind": {"type": "string"},
                    "department": {"type": "string"}, "department_code": {"type": "string"},
                    "version": {"type": "integer"}, "filename": {"type": "string"},
                    "size": {"type": "integer"}, "media_type": {"type": "string"},
                    "sha256": {"type": "string"}, "sm3": {"type": "string"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "updated_at": {"type": "string", "format": "date-time"},
                    "created_by": {"type": "string"}}},
                "DocumentPage": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Document"}},
                    "total": {"type": "integer"}, "page": {"type": "integer"}, "size": {"type": "integer"},
                    "pages": {"type": "integer"}}},
            },
        },
    }
