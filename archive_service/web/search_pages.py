"""Full-text search: the results page (/search) and the API (GET /api/v1/search)."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import orjson
from flask import Blueprint, Response, render_template, request, url_for
from markupsafe import Markup

from search.engine import QueryRejected
from search.query import ParsedQuery, QuerySyntaxError, parse
from search.results import SearchResult, Viewer, group_hits

from ..clock import local_time
from ..errors import BadRequest, DomainError, ErrorKind, NotFound, Unauthorized, Unprocessable
from ..indexing_models import EXTRACTION_STATUS
from ..sandbox import SandboxError
from .apispec import operation, parse_query
from .context import current_caller, runtime, signed_in_caller, signed_in_user
from .pages import login_required
from .schemas import SearchPage, SearchQuery
from .services import services
from .transfer import content_disposition

bp = Blueprint("search", __name__)
log = logging.getLogger(__name__)


class SearchUnavailable(DomainError):
    kind, code, default_message = ErrorKind.UNAVAILABLE, "search_unavailable", "检索服务暂不可用，请稍后重试"


FACET_NAMES = {"kind": "类型", "dept": "部门", "year": "年度", "retention": "保管期限"}
MAX_WINDOW = 10_000  # deepest result reachable by paging (Elasticsearch's max_result_window)


def run_search(args: SearchQuery | None = None) -> tuple[ParsedQuery | None, SearchResult | None, str]:
    """Search as the current user with the request's arguments; a bad query is a 400."""
    args = args or parse_query(SearchQuery)
    q = args.q.strip()
    page, size = args.page, args.size
    if page * size > MAX_WINDOW:
        raise BadRequest(f"只能翻阅前 {MAX_WINDOW} 条结果，请增加查询词或筛选条件")
    sort = args.sort
    try:
        pq = parse(q, kinds=args.type, depts=args.dept, years=args.year or None)
    except QuerySyntaxError as exc:
        raise BadRequest(f"查询语法有误：{exc.message}") from None
    if pq.is_empty:
        return None, None, sort
    caller = signed_in_caller()
    try:
        result = runtime().search_engine.search(pq, Viewer(caller.department_id), page, size, sort)
    except QueryRejected as exc:  # the engine refuses this query (e.g. too many terms): say why
        raise BadRequest(f"检索服务无法执行此查询，请缩小查询范围：{exc.reason}"[:500]) from None
    except Exception as exc:  # the engine (e.g. an Elasticsearch cluster) is unreachable or failing
        log.exception("search failed")
        raise SearchUnavailable() from exc
    return pq, group_hits(result, pq), sort


def _utc(value) -> str | None:
    """Stored naive-UTC ISO time → the API's form (with a trailing Z, like the other endpoints)."""
    if not value:
        return None
    return value if str(value).endswith("Z") else f"{value}Z"


def hit_json(hit, document_url: str) -> dict:
    """One hit of the API's answer; ``document_url``: the documents' URL prefix (".../documents/")."""
    r = hit.record
    return {
        "id": int(r["id"]) if str(r["id"]).isdigit() else r["id"], "title": r.get("title"),
        "title_html": hit.title_html, "snippet_html": hit.snippet_html,
        "access": "full" if hit.full_access else "catalogue", "kind": r.get("kind"),
        "kind_label": r.get("kind_label"), "numbers": r.get("numbers") or [], "department": r.get("dept_name"),
        "department_code": r.get("dept_code"), "date": _utc(r.get("date")), "year": r.get("year"),
        "retention": r.get("retention") or None, "score": hit.score, "page": hit.page,
        "url": f"{document_url}{int(r['id'])}" if hit.full_access else None,
        "group": r.get("group"), "part": r.get("part"),
        "parts": [{"id": int(p["id"]), "part": p["part"], "title": p["title"], "kind": p["kind"],
                   "url": f"{document_url}{int(p['id'])}" if p["access"] else None} for p in r.get("parts") or []],
    }


@bp.get("/api/v1/search")
@operation("全文检索（仅返回有权查看的全文；其余只见目录）", query=SearchQuery, responses={200: SearchPage},
           errors=(503,))
def api_search(query: SearchQuery):
    if current_caller() is None:
        raise Unauthorized("需要登录或有效的访问令牌（Authorization: Bearer …）")
    _pq, result, sort = run_search(query)
    if result is None:
        raise BadRequest("请输入查询词或筛选条件（q、type、dept、year）")
    document_url = url_for("pages.document", doc_id=0)[:-1]  # ".../documents/", built once for every hit
    body = {
        "query": request.args.get("q", ""), "total": result.total, "page": result.page, "size": result.size,
        "pages": result.pages, "sort": sort, "hits": [hit_json(h, document_url) for h in result.hits],
        "facets": {k: [{"value": v, "count": c} for v, c in items] for k, items in result.facets.items()},
    }
    if result.total == 0:
        body["message"] = "没有找到符合条件的文档"
    # (≈ 5× faster than jsonify here; the newline at the end as jsonify writes it, for shells and curl)
    return Response(orjson.dumps(body) + b"\n", mimetype="application/json")


@bp.get("/search")
@login_required
def results():
    _pq, result, sort = run_search()
    args = request.args.to_dict(flat=False)

    def link(**changes):
        merged: dict[str, Any] = dict(args)
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


@bp.get("/documents/<int:doc_id>/searchable.pdf")
@login_required
def searchable_pdf(doc_id: int):
    """The current version of an OCR'd scan as a PDF with an invisible text layer (built in the sandbox)."""
    service = services().documents
    doc = service.get(signed_in_user(), doc_id)  # 404 for a document the user may not read
    version = doc.versions[-1]
    try:
        pdf = service.searchable_copy(version, runtime().sandbox)
    except SandboxError as exc:
        raise Unprocessable(str(exc)) from None
    if pdf is None:
        raise NotFound("该文件没有 OCR 识别结果，无法生成可检索 PDF")
    service.record_download(signed_in_user(), version)
    stem = version.filename.rsplit(".", 1)[0] if "." in version.filename else version.filename
    resp = Response(pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = content_disposition(f"{stem}-可检索.pdf", doc_id=doc_id)
    return resp


@bp.app_context_processor
def _extraction_helper():
    def search_extraction(doc):
        """The current version's text extraction row (or None), its queued job (or None), the labels."""
        row, job = services().documents.extraction_of(doc.versions[-1] if doc.versions else None)
        return row, job, EXTRACTION_STATUS

    return {"search_extraction": search_extraction}
