"""One declaration per API operation: the pydantic models that validate its input also document it.

A view under /api/v1 is declared with :func:`operation`::

    @bp.post("/letters")
    @api_login_required
    @operation("起草函或纪要", body=LetterCreate, responses={201: Letter}, errors=(403, 422))
    def create_letter(body: LetterCreate): ...

The decorator parses the JSON body (within the limits of :mod:`.limits`) and the query string into the
models, answers 400/422 in the API's error shape before the view runs (so bad input changes nothing),
and passes the validated models as ``body=`` / ``query=``. :func:`openapi_document` walks
``app.url_map`` and builds the OpenAPI 3.1 document from the same declarations.
"""
from __future__ import annotations

import re
import typing
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import current_app, request
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from ..errors import BadRequest, Unprocessable
from .limits import BODY_NOT_OBJECT, MAX_ID, read_json

# -- pydantic errors in Chinese --------------------------------------------------------------------
_MESSAGES = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不认识的字段",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_inexact": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "string_type": "应为字符串",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "string_too_short": "不能为空",
    "too_short": "不能为空",
    "string_too_long": "过长",
    "too_long": "过长（条目过多）",
    "string_pattern_mismatch": "格式不正确",
    "greater_than_equal": "过小",
    "greater_than": "过小",
    "less_than_equal": "过大",
    "less_than": "过大",
    "union_tag_invalid": "取值不在允许范围内",
}


def _limit_text(err: ErrorDetails) -> str:
    ctx = err.get("ctx") or {}
    kind = err["type"]
    if kind == "string_too_long":
        return f"过长（不超过 {ctx.get('max_length')} 个字符）"
    if kind == "too_long":
        return f"条目过多（不超过 {ctx.get('max_length')} 项）"
    if kind in {"greater_than_equal", "greater_than"}:
        return f"过小（不小于 {ctx.get('ge', ctx.get('gt'))}）"
    if kind in {"less_than_equal", "less_than"}:
        return f"过大（不大于 {ctx.get('le', ctx.get('lt'))}）"
    if kind == "literal_error" and ctx.get("expected"):
        return f"取值不在允许范围内（可选：{ctx['expected']}）"
    return _MESSAGES.get(kind, "取值无效")


_UNION_TAG = re.compile(r"^(constrained-\w+|[a-z-]+\[.*\]|int|str|float|bool|bytes|date|list|dict|none)$")


def _field_errors(exc: ValidationError) -> list[tuple[str, ErrorDetails, bool]]:
    """(dotted field, error, came from a union branch), one per field: the most telling branch error."""
    groups: dict[str, list[tuple[ErrorDetails, bool]]] = {}
    for err in exc.errors(include_url=False, include_input=False):
        parts, tagged = [], False
        for i, p in enumerate(err["loc"]):
            if i > 0 and isinstance(p, str) and _UNION_TAG.match(p):
                tagged = True
                continue
            parts.append(str(p))
        groups.setdefault(".".join(parts), []).append((err, tagged))
    out: list[tuple[str, ErrorDetails, bool]] = []
    for loc, errs in groups.items():
        err, tagged = next(((e, t) for e, t in errs if not e["type"].endswith(("_type", "_parsing"))), errs[0])
        out.append((loc, err, tagged or len(errs) > 1))
    return out


def unprocessable(exc: ValidationError, prefix: str = "") -> Unprocessable:
    """A pydantic ValidationError → 422 whose message and ``details.field`` name the first bad field."""
    errors = []
    for loc, err, union in _field_errors(exc):
        if err["type"] == "value_error":
            msg = str(err.get("msg", "")).removeprefix("Value error, ")
            if ": " in msg and not loc:
                loc, msg = msg.split(": ", 1)
        elif union and err["type"].endswith(("_type", "_parsing")):
            msg = "取值类型不正确"
        else:
            msg = _limit_text(err)
        errors.append({"field": prefix + loc if loc else (prefix.rstrip(".") or "body"), "message": msg})
    first = errors[0]
    return Unprocessable(f"{first['field']}：{first['message']}", field=first["field"], errors=errors)


M = typing.TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: Any, prefix: str = "") -> M:
    """``data`` as ``model``; 422 naming the first bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise unprocessable(exc, prefix) from None


def parse_query(model: type[M]) -> M:
    """The query string as ``model``; a bad parameter is 400 (the request line is malformed)."""
    try:
        return model.model_validate(query_dict(model))
    except ValidationError as exc:
        err = unprocessable(exc)
        raise BadRequest(err.message, **err.details) from None


# -- the registry -----------------------------------------------------------------------------------
@dataclass
class Operation:
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    form: type[BaseModel] | None = None  # multipart bodies: documented here, read by the upload path
    responses: dict = field(default_factory=dict)
    errors: tuple = ()
    description: str | None = None
    public: bool = False
    path_enums: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    validate_body: bool = True


def operation(summary: str, *, body=None, query=None, form=None, responses=None, errors=(), description=None,
              public=False, path_enums=None, headers=None, validate_body=True):
    """Declare (and validate the input of) one API operation; see the module docstring.

    ``validate_body=False``: the view validates ``body`` itself with the same model (e.g. a render spec
    also used by the preview page); it is still documented from that model.
    """
    op = Operation(summary, body, query, form, dict(responses or {200: None}), tuple(errors), description, public,
                   dict(path_enums or {}), dict(headers or {}), validate_body)

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if op.query is not None:
                kwargs["query"] = parse_query(op.query)
            if op.body is not None and op.validate_body:
                kwargs["body"] = validate(op.body, read_json())
            return view(*args, **kwargs)

        wrapper.__openapi__ = op  # type: ignore[attr-defined]
        return wrapper

    return decorate


def query_dict(model: type[BaseModel], source=None) -> dict:
    """The query string (or ``source``, e.g. a form) as a dict for ``model``: list-typed fields take every
    value, others the first; an empty value counts as absent (HTML forms send blank fields)."""
    args = request.args if source is None else source
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if typing.get_origin(info.annotation) is list:
            values = [v for v in args.getlist(key) if v != ""]
            if values:
                out[key] = values
        elif args.get(key, "") != "":
            out[key] = args[key]
    return out


# Field labels of the HTML forms' error messages (the API's messages name the JSON field).
FORM_LABELS = {
    "username": "用户名", "password": "密码", "title": "标题", "reason": "原因", "attendance": "出席情况",
    "name": "姓名", "participant": "参会者", "decisions": "议定事项", "action": "操作", "opinion": "意见",
    "note": "说明", "purpose": "调阅目的", "days": "天数", "contact": "联系方式", "items": "档案",
    "item_id": "档案", "form": "调阅方式", "q": "查询", "proposal": "鉴定意见", "review_id": "鉴定记录",
    "retention": "保管期限", "unit": "机构（问题）代码", "ref": "文件", "description": "说明",
    "to_department": "接收单位", "fonds": "全宗号", "year": "年度", "query": "查询", "exceptions": "例外说明",
    "version_sha256": "版本摘要", "revoke": "令牌编号", "info_id": "信息请求", "outcome": "处理结果",
    "result": "处理情况", "address": "邮箱地址", "what": "操作", "source_type": "来源", "after": "翻页位置",
}


def form_error(exc: Unprocessable) -> Unprocessable:
    """An HTML form's 422 whose message names the field in Chinese (``details`` unchanged)."""
    field = str(exc.details.get("field", ""))
    label = FORM_LABELS.get(field.split(".")[-1] if not field.split(".")[-1].isdigit() else field.split(".")[0])
    if not label or not exc.message.startswith(field + "："):
        return exc
    return Unprocessable(label + exc.message[len(field):], **exc.details)


def validate_form(model: type[M], data: Any) -> M:
    """``data`` (read from an HTML form) as ``model``; 422 naming the first bad field in Chinese."""
    try:
        return validate(model, data)
    except Unprocessable as exc:
        raise form_error(exc) from None


def parse_form(model: type[M]) -> M:
    """The request's HTML form as ``model`` (fields the model does not name, like csrf_token, are left out);
    422 naming the first bad field."""
    return validate_form(model, query_dict(model, request.form))


# -- the OpenAPI document -------------------------------------------------------------------------
REF = "#/components/schemas/{model}"
_RULE_ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_ERROR_CODES = {400: "请求格式错误（如：" + BODY_NOT_OBJECT + "）", 401: "未登录或令牌无效", 403: "无权执行此操作",
                404: "对象不存在或无权查看", 409: "与当前状态冲突", 413: "请求体或文件过大", 415: "不支持的内容类型",
                422: "内容无法处理（details.field 指出字段）", 429: "请求过于频繁", 503: "服务暂不可用"}


class _Schemas:
    def __init__(self):
        self.components: dict[str, dict] = {}

    def ref(self, model, mode: typing.Literal["validation", "serialization"] = "validation") -> dict:
        if isinstance(model, dict):
            return model
        if isinstance(model, type) and issubclass(model, BaseModel):
            schema = model.model_json_schema(ref_template=REF, mode=mode)
        else:
            schema = TypeAdapter(model).json_schema(ref_template=REF, mode=mode)
        for name, sub in schema.pop("$defs", {}).items():
            self.components.setdefault(name, sub)
        if isinstance(model, type) and issubclass(model, BaseModel):
            name = getattr(model, "openapi_name", model.__name__)
            schema.pop("title", None)
            self.components.setdefault(name, schema)
            return {"$ref": REF.format(model=name)}
        return schema


def _path_of(rule) -> tuple[str, list[dict]]:
    """``/letters/<int:letter_id>`` → ``/letters/{id}`` (a route's one integer id is documented as ``id``)."""
    params = []
    ints = [m for m in _RULE_ARG.finditer(rule.rule) if m.group(1) == "int"]

    def sub(m):
        conv, name = m.group(1) or "default", m.group(2)
        if conv == "int" and len(ints) == 1:
            name = "id"
        schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID} if conv == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return _RULE_ARG.sub(sub, rule.rule), params


def _query_params(schemas: _Schemas, model) -> list[dict]:
    schema = model.model_json_schema(ref_template=REF)
    for name, sub in schema.pop("$defs", {}).items():
        schemas.components.setdefault(name, sub)
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if prop.get("description"):
            param["description"] = prop["description"]
        if prop.get("type") == "array":
            param.update(style="form", explode=True)
        out.append(param)
    return out


def _response(schemas: _Schemas, status: int, spec) -> dict:
    if spec is None:
        return {"description": "成功" if status < 300 else "错误"}
    if isinstance(spec, str):
        return {"description": spec}
    if isinstance(spec, dict):
        return spec
    if isinstance(spec, tuple):  # (description, media type, schema or None)
        desc, media, schema = spec
        return {"description": desc, "content": {media: {"schema": schemas.ref(schema) if schema else
                                                          {"type": "string", "format": "binary"}}}}
    doc = (spec.__doc__ or "").strip().splitlines()
    return {"description": doc[0] if doc else "成功",
            "content": {"application/json": {"schema": schemas.ref(spec, "serialization")}}}


def operation_document(schemas: _Schemas, op: Operation, path_params: list[dict]) -> dict:
    for p in path_params:
        if p["name"] in op.path_enums:
            p["schema"] = {"type": "string", "enum": list(op.path_enums[p["name"]])}
    out: dict[str, Any] = {"summary": op.summary}
    if op.description:
        out["description"] = op.description
    if op.public:
        out["security"] = []
    params = list(path_params)
    if op.query is not None:
        params += _query_params(schemas, op.query)
    for name, schema in op.headers.items():
        params.append({"name": name, "in": "header", "required": False, "schema": schema})
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": schemas.ref(op.body)}}}
    elif op.form is not None:
        out["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": schemas.ref(op.form)}}}
    responses = {str(status): _response(schemas, status, spec) for status, spec in op.responses.items()}
    codes = set(op.errors)
    if not op.public:
        codes.add(401)
    if op.body is not None or op.form is not None:
        codes |= {400, 413, 422}
    if op.query is not None:
        codes.add(400)
    if path_params:
        codes.add(404)
    for code in sorted(codes):
        responses[str(code)] = {"$ref": "#/components/responses/E" + str(code)}
    out["responses"] = responses
    return out


def api_operations(app) -> list[tuple[str, str, Any, Any]]:
    """(path, method, rule, view) for every rule under /api/v1, in url_map order."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((rule.rule, method.lower(), rule, view))
    return out


def openapi_document(app=None) -> dict:
    from .schemas import ErrorBody

    app = app or current_app
    schemas = _Schemas()
    paths: dict[str, dict] = {}
    for _rule_text, method, rule, view in api_operations(app):
        op = getattr(view, "__openapi__", None)
        if op is None:
            continue  # undocumented: tests/test_openapi_routes.py fails on it
        path, params = _path_of(rule)
        paths.setdefault(path, {})[method] = operation_document(schemas, op, params)
    error_ref = schemas.ref(ErrorBody, "serialization")
    probes = (("/healthz", "存活检查", None), ("/readyz", "就绪检查（数据库、存储）", "不可用"))
    for path, summary, unavailable in probes:
        responses: dict[str, dict] = {"200": {"description": "ok"}}
        if unavailable:
            responses["503"] = {"description": unavailable}
        paths[path] = {"get": {"summary": summary, "security": [], "responses": responses}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "石城县审管协调电子档案与公文系统 API", "version": "1",
                 "description": "错误统一为 {\"error\": {\"code\", \"message\", \"details\"}}，message 为中文；"
                                "请求体不是 JSON 对象时 400（" + BODY_NOT_OBJECT + "），字段不合规时 422，"
                                "details.field 指出字段。"},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "网页会话；修改类请求须带 X-CSRF-Token 头"},
            },
            "responses": {f"E{code}": {"description": text, "content": {"application/json": {"schema": error_ref}}}
                          for code, text in _ERROR_CODES.items()},
            "schemas": dict(sorted(schemas.components.items())),
        },
    }
