"""JSON API of archive lookup (档案调阅) under /api/v1 (pydantic bodies; OpenAPI from the same models)."""
from __future__ import annotations

import csv
import io
import json
from typing import Literal

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from ..archive.models import ArchiveItem
from ..audit import csv_cell
from ..clock import local_time
from ..errors import NotFound
from ..lookup import copies
from ..lookup.models import DECISIONS, FORMS, LookupItem, LookupRequest
from ..lookup.service import LookupService, Refusal
from .api import api_login_required
from .apispec import operation
from .context import runtime, signed_in_user
from .schemas import Id, Query
from .services import services
from .transfer import content_disposition

bp = Blueprint("lookup_api", __name__, url_prefix="/api/v1")

Form = Literal["view", "copy"]


class LookupItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_id: Id
    form: Form = "view"


class NewLookup(BaseModel):
    """调阅申请：档案（每件查阅或复制）、目的、期限（工作日）、联系电话"""
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"items": [{"item_id": 1, "form": "view"}], "purpose": "核查许可条件", "days": 5, "contact": "0797-1234567"}]})
    items: list[LookupItemIn] = Field(min_length=1, max_length=100)
    purpose: str = Field(min_length=1, max_length=2000)
    days: int = Field(5, ge=1, le=365, description="调阅期限（工作日）；上限由保管单位设定")
    contact: str = Field(min_length=1, max_length=100)
    draft: bool = Field(False, description="true：仅保存草稿，不提交")


class LookupAction(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"action": "refuse", "items": [3], "reason": "涉及个人信息"}]})
    action: Literal["submit", "approve", "refuse", "return", "extend", "cancel"]
    items: list[Id] = Field(default_factory=list, max_length=100, description="审批的档案（缺省：全部待审批的）")
    reason: str = Field("", max_length=500)
    days: int | None = Field(None, ge=1, le=365, description="延期的工作日数（extend；缺省同原期限）")


class CatalogueSearch(Query):
    q: str = Field("", max_length=200, description="题名、档号或文号包含的文字；少于 3 个字时每页只检索最新的一段目录")
    after: int | None = Field(None, ge=1, description="上一页返回的 next_after（键集分页）")
    size: int = Field(50, ge=1, le=200)


class GroupShare(BaseModel):
    """按全宗 / 年度 / 保管期限共享目录"""
    model_config = ConfigDict(extra="forbid")
    fonds: str = Field(min_length=4, max_length=4)
    year: int | None = Field(None, ge=1900, le=2999)
    retention: Literal["Y", "D30", "D10"] | None = None
    catalogue: bool = True


class PolicyIn(BaseModel):
    """本单位（保管单位）的调阅规则"""
    model_config = ConfigDict(extra="forbid")
    due_days: int = Field(3, ge=1, le=60, description="审批期限（工作日）")
    max_days: int = Field(20, ge=1, le=365, description="调阅期限上限（工作日）")
    decider: Literal["archivist", "signer"] = Field(
        "archivist", description="保管期限永久或密级档案的审批人：archivist 档案员，signer 签发人")
    leader_first: bool = Field(False, description="true：须先经申请单位负责人同意")


class PolicyOut(PolicyIn):
    """调阅规则"""
    department: str


class LetterOut(BaseModel):
    """生成的调阅函草稿"""
    letter_id: int
    url: str


class AccessQuery(Query):
    format: Literal["json", "csv"] = "json"


class LookupOut(BaseModel):
    """调阅申请"""
    model_config = ConfigDict(extra="allow")
    id: int
    number: str
    state: str
    due_on: str | None
    until: str | None
    items: list[dict]


class LookupList(BaseModel):
    """调阅申请列表"""
    items: list[LookupOut]


class CatalogueOut(BaseModel):
    """共享目录（仅著录项，不含内容）"""
    items: list[dict]
    next_after: int | None = Field(description="下一页的 after；为空表示没有更多（短查询的一页可能不足 size 件）")


class Accesses(BaseModel):
    """访问记录（谁、何时、何种操作、来自哪个地址）"""
    items: list[dict]


class ViewOut(BaseModel):
    """在线查阅：页数与每页图像地址"""
    model_config = ConfigDict(extra="allow")
    pages: int
    page_urls: list[str]


def lookups() -> LookupService:
    return services().lookups


def iso(dt) -> str | None:
    return dt.isoformat() + "Z" if dt is not None else None


def catalogue_json(item: ArchiveItem) -> dict:
    """Metadata only: never content, snippets or files."""
    return {"id": item.id, "archival_code": item.archival_code, "title": item.title, "doc_number": item.doc_number,
            "responsible": item.responsible, "doc_date": item.doc_date.isoformat() if item.doc_date else None,
            "year": item.year, "retention": item.retention, "retention_label": item.retention_label,
            "pages": item.pages, "holder": item.department.name, "fonds": item.fonds}


def lookup_json(svc: LookupService, req: LookupRequest) -> dict:
    return {"id": req.id, "number": req.number, "state": req.state, "state_label": req.state_label,
            "requester": req.requester.full_name, "department": req.department.name, "holder": req.holder.name,
            "purpose": req.purpose, "days": req.days, "contact": req.contact,
            "created_at": iso(req.created_at), "submitted_at": iso(req.submitted_at),
            "due_on": req.due_on.isoformat() if req.due_on else None, "overdue": svc.overdue(req),
            "awaiting_leader": svc.awaiting_leader(req), "decided_at": iso(req.decided_at), "until": iso(req.until),
            "extension_days": req.extension_days, "extension_state": req.extension_state,
            "ended_at": iso(req.ended_at), "letter_id": req.letter_id,
            "items": [{"item_id": li.item_id, "archival_code": li.item.archival_code, "title": li.item.title,
                       "form": li.form, "form_label": FORMS[li.form], "decision": li.decision,
                       "decision_label": DECISIONS[li.decision], "reason": li.reason,
                       "decided_at": iso(li.decided_at)} for li in req.items]}


@bp.get("/catalogue")
@api_login_required
@operation("共享目录检索（全县范围，仅著录项：题名、档号、文号、日期；不含内容）", query=CatalogueSearch,
           responses={200: CatalogueOut})
def catalogue(query: CatalogueSearch):
    rows, next_after = lookups().catalogue_page(query.q, query.size, query.after)
    return jsonify({"items": [catalogue_json(i) for i in rows], "next_after": next_after})


@bp.post("/archive/shares")
@api_login_required
@operation("按全宗 / 年度 / 保管期限共享（或取消共享）目录", body=GroupShare, responses={200: CatalogueOut},
           errors=(404,))
def share_group(body: GroupShare):
    items = lookups().share_group(signed_in_user(), body.fonds.upper(), body.year, body.retention, body.catalogue)
    return jsonify({"items": [catalogue_json(i) for i in items], "next_after": None})


@bp.post("/lookups")
@api_login_required
@operation("调阅申请（默认直接提交；期限以工作日计）", body=NewLookup, responses={201: LookupOut},
           errors=(404, 422))
def create(body: NewLookup):
    svc = lookups()
    req = svc.create(signed_in_user(), [(i.item_id, i.form) for i in body.items], body.purpose, body.days,
                     body.contact, submit=not body.draft)
    return jsonify(lookup_json(svc, req)), 201


@bp.get("/lookups")
@api_login_required
@operation("调阅申请：本单位提出的（mine）与本单位保管、待审批的（queue）", responses={200: LookupList})
def list_lookups():
    svc = lookups()
    user = signed_in_user()
    return jsonify({"items": [lookup_json(svc, r) for r in svc.mine(user)],
                    "queue": [lookup_json(svc, r) for r in svc.queue(user)]})


@bp.get("/lookups/<int:lookup_id>")
@api_login_required
@operation("调阅申请详情（逐件审批结果、期限、是否超期）", responses={200: LookupOut})
def get_lookup(lookup_id: int):
    svc = lookups()
    return jsonify(lookup_json(svc, svc.get(signed_in_user(), lookup_id)))


@bp.post("/lookups/<int:lookup_id>/actions")
@api_login_required
@operation("提交、审批（逐件同意 / 不同意）、归还、延期、撤回", body=LookupAction, responses={200: LookupOut},
           errors=(403, 409, 422))
def act(lookup_id: int, body: LookupAction):
    svc = lookups()
    user = signed_in_user()
    req = svc.act(user, svc.get(user, lookup_id), body.action, list(body.items), body.reason, body.days)
    return jsonify(lookup_json(svc, req))


def access_json(ev) -> dict:
    details = json.loads(ev.details) if ev.details else {}
    return {"at": iso(ev.at), "local_time": local_time(ev.at), "actor": ev.actor_name, "action": ev.action,
            "item_id": details.get("item_id"), "archival_code": details.get("archival_code"),
            "page": details.get("page"), "address": details.get("address"), "reason": details.get("reason")}


def accesses_response(events, fmt: str, name: str):
    rows = [access_json(e) for e in events]
    if fmt == "json":
        return jsonify({"items": rows})
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf)
    w.writerow(["时间", "操作人", "操作", "档号", "页", "地址", "说明"])
    for r in rows:
        w.writerow([csv_cell(v) for v in (r["local_time"], r["actor"], r["action"], r["archival_code"], r["page"],
                                          r["address"], r["reason"])])
    resp = Response(buf.getvalue(), mimetype="text/csv")
    resp.headers["Content-Disposition"] = content_disposition(name)
    return resp


@bp.get("/lookups/<int:lookup_id>/accesses")
@api_login_required
@operation("调阅记录：申请、审批与每一次查阅、复制（JSON 或 CSV）", query=AccessQuery, responses={200: Accesses})
def accesses(lookup_id: int, query: AccessQuery):
    svc = lookups()
    req = svc.get(signed_in_user(), lookup_id)
    return accesses_response(svc.accesses(signed_in_user(), req), query.format, f"调阅记录-{req.number}.csv")


@bp.get("/archive/items/<int:item_id>/accesses")
@api_login_required
@operation("一件档案被调阅的访问记录（保管单位）", query=AccessQuery, responses={200: Accesses})
def item_accesses(item_id: int, query: AccessQuery):
    item = services().archive.get(signed_in_user(), item_id)  # holder only (404 otherwise)
    return accesses_response(lookups().item_accesses(item.id), query.format, f"调阅记录-{item.archival_code}.csv")


def _granted(item_id: int, form: str, page: int | None = None) -> LookupItem:
    """The live lookup item or the refusal; either way the attempt is an audit event."""
    svc = lookups()
    user = signed_in_user()
    got = svc.access(user, item_id, form)
    address = request.remote_addr or ""
    if isinstance(got, Refusal):  # the refused attempt is kept although the request fails
        item = services().archive.find_item(item_id)
        services().record_apart(
            user, "lookup.denied", "lookup", got.request.id if got.request else "-",
            {"item_id": item_id, "archival_code": item.archival_code if item and got.request else None,
             "form": form, "address": address, "reason": got.error.message})
        raise got.error
    svc.audit(user, f"lookup.{form}", got.request_id, {"item_id": item_id, "archival_code": got.item.archival_code,
                                                       "page": page, "address": address})
    return got


def _pdf(li: LookupItem) -> bytes:
    part = copies.reading_part(li.item)
    data = copies.read_blob(runtime().store, part.sha256)
    return copies.as_pdf(data, part.media_type, part.filename)


def _lines(li: LookupItem) -> list[str]:
    req = li.request
    return copies.watermark_lines(req.requester.full_name, req.department.name, req.number,
                                  local_time(runtime().clock.now()))


@bp.get("/archive/items/<int:item_id>/view")
@api_login_required
@operation("在线查阅（调阅授权有效期内）：页数与页面图像地址；不提供原件下载", responses={200: ViewOut},
           errors=(403, 404))
def view(item_id: int):
    li = _granted(item_id, "view")
    n = copies.page_count(_pdf(li))
    return jsonify({"item_id": item_id, "archival_code": li.item.archival_code, "title": li.item.title,
                    "pages": n, "until": iso(li.request.until), "form": li.form,
                    "page_urls": [f"/api/v1/archive/items/{item_id}/view/{p}" for p in range(1, n + 1)]})


@bp.get("/archive/items/<int:item_id>/view/<int:page>")
@api_login_required
@operation("在线查阅的一页（PNG，服务器端渲染，带水印）",
           responses={200: ("页面图像", "image/png", None)}, errors=(403, 404))
def view_page(item_id: int, page: int):
    li = _granted(item_id, "view", page)
    pdf = _pdf(li)
    if page < 1 or page > copies.page_count(pdf):
        raise NotFound("页码不存在")
    png = copies.page_png(copies.watermarked(pdf, _lines(li)), page)
    resp = Response(png, mimetype="image/png")
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Content-Disposition"] = "inline"
    return resp


@bp.get("/archive/items/<int:item_id>/copy")
@api_login_required
@operation("下载复制件（水印 PDF：申请人、单位、调阅编号、时间，每页斜向浅灰）；仅限复制授权",
           responses={200: ("水印 PDF", "application/pdf", None)}, errors=(403, 404))
def copy(item_id: int):
    li = _granted(item_id, "copy")
    data = copies.watermarked(_pdf(li), _lines(li))
    resp = Response(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = content_disposition(f"复制件-{li.item.archival_code}.pdf")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def policy_json(svc: LookupService, department) -> dict:
    p = svc.policy(department.id)
    return {"department": department.name, "due_days": p.due_days, "max_days": p.max_days, "decider": p.decider,
            "leader_first": p.leader_first}


@bp.get("/lookups/policy")
@api_login_required
@operation("本单位作为保管单位的调阅规则（审批期限、期限上限、审批人、是否须申请单位负责人同意）",
           responses={200: PolicyOut})
def get_policy():
    from ..permissions import issuing_organisation

    return jsonify(policy_json(lookups(), issuing_organisation(signed_in_user().department)))


@bp.put("/lookups/policy")
@api_login_required
@operation("设置本单位的调阅规则（签发人或系统管理员）", body=PolicyIn, responses={200: PolicyOut}, errors=(403,))
def put_policy(body: PolicyIn):
    from ..permissions import issuing_organisation

    svc = lookups()
    user = signed_in_user()
    svc.set_policy(user, body.due_days, body.max_days, body.decider, body.leader_first)
    return jsonify(policy_json(svc, issuing_organisation(user.department)))


def draft_letter(user, req: LookupRequest) -> int:
    """生成调阅函: a 函 draft from the 调阅函 template addressed to the holder, through the letter
    workflow (the web layer is the one that may name correspondence), linked to the request."""
    from correspondence.doc_templates import fill, load_letter_template

    svc = lookups()
    values = svc.letter_values(user, req)
    filled = fill(load_letter_template("lookup"), **values)
    letter = services().letters.create_draft(user, "letter", template="lookup", title=filled["title"],
                                             to=[req.holder.name], body=filled["body"], note=filled["note"])
    svc.link_letter(user, req, letter.id)
    return letter.id


@bp.post("/lookups/<int:lookup_id>/letter")
@api_login_required
@operation("生成调阅函：按“调阅函”模板起草一份致保管单位的函（进入公文收发的拟稿、核稿、签发流程）",
           responses={201: LetterOut}, errors=(403, 409))
def make_letter(lookup_id: int):
    user = signed_in_user()
    letter_id = draft_letter(user, lookups().get(user, lookup_id))
    return jsonify({"letter_id": letter_id, "url": f"/letters/{letter_id}"}), 201
