"""Preview: POST /api/v1/render turns a JSON spec into a PDF or DOCX without saving anything."""
from __future__ import annotations

from typing import Any, ClassVar, Literal

from flask import Blueprint, Response, render_template, request
from pydantic import ConfigDict, Field

from correspondence.spec import RenderSpec

from ..errors import BadRequest, Unprocessable
from .api import api_login_required
from .apispec import operation
from .limits import BODY_NOT_OBJECT, read_json
from .pages import login_required
from .schemas import Query

bp = Blueprint("render", __name__)

MEDIA = {"pdf": "application/pdf",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


_EXAMPLE: dict[str, Any] = {
    "kind": "letter", "issuer": "石城县行政审批局", "title": "关于商请协助研究有关问题的函",
    "to": ["县市场监督管理局"], "cc": ["县人民政府办公室"],
    "body": ["根据《石城县行政审批与监管协调联动管理办法（试行）》第二十二条规定，现就有关问题函商如下：",
             "一、基本情况", "（请填写。）", "特此函商。"],
    "attachments": [], "note": "联系人：×××，电话：××××-×××××××", "date": "2026-03-05",
    "number": "石审批函〔2026〕7号",
}


class RenderRequest(RenderSpec):
    """渲染规格：一份函、纪要或文件的全部版面内容（GB/T 9704-2012），外加输出格式。"""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra={"examples": [_EXAMPLE]})

    openapi_name: ClassVar[str] = "RenderSpec"

    format: Literal["pdf", "docx"] | None = Field(default=None, description="输出格式（也可用 ?format= 或 Accept）")


class RenderQuery(Query):
    format: Literal["pdf", "docx"] | None = Field(default=None, description="输出格式，默认 pdf（或按 Accept）")


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
        raise BadRequest(BODY_NOT_OBJECT + "（渲染规格）")
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
@operation("预览：按渲染规格生成 PDF 或 DOCX（不保存）", body=RenderRequest, validate_body=False, query=RenderQuery,
           responses={200: {"description": "文档", "content": {
               MEDIA["pdf"]: {"schema": {"type": "string", "format": "binary"}},
               MEDIA["docx"]: {"schema": {"type": "string", "format": "binary"}}}}})
def render_api(query: RenderQuery):
    return render_response(read_json(require_object=False))


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
