"""Preview: POST /api/v1/render turns a JSON spec into a PDF or DOCX without saving anything."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from ..errors import BadRequest, Unprocessable
from .api import api_login_required
from .openapi import errors, register_paths, register_schemas
from .pages import login_required

bp = Blueprint("render", __name__)

MEDIA = {"pdf": "application/pdf",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def _format(data: dict) -> str:
    fmt = request.args.get("format") or data.pop("format", None)
    if not fmt:
        accept = request.accept_mimetypes
        fmt = "docx" if accept.best_match([MEDIA["pdf"], MEDIA["docx"]]) == MEDIA["docx"] and \
            accept[MEDIA["docx"]] > accept[MEDIA["pdf"]] else "pdf"
    if fmt not in MEDIA:
        raise BadRequest("format 只能是 pdf 或 docx", field="format")
    return fmt


def render_response(data) -> Response:
    from correspondence.render_docx import render_docx
    from correspondence.render_pdf import render_pdf
    from correspondence.spec import SpecError, parse_spec

    if not isinstance(data, dict):
        raise BadRequest("请求体须为 JSON 对象（渲染规格）")
    data = dict(data)
    fmt = _format(data)
    try:
        spec = parse_spec(data)
    except SpecError as exc:
        raise Unprocessable(f"{exc.field}：{exc.message}", field=exc.field, errors=exc.errors) from None
    content = render_pdf(spec) if fmt == "pdf" else render_docx(spec)
    resp = Response(content, mimetype=MEDIA[fmt])
    resp.headers["Content-Disposition"] = f"inline; filename=preview.{fmt}"
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/api/v1/render")
@api_login_required
def render_api():
    return render_response(request.get_json(silent=True))


@bp.route("/render/preview", methods=["GET", "POST"])
@login_required
def preview_page():
    """预览 page: a JSON spec in a textarea; the result opens inline."""
    import json

    from correspondence.spec import SpecError

    example = json.dumps(_EXAMPLE, ensure_ascii=False, indent=2)
    if request.method == "GET":
        return render_template("ui/render/preview.html", spec=example, error=None)
    text = request.form.get("spec", "")
    try:
        data = json.loads(text)
    except ValueError:
        return render_template("ui/render/preview.html", spec=text, error="不是有效的 JSON"), 422
    if request.form.get("format") in MEDIA and isinstance(data, dict):
        data["format"] = request.form["format"]
    try:
        return render_response(data)
    except (Unprocessable, BadRequest, SpecError) as exc:
        return render_template("ui/render/preview.html", spec=text, error=getattr(exc, "message", str(exc))), 422


_EXAMPLE = {
    "kind": "letter", "issuer": "石城县行政审批局", "title": "关于商请协助研究有关问题的函",
    "to": ["县市场监督管理局"], "cc": ["县人民政府办公室"],
    "body": ["根据《石城县审管协调联动工作办法》第二十二条规定，现就有关问题函商如下：", "一、基本情况",
             "（请填写。）", "特此函商。"],
    "attachments": [], "note": "联系人：×××，电话：××××-×××××××", "date": "2026-03-05",
    "number": "石审批函〔2026〕7号",
}

SPEC_SCHEMA = {
    "type": "object", "required": ["issuer", "body", "date"], "additionalProperties": False,
    "description": "渲染规格：一份函、纪要或文件的全部版面内容（GB/T 9704-2012）。",
    "properties": {
        "kind": {"type": "string", "enum": ["letter", "minutes", "standard"], "default": "letter",
                 "description": "letter 信函格式；minutes 纪要格式；standard 文件格式"},
        "issuer": {"type": "string", "description": "发文机关（部门名称），也是署名"},
        "title": {"type": "string", "description": "标题（函和文件必填）"},
        "to": {"type": "array", "items": {"type": "string"}, "description": "主送机关（函至少一个；纪要不显示）"},
        "cc": {"type": "array", "items": {"type": "string"}, "description": "抄送机关（版记）"},
        "body": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                 "description": "正文段落；以 一、 （一） 1. (1) 开头的段落是对应层级的标题"},
        "attachments": {"type": "array", "items": {"type": "string"}, "description": "附件名称（生成附件说明）"},
        "note": {"type": "string", "description": "附注，如联系人和电话"},
        "date": {"type": "string", "format": "date", "description": "成文日期 YYYY-MM-DD"},
        "number": {"type": "string", "pattern": "^(?P<prefix>.+?)〔(?P<year>\\d{4})〕(?P<seq>[1-9]\\d*)号$",
                   "description": "发文字号，预览时可省略"},
        "attendance": {"type": "object", "additionalProperties": False, "description": "纪要的出席、请假、列席",
                       "properties": {k: {"type": "array", "items": {"type": "string"}}
                                      for k in ("出席", "请假", "列席")}},
        "urgency": {"type": ["string", "null"], "enum": ["特急", "加急", None], "description": "紧急程度"},
        "signer": {"type": "string", "description": "签发人（上行文）"},
        "secrecy": {"type": "string", "enum": ["非密"], "description": "密级：只接受非密，涉密内容不得进入本系统"},
        "masthead": {"type": "string", "description": "发文机关标志（默认由 issuer 和格式生成）"},
        "printer": {"type": "string", "description": "印发机关（版记；默认 issuer）"},
        "print_date": {"type": "string", "format": "date", "description": "印发日期（默认成文日期）"},
        "format": {"type": "string", "enum": ["pdf", "docx"], "description": "输出格式（也可用 ?format= 或 Accept）"},
    },
}

register_schemas(lambda: {"RenderSpec": SPEC_SCHEMA})
register_paths(lambda: {"/api/v1/render": {"post": {
    "summary": "预览：按渲染规格生成 PDF 或 DOCX（不保存）",
    "parameters": [{"name": "format", "in": "query", "schema": {"type": "string", "enum": ["pdf", "docx"]}}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/RenderSpec"}}}},
    "responses": {"200": {"description": "文档", "content": {
        MEDIA["pdf"]: {"schema": {"type": "string", "format": "binary"}},
        MEDIA["docx"]: {"schema": {"type": "string", "format": "binary"}}}},
        **errors(400, 401, 422)}}}})
