"""Full-text search: the results page (/search) and the API (GET /api/v1/search)."""
from __future__ import annotations

import logging
from datetime import datetime

from flask import Blueprint, jsonify, render_template, request, url_for
from markupsafe import Markup

from search.query import ParsedQuery, QuerySyntaxError, parse
from search.results import SearchResult, Viewer

from ..clock import local_time
from ..errors import BadRequest, DomainError, Unauthorized
from ..indexing_models import EXTRACTION_STATUS, ExtractionJob, TextExtraction
from . import openapi
from .context import current_user, db, runtime
from .pages import login_required
from .transfer import page_args

bp = Blueprint("search", __name__)
log = logging.getLogger(__name__)


class SearchUnavailable(DomainError):
    code, status, default_message = "search_unavailable", 503, "检索服务暂不可用，请稍后重试"


FACET_NAMES = {"kind": "类型", "dept": "部门", "year": "年度", "retention": "保管期限"}
MAX_WINDOW = 10_000  # deepest result reachable by paging (Elasticsearch's max_result_window)


def run_search() -> tuple[ParsedQuery | None, SearchResult | None, str]:
    """Parse the request's arguments and search as the current user; a bad query is a 400."""
    args = request.args
    q = args.get("q", "").strip()
    page, size = page_args()
    if page * size > MAX_WINDOW:
        raise BadRequest(f"只能翻阅前 {MAX_WINDOW} 条结果，请增加查询词或筛选条件")
    sort = args.get("sort", "relevance")
    if sort not in ("relevance", "date"):
        raise BadRequest("sort 只能是 relevance（相关度）或 date（日期）")
    try:
        pq = parse(q, kinds=args.getlist("type"), depts=args.getlist("dept"), years=args.get("year") or None)
    except QuerySyntaxError as exc:
        raise BadRequest(f"查询语法有误：{exc.message}") from None
    if pq.is_empty:
        return None, None, sort
    user = current_user()
    try:
        result = runtime().search_engine.search(pq, Viewer(user.department_id), page, size, sort)
    except Exception as exc:  # the engine (e.g. an Elasticsearch cluster) is unreachable or failing
        log.exception("search failed")
        raise SearchUnavailable() from exc
    return pq, result, sort


def _utc(value) -> str | None:
    """Stored naive-UTC ISO time → the API's form (with a trailing Z, like the other endpoints)."""
    if not value:
        return None
    return value if str(value).endswith("Z") else f"{value}Z"


def hit_json(hit) -> dict:
    r = hit.record
    return {
        "id": int(r["id"]) if str(r["id"]).isdigit() else r["id"], "title": r.get("title"),
        "title_html": hit.title_html, "snippet_html": hit.snippet_html,
        "access": "full" if hit.full_access else "catalogue", "kind": r.get("kind"),
        "kind_label": r.get("kind_label"), "numbers": r.get("numbers") or [], "department": r.get("dept_name"),
        "department_code": r.get("dept_code"), "date": _utc(r.get("date")), "year": r.get("year"),
        "retention": r.get("retention") or None, "score": hit.score,
        "url": url_for("pages.document", doc_id=int(r["id"])) if hit.full_access else None,
    }


@bp.get("/api/v1/search")
def api_search():
    if current_user() is None:
        raise Unauthorized("需要登录或有效的访问令牌（Authorization: Bearer …）")
    pq, result, sort = run_search()
    if result is None:
        raise BadRequest("请输入查询词或筛选条件（q、type、dept、year）")
    body = {
        "query": request.args.get("q", ""), "total": result.total, "page": result.page, "size": result.size,
        "pages": result.pages, "sort": sort, "hits": [hit_json(h) for h in result.hits],
        "facets": {k: [{"value": v, "count": c} for v, c in items] for k, items in result.facets.items()},
    }
    if result.total == 0:
        body["message"] = "没有找到符合条件的文档"
    return jsonify(body)


@bp.get("/search")
@login_required
def results():
    pq, result, sort = run_search()
    args = request.args.to_dict(flat=False)

    def link(**changes):
        merged = {k: v for k, v in args.items()}
        for k, v in changes.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        if "page" not in changes:
            merged.pop("page", None)
        return url_for("search.results", **merged)

    for hit in result.hits if result else ():
        date = hit.record.get("date")
        hit.record["date_local"] = local_time(datetime.fromisoformat(date))[:10] if date else ""
    return render_template("ui/search/results.html", result=result, q=request.args.get("q", ""), sort=sort,
                           link=link, FACET_NAMES=FACET_NAMES, Markup=Markup,
                           selected={"type": args.get("type", []), "dept": args.get("dept", []),
                                     "year": args.get("year", [])})


@bp.app_context_processor
def _extraction_helper():
    def search_extraction(doc):
        """The current version's text extraction row (or None), its queued job (or None), the labels."""
        version = doc.versions[-1] if doc.versions else None
        row = db().get(TextExtraction, version.id) if version is not None else None
        job = db().get(ExtractionJob, version.id) if version is not None and row is None else None
        return row, job, EXTRACTION_STATUS

    return {"search_extraction": search_extraction}


openapi.register_paths(lambda: {"/api/v1/search": {"get": {
    "summary": "全文检索（按权限过滤；仅目录可见的文档只返回标题等元数据）",
    "parameters": [
        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 500},
         "description": "查询：词之间为“且”；\"短语\"；OR；-排除；type: dept: year: 文号: 档号: 筛选"},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
        {"name": "size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
        {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["relevance", "date"]}},
        {"name": "type", "in": "query", "schema": {"type": "string"}, "description": "文档类型（如 file、文件）"},
        {"name": "dept", "in": "query", "schema": {"type": "string"}, "description": "部门代码或名称"},
        {"name": "year", "in": "query", "schema": {"type": "string"}, "description": "2026 或 2020-2023"},
    ],
    "responses": {"200": {"description": "结果：total、hits（title_html/snippet_html 已转义，命中处为 <mark>）、facets",
                          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SearchResult"}}}},
                  **openapi.errors(400, 401, 503)}}}})

openapi.register_schemas(lambda: {"SearchResult": {"type": "object", "properties": {
    "query": {"type": "string"}, "total": {"type": "integer"}, "page": {"type": "integer"},
    "size": {"type": "integer"}, "pages": {"type": "integer"}, "sort": {"type": "string"},
    "message": {"type": "string"},
    "hits": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"}, "title_html": {"type": "string"},
        "snippet_html": {"type": ["string", "null"]}, "access": {"type": "string", "enum": ["full", "catalogue"]},
        "kind": {"type": "string"}, "kind_label": {"type": "string"},
        "numbers": {"type": "array", "items": {"type": "string"}}, "department": {"type": "string"},
        "department_code": {"type": "string"}, "date": {"type": ["string", "null"]},
        "year": {"type": "integer"}, "retention": {"type": ["string", "null"]}, "url": {"type": ["string", "null"]}}}},
    "facets": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "object", "properties": {
        "value": {}, "count": {"type": "integer"}}}}}}}})
