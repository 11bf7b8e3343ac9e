"""JSON API of the archive under /api/v1/archive (pydantic bodies; OpenAPI from the same models)."""
from __future__ import annotations

import json
from typing import Literal

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..archive import catalogue as cat
from ..archive.checks import report_from_json
from ..archive.models import ArchiveItem, DisposalReview, ImportRun
from ..archive.service import ArchiveService
from ..errors import NotFound
from .api import api_login_required
from .apispec import operation
from .context import after_commit, current_user, runtime, signed_in_user
from .schemas import Day, Id, Query
from .services import services
from .transfer import content_disposition, send_audited
from .upload_marks import streaming_upload
from .uploads import open_upload

bp = Blueprint("archive_api", __name__, url_prefix="/api/v1/archive")

Retention = Literal["Y", "D30", "D10"]


class FileItem(BaseModel):
    """File one document (an uploaded file) or one issued letter / minutes as an archive item (件)."""
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"document_id": 1, "retention": "D30"}]})
    document_id: Id | None = None
    letter_id: Id | None = None
    retention: Retention
    unit: str | None = Field(None, max_length=10, description="机构（问题）代码；缺省取文件所属股室或全宗的第一个代码")

    @model_validator(mode="after")
    def _one_source(self):
        if (self.document_id is None) == (self.letter_id is None):
            raise ValueError("document_id 与 letter_id 须且只能给出一个")
        return self


class SourceRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document_id: Id | None = None
    letter_id: Id | None = None

    @model_validator(mode="after")
    def _one_source(self):
        if (self.document_id is None) == (self.letter_id is None):
            raise ValueError("document_id 与 letter_id 须且只能给出一个")
        return self


class FileBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[SourceRef] = Field(min_length=1, max_length=500)
    retention: Retention
    unit: str | None = Field(None, max_length=10)


class MetadataPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=300)
    doc_number: str | None = Field(None, max_length=80)
    responsible: str | None = Field(None, min_length=1, max_length=200)
    doc_date: Day | None = None
    doc_type: str | None = Field(None, max_length=20)
    remarks: str | None = Field(None, max_length=300)
    catalogue: bool | None = Field(None, description="true：向全县共享本件目录（仅著录项，不含内容）；false：取消共享")


class ListQuery(Query):
    fonds: str | None = Field(None, max_length=4)
    year: int | None = Field(None, ge=1900, le=2999)
    retention: Retention | None = None
    unit: str | None = Field(None, max_length=10)
    after: str | None = Field(None, max_length=40, description="上一页最后一件的档号（键集分页）")
    size: int = Field(50, ge=1, le=200)


class CatalogueQuery(Query):
    fonds: str = Field(min_length=4, max_length=4)
    year: int = Field(ge=1900, le=2999)
    retention: Retention
    unit: str | None = Field(None, max_length=10)
    format: Literal["xlsx", "pdf"] = "xlsx"


class DisposalProposal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    proposal: Literal["keep", "destroy"]
    reason: str = Field("", max_length=2000)


class DisposalTarget(BaseModel):
    """The 鉴定 page's form: sign a review (review_id) or propose for an item (item_id)."""
    review_id: Id | None = None
    item_id: Id | None = None


class SignOpinion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    opinion: str = Field(min_length=1, max_length=2000)


class CandidatesQuery(Query):
    year: int | None = Field(None, ge=1900, le=2999)
    source_type: str | None = Field(None, max_length=20, description="letter 或 document")


# -- responses (documentation) ---------------------------------------------------------------------
class ArchiveItemOut(BaseModel):
    """档案（件）"""
    model_config = ConfigDict(extra="allow")
    id: int
    archival_code: str
    fonds: str
    year: int
    retention: str
    title: str
    stamp_pending: bool = Field(False, description="归档章副本待后台生成（批量导入的件）")


class ItemPage(BaseModel):
    """档案列表（按档号键集分页）"""
    items: list[ArchiveItemOut]
    next_after: str | None


class BatchResult(BaseModel):
    """已归档的件与失败原因"""
    filed: list[ArchiveItemOut]
    failed: list[dict]


class CheckReport(BaseModel):
    """四性检测报告"""
    model_config = ConfigDict(extra="allow")
    passed: bool
    checks: list[dict]


class ReviewOut(BaseModel):
    """鉴定记录"""
    model_config = ConfigDict(extra="allow")
    id: int
    proposal: str
    reason: str


class Listing(BaseModel):
    """列表"""
    items: list[dict]


class ImportRunOut(BaseModel):
    """导入记录（后台进行，轮询进度）"""
    model_config = ConfigDict(extra="allow")
    id: int
    status: str


class ZipUpload(BaseModel):
    """multipart/form-data：file（ZIP：文件 + 目录.xlsx/目录.csv）"""
    file: bytes


def archive() -> ArchiveService:
    return services().archive


def item_json(item: ArchiveItem, detail: bool = False) -> dict:
    out = {"id": item.id, "archival_code": item.archival_code, "fonds": item.fonds, "category": item.category,
           "year": item.year, "retention": item.retention, "retention_label": item.retention_label,
           "unit": item.unit, "item_number": item.item_number, "title": item.title, "doc_number": item.doc_number,
           "responsible": item.responsible, "doc_date": item.doc_date.isoformat() if item.doc_date else None,
           "doc_type": item.doc_type, "secrecy": item.secrecy, "pages": item.pages, "remarks": item.remarks,
           "source_type": item.source_type, "filed_by": item.filer.username,
           "filed_at": item.filed_at.isoformat() + "Z",
           "retention_until": item.retention_until.isoformat() if item.retention_until else None,
           "retention_note": item.retention_note,
           "last_checked_at": item.last_checked_at.isoformat() + "Z" if item.last_checked_at else None,
           "last_check_passed": item.last_check_passed, "stamp_pending": item.stamp_pending}
    if detail:
        out["parts"] = [{"id": p.id, "role": p.role, "role_label": p.role_label, "document_id": p.document_id,
                         "version": p.version, "filename": p.filename, "size": p.size, "format": p.media_type,
                         "sha256": p.sha256, "sm3": p.sm3} for p in item.parts]
    return out


def _file_and_lock(svc: ArchiveService, item: ArchiveItem) -> None:
    """Lock the blobs in the store once the filing is committed (irreversible, so only committed rows)."""
    after_commit(lambda: svc.apply_retention(item))


@bp.post("/items")
@api_login_required
@operation("归档：文件或已印发的函件/纪要成为一件档案（分配档号、加归档章副本、四性检测）", body=FileItem,
           responses={201: ArchiveItemOut}, errors=(403, 409))
def file_item(body: FileItem):
    data = body
    svc = archive()
    user = signed_in_user()
    item = svc.file(user, svc.bundle(user, document_id=data.document_id, letter_id=data.letter_id),
                    data.retention, data.unit)
    _file_and_lock(svc, item)
    return jsonify(item_json(item, detail=True)), 201


@bp.post("/items/batch")
@api_login_required
@operation("批量归档（每件单独检测，失败的件列在 failed 中）", body=FileBatch, responses={200: BatchResult},
           errors=(403,))
def file_batch(body: FileBatch):
    data = body
    svc = archive()
    filed, failed = svc.file_many(signed_in_user(), [r.model_dump(exclude_none=True) for r in data.items],
                                  data.retention, data.unit)
    after_commit(lambda: [svc.apply_retention(item) for item in filed])
    return jsonify({"filed": [item_json(i) for i in filed], "failed": failed}), 200


@bp.get("/items")
@api_login_required
@operation("档案列表（按全宗、年度、保管期限、机构筛选；按档号键集分页）", query=ListQuery, responses={200: ItemPage})
def list_items(query: ListQuery):
    q = query
    page = archive().list(signed_in_user(), q.fonds, q.year, q.retention, q.unit, q.after, q.size)
    return jsonify({"items": [item_json(i) for i in page.items], "next_after": page.next_after})


@bp.get("/items/<int:item_id>")
@api_login_required
@operation("档案详情（著录项、组成文件、检测报告）", responses={200: ArchiveItemOut})
def get_item(item_id: int):
    svc = archive()
    item = svc.get(signed_in_user(), item_id)
    out = item_json(item, detail=True)
    reports = svc.reports(item)
    out["reports"] = [{"id": r.id, "at": r.at.isoformat() + "Z", "trigger": r.trigger, "passed": r.passed}
                      for r in reports[:20]]
    return jsonify(out)


@bp.patch("/items/<int:item_id>")
@api_login_required
@operation("修改著录项（记入审计）", body=MetadataPatch, responses={200: ArchiveItemOut}, errors=(403, 409))
def patch_item(item_id: int, body: MetadataPatch):
    data = body
    svc = archive()
    changes = data.model_dump(exclude_unset=True)
    share = changes.pop("catalogue", None)
    item = svc.get(signed_in_user(), item_id)
    if changes:
        item = svc.update_metadata(signed_in_user(), item, changes)
    if share is not None:
        services().lookups.share(signed_in_user(), [item], share)
    out = item_json(item, detail=True)
    out["catalogue"] = any(p.document.catalogue for p in item.parts)
    return jsonify(out)


@bp.post("/items/<int:item_id>/check")
@api_login_required
@operation("四性检测（真实性、完整性、可用性、安全性），保存报告", responses={200: CheckReport})
def check_item(item_id: int):
    svc = archive()
    item = svc.get(signed_in_user(), item_id)
    report = svc.check(item, "demand", signed_in_user())
    return jsonify(report.to_dict())


@bp.get("/items/<int:item_id>/reports/<int:report_id>")
@api_login_required
@operation("一次四性检测的报告", responses={200: CheckReport})
def get_report(item_id: int, report_id: int):
    svc = archive()
    item = svc.get(signed_in_user(), item_id)
    row = next((r for r in svc.reports(item) if r.id == report_id), None)
    if row is None:
        raise NotFound("检测报告不存在")
    return jsonify({"passed": row.passed, "at": row.at.isoformat() + "Z", "trigger": row.trigger,
                    "checks": [c.__dict__ for c in report_from_json(row.results)]})


@bp.get("/items/<int:item_id>/parts/<int:part_id>")
@api_login_required
@operation("下载组成文件（含归档章副本）", responses={200: ("文件内容", "application/octet-stream", None)})
def get_part(item_id: int, part_id: int):
    return send_audited(signed_in_user(), archive().part_version(signed_in_user(), item_id, part_id))


@bp.get("/candidates")
@api_login_required
@operation("待归档文件（本机关未归档的已印发函件、纪要和上传文件）", query=CandidatesQuery, responses={200: Listing},
           errors=(403,))
def candidates(query: CandidatesQuery):
    rows = archive().candidates(signed_in_user(), query.year, query.source_type or None)
    return jsonify({"items": [candidate_json(b) for b in rows]})


def candidate_json(b) -> dict:
    ref = {"letter_id": int(b.source_id)} if b.source_type == "letter" else {"document_id": int(b.source_id)}
    return {"source_type": b.source_type, "kind": b.kind_label, "title": b.title, "doc_number": b.doc_number,
            "responsible": b.responsible, "date": b.doc_date.isoformat() if b.doc_date else None, "year": b.year,
            "parts": len(b.parts), "ref": ref}


@bp.get("/catalogue")
@api_login_required
@operation("归档文件目录（XLSX 或横向 A4 PDF，按件号排序）", query=CatalogueQuery,
           responses={200: ("XLSX 或 PDF 文件", "application/octet-stream", None)})
def catalogue(query: CatalogueQuery):
    q = query
    rows = archive().catalogue_rows(signed_in_user(), q.fonds.upper(), q.year, q.retention, q.unit)
    spool = cat.export(rows, q.format, cat.heading(q.fonds.upper(), q.year, q.retention, q.unit))
    name = f"归档文件目录-{q.fonds.upper()}-{q.year}-{q.retention}{'-' + q.unit if q.unit else ''}.{q.format}"
    mime = ("application/pdf" if q.format == "pdf"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp = Response(cat.chunks(spool), mimetype=mime, direct_passthrough=True)
    resp.headers["Content-Disposition"] = content_disposition(name)
    return resp


@bp.get("/disposal")
@api_login_required
@operation("到期鉴定清单", responses={200: Listing})
def disposal_list():
    svc = archive()
    out = []
    for item in svc.disposal_due(signed_in_user()):
        review = svc.review_for(item)
        out.append({**item_json(item), "review": review_json(review) if review else None})
    return jsonify({"items": out})


def review_json(r: DisposalReview) -> dict:
    return {"id": r.id, "proposal": r.proposal, "reason": r.reason, "proposed_by": r.proposer.username,
            "proposed_at": r.proposed_at.isoformat() + "Z",
            "decided_at": r.decided_at.isoformat() + "Z" if r.decided_at else None,
            "released_at": r.released_at.isoformat() + "Z" if r.released_at else None}


@bp.post("/items/<int:item_id>/disposal")
@api_login_required
@operation("鉴定：对超过保管期限的档案提出继续保存或销毁意见（送领导审签）", body=DisposalProposal,
           responses={201: ReviewOut}, errors=(403, 409))
def propose_disposal(item_id: int, body: DisposalProposal):
    data = body
    svc = archive()
    review = svc.propose_disposal(signed_in_user(), svc.get(signed_in_user(), item_id), data.proposal, data.reason)
    return jsonify(review_json(review)), 201


@bp.post("/disposal/<int:review_id>/sign")
@api_login_required
@operation("领导审签鉴定意见", body=SignOpinion, responses={200: ReviewOut}, errors=(403, 409))
def sign_disposal(review_id: int, body: SignOpinion):
    data = body
    svc = archive()
    review = svc.review(signed_in_user(), review_id)
    svc.sign_disposal(signed_in_user(), review, data.opinion)
    return jsonify(review_json(review))


# -- imports (ZIP upload) --------------------------------------------------------------------------
def start_import(user, stream, filename: str) -> ImportRun:
    """Save the uploaded ZIP, check and extract it, and queue the run: a worker imports it (and takes it
    up again after a restart)."""
    from ..archive.import_runs import receive_zip

    runs = services().import_runs
    runs.require_importer(user)
    settings = runtime().settings
    key, work = receive_zip(stream, settings.instance, settings.max_upload_bytes)
    return runs.queue(user, key, filename, work)


def resume_import(run: ImportRun) -> ImportRun:
    """Queue a failed (interrupted) run again: the worker imports the rows not yet imported."""
    return services().import_runs.resume(run)


def import_json(run: ImportRun) -> dict:
    text = archive().import_text_progress(run)
    return {"id": run.id, "status": run.status, "total": run.total, "done": run.done, "imported": run.imported,
            "skipped": run.skipped, "failed": run.failed, "message": run.message,
            "text": {"documents": text.documents, "waiting": text.waiting, "pages_done": text.pages_done,
                     "pages_total": text.pages_total},
            "started_at": run.started_at.isoformat() + "Z",
            "finished_at": run.finished_at.isoformat() + "Z" if run.finished_at else None,
            "errors": json.loads(run.errors or "[]")[:200]}


def visible_run(run_id: int) -> ImportRun:
    return services().import_runs.get(signed_in_user(), run_id)


@bp.post("/imports")
@streaming_upload()
@api_login_required
@operation("上传 ZIP 批量导入数字化档案（文件 + 目录.xlsx/目录.csv）；绝对路径、..、符号链接、"
           "超过 10000 个文件或解压比超过 100 的 ZIP 整体拒绝", form=ZipUpload, responses={202: ImportRunOut},
           errors=(403,))
def create_import():
    upload = open_upload(missing="缺少文件字段 file（ZIP：文件和目录.xlsx/目录.csv）")
    run = start_import(current_user(), upload.part, upload.filename)
    upload.finish()
    return jsonify(import_json(run)), 202


@bp.get("/imports/<int:run_id>")
@api_login_required
@operation("导入进度与逐行错误", responses={200: ImportRunOut})
def get_import(run_id: int):
    return jsonify(import_json(visible_run(run_id)))


@bp.post("/imports/<int:run_id>/resume")
@api_login_required
@operation("继续一个中断的导入（已导入的行不会重复）", responses={202: ImportRunOut}, errors=(404, 409))
def resume_import_api(run_id: int):
    return jsonify(import_json(resume_import(visible_run(run_id)))), 202


@bp.get("/imports/<int:run_id>/errors.csv")
@api_login_required
@operation("逐行错误报告（行号、列、原因）", responses={200: ("CSV", "text/csv", None)})
def import_errors(run_id: int):
    from ..archive.importer import error_report_csv, iter_errors

    run = visible_run(run_id)
    resp = Response(error_report_csv(list(iter_errors(run))), mimetype="text/csv")
    resp.headers["Content-Disposition"] = content_disposition(f"导入错误报告-{run.id}.csv")
    return resp


# -- 全宗号 and 机构代码 (administrators) ----------------------------------------------------------------
class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"code": "BGS", "name": "办公室"}]})
    code: str = Field(min_length=1, max_length=10, pattern=r"^[A-Z0-9]{1,10}$")
    name: str = Field(min_length=1, max_length=100)
    department: str | None = Field(None, max_length=100, description="所代表的股室（部门代码或名称），可空")


class FondsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str = Field(min_length=1, max_length=100, description="机关（部门代码或名称）")
    code: str = Field(min_length=4, max_length=4, pattern=r"^[A-Za-z0-9]{4}$")
    units: list[UnitIn] = Field(min_length=1, max_length=50)


def fonds_json(f) -> dict:
    return {"department": f.department.name, "department_code": f.department.code, "code": f.code,
            "units": [{"code": u.code, "name": u.name, "department_id": u.department_id} for u in f.units]}


def save_fonds(data: FondsIn):
    from ..permissions import require_admin

    require_admin(signed_in_user())
    roster = services().roster
    dept = roster.find_department(data.department)
    units = [(u.code, u.name, roster.find_department(u.department).id if u.department else None) for u in data.units]
    return archive().fondses.set(signed_in_user(), dept, data.code, units)


class FondsList(BaseModel):
    """全宗号与机构（问题）代码"""
    items: list[dict]


class FondsOut(BaseModel):
    """全宗"""
    model_config = ConfigDict(extra="allow")
    code: str
    units: list[dict]


@bp.get("/fonds")
@api_login_required
@operation("全宗号与机构（问题）代码", responses={200: FondsList})
def list_fonds():
    return jsonify({"items": [fonds_json(f) for f in archive().fondses.all()]})


@bp.put("/fonds")
@api_login_required
@operation("设置机关的全宗号和机构（问题）代码列表（系统管理员；已有档案的全宗号不能改）", body=FondsIn,
           responses={200: FondsOut}, errors=(403, 409))
def put_fonds(body: FondsIn):
    fonds = save_fonds(body)
    return jsonify(fonds_json(fonds))
