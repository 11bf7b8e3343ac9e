"""JSON API of the handover (移交与接收) under /api/v1/handovers (pydantic bodies; OpenAPI from them)."""
from __future__ import annotations

import json
from typing import Literal

from flask import Blueprint, jsonify
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..handover.models import Handover, HandoverRevision
from ..handover.service import HandoverService
from .api import api_login_required
from .apispec import operation
from .context import after_commit, runtime, signed_in_user
from .schemas import Id, Query
from .services import services
from .upload_marks import streaming_upload
from .uploads import open_upload

bp = Blueprint("handover_api", __name__, url_prefix="/api/v1/handovers")

Retention = Literal["Y", "D30", "D10"]


class ItemSelection(BaseModel):
    """按全宗/年度/保管期限（/机构）选出本单位的全部档案"""
    model_config = ConfigDict(extra="forbid")
    fonds: str | None = Field(None, max_length=4)
    year: int | None = Field(None, ge=1900, le=2999)
    retention: Retention | None = None
    unit: str | None = Field(None, max_length=10)


class NewHandover(BaseModel):
    """新建移交清单：items 为档案（件）id；也可用 select 按全宗/年度/保管期限加入"""
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "建设工程许可档案移交", "description": "2025 年建设工程规划许可档案", "to_department": "SPJ",
         "items": [1, 2, 3]}]})
    name: str = Field(min_length=1, max_length=200, description="交接工作名称")
    description: str = Field("", max_length=2000, description="内容描述")
    to_department: str = Field(min_length=1, max_length=100, description="接收单位（部门代码或名称）")
    purpose: Literal["transfer", "reassign", "deposit"] = Field("transfer", description="移交 / 划转事项档案 / 进馆")
    items: list[Id] = Field(default_factory=list, max_length=10000)
    select: ItemSelection | None = None
    query: str | None = Field(None, min_length=1, max_length=200, description="检索词：题名或档号包含它的本单位档案")

    @model_validator(mode="after")
    def _some_items(self):
        if not self.items and self.select is None and not self.query:
            raise ValueError("items、select、query 至少给出一个")
        return self


class HandoverPatch(BaseModel):
    """修改草稿或已退回的清单（已退回的清单修改后成为新修订）"""
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    items: list[Id] | None = Field(None, min_length=1, max_length=10000)


class CheckException(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_id: Id
    check: str = Field(min_length=1, max_length=60, description="检测项名称，如 digests_match")
    reason: str = Field(min_length=1, max_length=1000)


class HandoverAction(BaseModel):
    """submit（移交方档案员）| sign（移交方签发人签署清单；同意接收后接收方签发人签署）
    | receive（接收方档案员，自动检验）| accept | reject（接收方档案员）"""
    model_config = ConfigDict(extra="forbid")
    action: Literal["submit", "sign", "receive", "accept", "reject"]
    reason: str = Field("", max_length=2000, description="签署意见或退回原因")
    exceptions: list[CheckException] = Field(default_factory=list, max_length=10000,
                                             description="接收时对未通过检测项逐件记录的例外")


class RevisionQuery(Query):
    revision: int | None = Field(None, ge=1, le=100000)


# -- responses (documentation) ---------------------------------------------------------------------
class HandoverOut(BaseModel):
    """移交清单"""
    model_config = ConfigDict(extra="allow")
    id: int
    state: str
    items: list[dict]


class HandoverList(BaseModel):
    """移交清单列表"""
    items: list[dict]


class ReceiptReport(BaseModel):
    """接收检验报告（未检验时 passed 为 null）"""
    model_config = ConfigDict(extra="allow")
    passed: bool | None
    items: list[dict]


def service() -> HandoverService:
    """The request's handover service (web/services.py)."""
    return services().handover


def _day(d) -> str | None:
    return d.isoformat() if d else None


def revision_json(svc: HandoverService, rev: HandoverRevision) -> dict:
    out = {"number": rev.number, "state": rev.state, "digest": rev.digest, "item_count": rev.item_count,
           "total_bytes": rev.total_bytes, "created_at": rev.created_at.isoformat() + "Z",
           "checked_at": rev.checked_at.isoformat() + "Z" if rev.checked_at else None,
           "passed": json.loads(rev.report)["passed"] if rev.report else None,
           "reason": rev.decision_reason, "exceptions": json.loads(rev.exceptions or "[]"), "signatures": []}
    for side in ("sender", "receiver"):
        flow = svc.flow(rev, side)
        if flow is not None:
            out["signatures"] += [{"side": side, "by": s.actor_name, "at": s.at.isoformat() + "Z",
                                   "opinion": s.opinion, "digest": s.version_sha256}
                                  for s in flow.valid_signatures()]
    return out


def handover_json(svc: HandoverService, h: Handover, lines: bool = True) -> dict:
    rev = h.current
    out = {"id": h.id, "name": h.name, "description": h.description, "purpose": h.purpose,
           "purpose_label": h.purpose_label, "state": h.state, "state_label": h.state_label,
           "from_department": h.from_department.code, "to_department": h.to_department.code,
           "from_department_name": h.from_department.name, "to_department_name": h.to_department.name,
           "revision": h.revision, "digest": rev.digest, "item_count": rev.item_count, "total_bytes": rev.total_bytes,
           "created_at": h.created_at.isoformat() + "Z", "updated_at": h.updated_at.isoformat() + "Z",
           "accepted_at": h.accepted_at.isoformat() + "Z" if h.accepted_at else None,
           "record_items": {"sender": h.sender_record_item_id, "receiver": h.receiver_record_item_id},
           "actions": [a for a in ("submit", "sign", "receive", "accept", "reject")
                       if svc.allowed(signed_in_user(), h, a) is None]}
    if lines:
        out["items"] = [{"seq": ln.seq, "id": ln.item_id, "archival_code": ln.archival_code,
                         "doc_number": ln.doc_number, "responsible": ln.responsible, "title": ln.title,
                         "date": _day(ln.doc_date), "pages": ln.pages, "retention": ln.retention, "size": ln.size,
                         "sha256": ln.sha256, "sm3": ln.sm3} for ln in rev.lines]
        out["revisions"] = [revision_json(svc, r) for r in h.revisions]
    return out


@bp.get("")
@api_login_required
@operation("本单位移交和待接收的清单", responses={200: HandoverList})
def list_handovers():
    svc = service()
    return jsonify({"items": [handover_json(svc, h, lines=False) for h in svc.mine(signed_in_user())]})


@bp.post("")
@api_login_required
@operation("编制移交清单（草稿）；他单位的档案 404，已在另一份未完成清单中的档案 409", body=NewHandover,
           responses={201: HandoverOut}, errors=(403, 404, 409))
def create_handover(body: NewHandover):
    svc = service()
    h = create_from(svc, body)
    return jsonify(handover_json(svc, h)), 201


def create_from(svc: HandoverService, body: NewHandover) -> Handover:
    """A draft manifest of the listed items, those the selection picks and those the query finds."""
    user = signed_in_user()
    ids = list(body.items)
    if body.select is not None:
        ids += svc.items_by(user, body.select.fonds, body.select.year, body.select.retention, body.select.unit)
    if body.query:
        ids += svc.items_matching(user, body.query)
    return svc.create(user, body.name, body.description, body.to_department, ids, body.purpose)


@bp.get("/<int:handover_id>")
@api_login_required
@operation("移交清单（明细、状态、修订、签署）", responses={200: HandoverOut})
def get_handover(handover_id: int):
    svc = service()
    return jsonify(handover_json(svc, svc.get(signed_in_user(), handover_id)))


@bp.patch("/<int:handover_id>")
@api_login_required
@operation("修改清单（草稿或已退回时；已退回的清单成为新修订）", body=HandoverPatch, responses={200: HandoverOut},
           errors=(403, 404, 409))
def patch_handover(handover_id: int, body: HandoverPatch):
    svc = service()
    h = svc.edit(signed_in_user(), svc.get(signed_in_user(), handover_id), body.items, body.name, body.description)
    return jsonify(handover_json(svc, h))


@bp.post("/<int:handover_id>/actions")
@api_login_required
@operation("提交、签署、接收检验、同意接收或退回；不合时宜的操作 409 并说明原因", body=HandoverAction,
           responses={200: HandoverOut}, errors=(403, 404, 409))
def act(handover_id: int, body: HandoverAction):
    svc = service()
    h = svc.act(signed_in_user(), svc.get(signed_in_user(), handover_id), body.action, body.reason,
                [e.model_dump() for e in body.exceptions])
    after_commit(lambda: lock_records(svc, h))
    return jsonify(handover_json(svc, h))


def lock_records(svc: HandoverService, h: Handover) -> None:
    """Once a handover is accepted (and committed), lock its filed 交接文据's blobs (committed rows).
    Runs after the request's commit (``after_commit``), which commits what it records."""
    if h.state == "accepted" and svc.archive is not None:
        for item_id in (h.sender_record_item_id, h.receiver_record_item_id):
            item = svc.archive.find_item(item_id) if item_id else None
            if item is not None:
                svc.archive.apply_retention(item)


@bp.get("/<int:handover_id>/record.<fmt>")
@api_login_required
@operation("档案交接文据（电子档案移交与接收登记表）：接收后为双方单位签名并归档的文本（本方一份）；"
           "移交方签署后至接收前，PDF 为移交单位签名的文本；之前为未签名的预览",
           responses={200: ("PDF 或 DOCX", "application/octet-stream", None)},
           path_enums={"fmt": ("pdf", "docx")})
def record(handover_id: int, fmt: str):
    from flask import Response

    from ..errors import NotFound
    from ..handover.service import organisation
    from .transfer import content_disposition, send_audited

    if fmt not in ("pdf", "docx"):
        raise NotFound("只有 record.pdf 和 record.docx")
    svc = service()
    user = signed_in_user()
    h = svc.get(user, handover_id)
    mine = h.sender_record_item_id if organisation(user.department).id == h.from_department_id \
        and h.from_department_id != h.to_department_id else h.receiver_record_item_id
    if mine:
        arch = services().archive
        item = arch.items_by_id([mine])[mine]
        part = next(p for p in item.parts if p.role == ("main" if fmt == "pdf" else "docx"))
        return send_audited(user, arch.part_version_of(part))
    data = svc.render_record(h, fmt)
    mime = "application/pdf" if fmt == "pdf" else \
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    resp = Response(data, mimetype=mime)
    kind = "移交方签名" if fmt == "pdf" and h.current.sender_record_sha256 else "预览"
    resp.headers["Content-Disposition"] = content_disposition(f"交接文据-{h.id}-{kind}.{fmt}")
    return resp


@bp.get("/<int:handover_id>/checks")
@api_login_required
@operation("接收检验报告（逐件列出未通过的检测项和原因）", query=RevisionQuery, responses={200: ReceiptReport})
def checks(handover_id: int, query: RevisionQuery):
    svc = service()
    h = svc.get(signed_in_user(), handover_id)
    report = svc.report(h, query.revision)
    if report is None:
        return jsonify({"passed": None, "items": [], "manifest": [], "message": "尚未接收检验"})
    return jsonify(report)


class PackageUpload(BaseModel):
    """multipart/form-data：file（BagIt 数据包 ZIP）"""
    file: bytes


@bp.get("/<int:handover_id>/package")
@api_login_required
@operation("导出 BagIt 1.0 数据包（ZIP，流式生成：data/ 按档号命名，manifest-sha256/sm3，bag-info，"
           "metadata/items.xml）；草稿不能导出", responses={200: ("BagIt ZIP", "application/zip", None)},
           errors=(404, 409))
def package(handover_id: int):
    from flask import Response

    from ..errors import InvalidTransition
    from ..handover import bag
    from .transfer import content_disposition

    svc = service()
    user = signed_in_user()
    h = svc.get(user, handover_id)
    if h.state == "draft":
        raise InvalidTransition("草稿状态的清单不能导出数据包，请先提交")
    ids = [ln.item_id for ln in h.current.lines]
    items = (services().archive).items_by_id(ids)
    spec = bag.export_spec(h, items)  # read now: the response streams after the request's session is gone
    services().audit.record(user, "handover.package", "handover", h.id, {"revision": h.revision})
    chunks = bag.export_chunks(spec, runtime().store, runtime().clock.today())
    resp = Response(chunks, mimetype="application/zip", direct_passthrough=True)
    resp.headers["Content-Disposition"] = content_disposition(f"{spec.name}.zip")
    return resp


@bp.post("/import")
@streaming_upload()
@api_login_required
@operation("导入 BagIt 数据包（ZIP）：先校验包和每个摘要，篡改、不完整或不安全的包 422 并指出文件和检测项，"
           "不建任何数据；通过后建档并生成已接收待检的清单。原档号规范、属本单位全宗和机构代码、与保管期限一致且未被占用时沿用，"
           "否则重新编档号并在备注中记录原档号", form=PackageUpload, responses={201: HandoverOut},
           errors=(403, 422))
def import_bag():
    import uuid

    from ..errors import Forbidden, TooLarge
    from ..handover import bag
    from ..handover.service import import_package

    user = signed_in_user()
    if "archivist" not in user.roles:
        raise Forbidden("只有档案员可以导入移交数据包")
    upload = open_upload(missing="缺少文件字段 file（BagIt 数据包 ZIP）")
    rt = runtime()
    work = rt.settings.instance / "imports" / f"bag-{uuid.uuid4().hex}"
    work.mkdir(parents=True)
    try:
        zpath = work / "package.zip"
        size, limit = 0, rt.settings.max_upload_bytes
        with open(zpath, "wb") as fh:
            while chunk := upload.part.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"文件超过大小限制（{limit // (1024 * 1024)} MB）")
                fh.write(chunk)
        upload.finish()
        package = bag.open_package(zpath, work / "bag", limit)
        svc = service()
        h = import_package(svc, svc.archive, user, package)
        arch = services().archive
        lines = list(h.current.lines)
        after_commit(lambda: [arch.apply_retention(line.item) for line in lines])
        return jsonify(handover_json(svc, h)), 201
    finally:
        bag.remove(work)
