"""Four-property checks (四性检测, DA/T 70-2018) of one archive item.

Every check has a property (authenticity 真实性, integrity 完整性, usability 可用性, security 安全性), a
name, and returns pass / fail / skip with the reason. ``run_checks`` runs them all; a report is stored
by the service (at filing, on demand, by the worker's sample).
"""
from __future__ import annotations

import builtins
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.orm import Session, attributes

from .. import mediatype
from ..audit import event_intact
from ..errors import DomainError
from ..hashing import digest_stream
from ..models import AuditEvent, Blob, DocumentVersion
from ..storage.base import ObjectStore
from .codes import FONDS_RE, UNIT_RE, code_problem, format_code
from .models import CATEGORY, RETENTIONS, ArchiveItem, ItemPart

PROPERTIES = {"authenticity": "真实性", "integrity": "完整性", "usability": "可用性", "security": "安全性"}

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMAGES = {"image/jpeg", "image/png", "image/tiff"}
ACCEPTED = {PDF, DOCX, XLSX, "application/ofd", *IMAGES}
ACCEPTED_LABEL = "PDF、OFD、DOCX、XLSX、JPEG、PNG、TIFF"
EXTENSIONS = {PDF: {"pdf"}, DOCX: {"docx"}, XLSX: {"xlsx"}, "application/ofd": {"ofd"},
              "image/jpeg": {"jpg", "jpeg"}, "image/png": {"png"}, "image/tiff": {"tif", "tiff"}}


@dataclass
class CheckResult:
    property: str
    name: str
    label: str
    result: str  # pass | fail | skip
    why: str

    @builtins.property  # the field ``property`` shadows the builtin in this class body
    def failed(self) -> bool:
        return self.result == "fail"


@dataclass
class Report:
    checks: list[CheckResult]

    @property
    def passed(self) -> bool:
        return not any(c.failed for c in self.checks)

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.failed]

    def to_dict(self) -> dict:
        return {"passed": self.passed, "checks": [asdict(c) for c in self.checks]}

    def to_json(self) -> str:
        return json.dumps([dict(c.__dict__) for c in self.checks], ensure_ascii=False)

    def summary(self) -> str:
        return "；".join(f"{c.label}：{c.why}" for c in self.failures) or "四性检测通过"


@dataclass
class Facts:
    """What the checks of many items look up in the database, fetched once for all of them (a bulk
    import's chunk, ``archive-service check`` over a fonds): the same answers the per-item queries give."""
    code_counts: dict[str, int]
    groups: dict[tuple, tuple[int, int]]  # (fonds, year, retention, unit) → (count, highest 件号)
    events: dict[tuple[str, str], list]  # (target_type, target_id) → AuditEvent rows, by id
    before: dict[int, str]  # event id - 1 → that event's hash
    versions: dict[tuple[int, int], str]  # (document_id, number) → blob sha256
    blob_sizes: dict[str, int]


def _chunks(values: list, n: int = 500):
    for i in range(0, len(values), n):
        yield values[i:i + n]


def load_parts(session: Session, items: list[ArchiveItem]) -> None:
    """Load the parts of every item whose parts are not loaded yet, in one query."""
    todo = {it.id: it for it in items if "parts" not in it.__dict__}
    found: dict[int, list[ItemPart]] = {i: [] for i in todo}
    for part in _chunks(sorted(todo)):
        for p in session.scalars(select(ItemPart).where(ItemPart.item_id.in_(part))
                                 .order_by(ItemPart.item_id, ItemPart.position)):
            found[p.item_id].append(p)
    for item_id, parts in found.items():
        attributes.set_committed_value(todo[item_id], "parts", parts)


def prefetch(session: Session, items: list[ArchiveItem]) -> Facts:
    """The :class:`Facts` for ``items`` (a few queries, whatever their number)."""
    codes = sorted({it.archival_code for it in items})
    code_counts: dict[str, int] = {}
    for part in _chunks(codes):
        code_counts.update(session.execute(select(ArchiveItem.archival_code, func.count())
                                           .where(ArchiveItem.archival_code.in_(part))
                                           .group_by(ArchiveItem.archival_code)).all())
    wanted_groups = {(it.fonds, it.year, it.retention, it.unit) for it in items}
    groups = dict.fromkeys(wanted_groups, (0, 0))
    cols = (ArchiveItem.fonds, ArchiveItem.year, ArchiveItem.retention, ArchiveItem.unit)
    for part in _chunks(sorted(wanted_groups), 200):  # one grouped query, not one per group
        for f, y, r, u, n, top in session.execute(
                select(*cols, func.count(), func.max(ArchiveItem.item_number))
                .where(tuple_(*cols).in_(part)).group_by(*cols)):
            groups[(f, y, r, u)] = (n, top or 0)
    doc_ids = sorted({str(p.document_id) for it in items for p in it.parts})
    item_ids = sorted({str(it.id) for it in items})
    events: dict[tuple[str, str], list] = {}
    for target_type, ids in (("document", doc_ids), ("archive_item", item_ids)):
        for part in _chunks(ids):
            for ev in session.scalars(select(AuditEvent).where(AuditEvent.target_type == target_type,
                                                               AuditEvent.target_id.in_(part))
                                      .order_by(AuditEvent.id)):
                events.setdefault((target_type, ev.target_id), []).append(ev)
    wanted = sorted({ev.id - 1 for evs in events.values() for ev in evs})
    before: dict[int, str] = {}
    for part in _chunks(wanted):
        before.update(session.execute(select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id.in_(part))).all())
    doc_numbers = sorted({p.document_id for it in items for p in it.parts})
    versions: dict[tuple[int, int], str] = {}
    for part in _chunks(doc_numbers):
        for d, n, sha in session.execute(select(DocumentVersion.document_id, DocumentVersion.number,
                                                DocumentVersion.blob_sha256)
                                         .where(DocumentVersion.document_id.in_(part))):
            versions[(d, n)] = sha
    shas = sorted({p.sha256 for it in items for p in it.parts})
    blob_sizes: dict[str, int] = {}
    for part in _chunks(shas):
        blob_sizes.update(session.execute(select(Blob.sha256, Blob.size).where(Blob.sha256.in_(part))).all())
    return Facts(code_counts, groups, events, before, versions, blob_sizes)


class Context:
    """What the checks share: the item, its parts' bytes (read once) and the collaborators."""

    def __init__(self, session: Session, store: ObjectStore, item: ArchiveItem, verifier=None,
                 known: dict[str, bytes] | None = None, opened: dict[str, tuple[bool, str, int]] | None = None,
                 facts: Facts | None = None, digested: dict[str, tuple[str, str, int, str]] | None = None):
        self.session, self.store, self.item, self.verifier = session, store, item, verifier
        self._data: dict[int, bytes | None] = {}
        self._errors: dict[int, str] = {}
        # at filing, the bytes just read from the store (by digest) and their parse result are reused;
        # an import also hands over what the store computed while it wrote those bytes: (SHA-256, SM3,
        # size, detected media type) by digest
        self.known, self.opened, self.digested = known or {}, opened or {}, digested or {}
        self.facts = facts

    def events(self, target_type: str, target_id: str) -> list:
        assert self.facts is not None
        return self.facts.events.get((target_type, target_id), [])

    def data(self, part) -> bytes | None:
        if part.id not in self._data and part.sha256 in self.known:
            self._data[part.id] = self.known[part.sha256]
        if part.id not in self._data:
            try:
                chunks = self.store.open(part.sha256)
                try:
                    self._data[part.id] = b"".join(chunks)
                finally:
                    getattr(chunks, "close", lambda: None)()
            except DomainError as exc:
                self._data[part.id] = None
                self._errors[part.id] = exc.message
        return self._data[part.id]

    def read(self, part) -> bytes | None:
        """The part's bytes if a check has read them already (never reads)."""
        return self._data.get(part.id)

    def format_of(self, part) -> str:
        """The part's archival format: OFD is a ZIP named .ofd, everything else as detected."""
        zipped = part.media_type in {"application/zip", "application/octet-stream"}
        if zipped and part.filename.lower().endswith(".ofd"):
            return "application/ofd"
        return part.media_type


Check = Callable[[Context], "tuple[str, str]"]
CHECKS: list[tuple[str, str, str, Check]] = []


def check(prop: str, name: str, label: str):
    def deco(fn: Check) -> Check:
        CHECKS.append((prop, name, label, fn))
        return fn
    return deco


def _ok(why: str = "通过") -> tuple[str, str]:
    return "pass", why


def _fail(problems: list[str]) -> tuple[str, str]:
    return ("fail", "；".join(problems[:5]) + (f" 等 {len(problems)} 项" if len(problems) > 5 else "")) \
        if problems else _ok()


# -- 真实性 authenticity -------------------------------------------------------------------------
@check("authenticity", "digests_match", "摘要值与存储内容一致")
def digests_match(ctx: Context):
    problems = []
    for p in ctx.item.parts:
        data = ctx.data(p)
        if data is None:
            problems.append(f"{p.filename}：无法读取（{ctx._errors.get(p.id, '')}）")
            continue
        streamed = ctx.digested.get(p.sha256)
        sha, sm3, size = streamed[:3] if streamed else digest_stream([data])
        if sha != p.sha256:
            problems.append(f"{p.filename}：SHA-256 不符")
        elif sm3 != p.sm3:
            problems.append(f"{p.filename}：SM3 不符")
        elif size != p.size:
            problems.append(f"{p.filename}：大小不符")
    return _fail(problems) if problems else _ok(f"{len(ctx.item.parts)} 个文件的 SHA-256 与 SM3 均一致")


@check("authenticity", "signatures_valid", "电子签名有效")
def signatures_valid(ctx: Context):
    signed = [p for p in ctx.item.parts if p.media_type == PDF and p.role != "stamped"
              and (d := ctx.data(p)) is not None and b"/ByteRange" in d]
    if not signed:
        return "skip", "无电子签名文件"
    if ctx.verifier is None:
        return "skip", "未配置签名验证"
    problems = []
    for p in signed:
        ok, why = ctx.verifier(ctx.data(p))
        if ok is False:
            problems.append(f"{p.filename}：{why}")
    return _fail(problems) if problems else _ok(f"{len(signed)} 个签名文件验证有效")


@check("authenticity", "metadata_well_formed", "元数据格式规范")
def metadata_well_formed(ctx: Context):
    it, problems = ctx.item, []
    if not FONDS_RE.match(it.fonds or ""):
        problems.append(f"全宗号“{it.fonds}”应为 4 位字母或数字")
    if it.category != CATEGORY:
        problems.append(f"门类代码应为 {CATEGORY}")
    if not (1900 <= (it.year or 0) <= date.today().year + 1):
        problems.append(f"年度 {it.year} 超出范围")
    if it.retention not in RETENTIONS:
        problems.append(f"保管期限“{it.retention}”应为 Y、D30 或 D10")
    if not UNIT_RE.match(it.unit or ""):
        problems.append(f"机构代码“{it.unit}”应为 1–10 位大写字母或数字")
    if len(it.title or "") > 300:
        problems.append("题名超过 300 字")
    if it.doc_date is not None and it.doc_date.year > date.today().year + 1:
        problems.append("日期晚于当前年度")
    if (it.pages or 0) < 0:
        problems.append("页数不能为负")
    if it.secrecy != "非密":
        problems.append("密级只能为非密（涉密内容不得进入本系统）")
    return _fail(problems)


@check("authenticity", "archival_code_valid_unique", "档号规范且唯一")
def archival_code_valid_unique(ctx: Context):
    it = ctx.item
    problem = code_problem(it.archival_code)
    if problem:
        return "fail", problem
    try:
        expected = format_code(it.fonds, it.year, it.retention, it.unit, it.item_number, it.category)
    except ValueError as exc:
        return "fail", str(exc)
    if expected != it.archival_code:
        return "fail", f"档号 {it.archival_code} 与著录项不符（应为 {expected}）"
    n = ctx.facts.code_counts.get(it.archival_code, 0) if ctx.facts else ctx.session.scalar(
        select(func.count()).select_from(ArchiveItem).where(ArchiveItem.archival_code == it.archival_code))
    if n != 1:
        return "fail", f"档号 {it.archival_code} 重复 {n} 次"
    return _ok(f"档号 {it.archival_code} 规范且唯一")


@check("authenticity", "file_properties_match", "文件名、大小、格式与元数据一致")
def file_properties_match(ctx: Context):
    problems = []
    for p in ctx.item.parts:
        if ctx.facts is not None:
            blob_size = ctx.facts.blob_sizes.get(p.sha256)
        else:
            blob = ctx.session.get(Blob, p.sha256)
            blob_size = None if blob is None else blob.size
        data = ctx.data(p)
        if blob_size is None or data is None:
            problems.append(f"{p.filename}：文件缺失")
            continue
        if blob_size != p.size or len(data) != p.size:
            problems.append(f"{p.filename}：大小与元数据不符")
        streamed = ctx.digested.get(p.sha256)
        detected = streamed[3] if streamed else mediatype.detect(data[:8192])
        if detected != p.media_type:
            problems.append(f"{p.filename}：格式 {detected} 与元数据 {p.media_type} 不符")
        ext = p.filename.rsplit(".", 1)[-1].lower() if "." in p.filename else ""
        exts = EXTENSIONS.get(ctx.format_of(p))
        if exts and ext not in exts:
            problems.append(f"{p.filename}：扩展名与格式不符")
    return _fail(problems)


# -- 完整性 integrity ----------------------------------------------------------------------------
@check("integrity", "mandatory_metadata", "必填元数据齐全")
def mandatory_metadata(ctx: Context):
    it = ctx.item
    fields = {"题名": (it.title or "").strip("[] 　"), "责任者": it.responsible, "日期": it.doc_date,
              "年度": it.year, "保管期限": it.retention, "全宗号": it.fonds, "机构代码": it.unit,
              "件号": it.item_number, "档号": it.archival_code, "密级": it.secrecy}
    missing = [k for k, v in fields.items() if v in (None, "", 0)]
    return ("fail", "缺少" + "、".join(missing)) if missing else _ok()


@check("integrity", "process_history", "处理过程记录完整")
def process_history(ctx: Context):
    doc_ids = [str(p.document_id) for p in ctx.item.parts]
    filing = ("archive.file", "archive.import")
    if ctx.facts is not None:
        have = {d for d in doc_ids if ctx.events("document", d)}
        filed: int | None = sum(ev.action in filing for ev in ctx.events("archive_item", str(ctx.item.id)))
    else:
        have = set(ctx.session.scalars(select(AuditEvent.target_id).where(
            AuditEvent.target_type == "document", AuditEvent.target_id.in_(doc_ids)).distinct()))
        filed = ctx.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.target_type == "archive_item", AuditEvent.target_id == str(ctx.item.id),
            AuditEvent.action.in_(filing)))
    missing = [d for d in doc_ids if d not in have]
    problems = [f"文档 {d} 无处理记录" for d in missing]
    if not filed:
        problems.append("无归档记录")
    return _fail(problems)


@check("integrity", "item_numbers_gapless", "件号连续无缺号")
def item_numbers_gapless(ctx: Context):
    it = ctx.item
    if ctx.facts is not None:
        count, top = ctx.facts.groups[(it.fonds, it.year, it.retention, it.unit)]
        if count == top:
            return _ok(f"件号 0001–{top:04d} 连续" if top else "通过")
    group = (ArchiveItem.fonds == it.fonds, ArchiveItem.year == it.year, ArchiveItem.retention == it.retention,
             ArchiveItem.unit == it.unit)
    count, top = ctx.session.execute(select(func.count(), func.max(ArchiveItem.item_number)).where(*group)).one()
    if count == (top or 0):  # numbers are unique within the group: as many as the highest means no gap
        return _ok(f"件号 0001–{top:04d} 连续" if top else "通过")
    numbers = set(ctx.session.scalars(select(ArchiveItem.item_number).where(*group)))
    missing = sorted(set(range(1, (top or 0) + 1)) - numbers)
    shown = "、".join(f"{n:04d}" for n in missing[:10])
    return "fail", f"{it.fonds}-{it.year}-{it.retention}-{it.unit} 缺件号 {shown}"


@check("integrity", "parts_complete", "组成部分齐全")
def parts_complete(ctx: Context):
    it, problems = ctx.item, []
    if len(it.parts) != it.part_count:
        problems.append(f"应有 {it.part_count} 个组成文件，现有 {len(it.parts)} 个")
    for p in it.parts:
        if ctx.facts is not None:
            sha = ctx.facts.versions.get((p.document_id, p.version))
        else:
            v = ctx.session.scalar(select(DocumentVersion).where(DocumentVersion.document_id == p.document_id,
                                                                 DocumentVersion.number == p.version))
            sha = None if v is None else v.blob_sha256
        if sha is None or sha != p.sha256:
            problems.append(f"{p.filename}：文档版本缺失或已变化")
        elif ctx.read(p) is None and not ctx.store.exists(p.sha256):  # bytes already read: no second look
            problems.append(f"{p.filename}：存储中缺少文件")
    return _fail(problems)


# -- 可用性 usability ----------------------------------------------------------------------------
@check("usability", "format_accepted", "格式为归档格式")
def format_accepted(ctx: Context):
    bad = [f"{p.filename}（{p.media_type}）" for p in ctx.item.parts if ctx.format_of(p) not in ACCEPTED]
    return ("fail", "不是归档格式（" + ACCEPTED_LABEL + "）：" + "、".join(bad)) if bad else _ok()


def opens(fmt: str, data: bytes) -> tuple[bool, str, int]:
    """(opens, why, pages) for one file's content."""
    try:
        if fmt == PDF:
            from pypdf import PdfReader

            n = _pdf_pages(PdfReader(io.BytesIO(data)))
            return (n > 0, f"{n} 页" if n else "PDF 没有页面", n)
        if fmt == DOCX:
            import docx

            d = docx.Document(io.BytesIO(data))
            return True, f"{len(d.paragraphs)} 段", _docx_pages(data)
        if fmt == XLSX:
            import openpyxl

            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
            n = len(wb.sheetnames)
            wb.close()
            return True, f"{n} 个工作表", n
        if fmt in IMAGES:
            from PIL import Image

            with Image.open(io.BytesIO(data)) as im:
                im.load()
                frames = getattr(im, "n_frames", 1)
            return True, "图像可解码", frames
        if fmt == "application/ofd":
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return ("OFD.xml" in z.namelist(), "OFD 包结构完整", 1)
    except Exception as exc:
        return False, f"无法打开：{str(exc)[:200]}", 0
    return False, "不支持的格式", 0


def _pdf_pages(reader) -> int:
    """The page count of the page tree's root (/Count); walking the whole tree only when it has none."""
    try:
        count = reader.trailer["/Root"]["/Pages"]["/Count"]
    except (KeyError, TypeError):
        count = None
    if isinstance(count, int) and count >= 0:
        return int(count)
    return len(reader.pages)


def _docx_pages(data: bytes) -> int:
    import re

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            m = re.search(rb"<Pages>(\d+)</Pages>", z.read("docProps/app.xml"))
            return int(m.group(1)) if m else 1
    except (KeyError, zipfile.BadZipFile):
        return 1


@check("usability", "content_opens", "内容可打开")
def content_opens(ctx: Context):
    problems = []
    for p in ctx.item.parts:
        data, fmt = ctx.data(p), ctx.format_of(p)
        if data is None or fmt not in ACCEPTED:
            continue
        ok, why, _ = ctx.opened.get(p.sha256) or opens(fmt, data)
        if not ok:
            problems.append(f"{p.filename}：{why}")
    return _fail(problems)


# -- 安全性 security -----------------------------------------------------------------------------
ACTIVE_PDF = (b"/JavaScript", b"/Launch", b"/JS ")


@check("security", "no_active_content", "无可执行程序或宏")
def no_active_content(ctx: Context):
    problems = []
    for p in ctx.item.parts:
        data = ctx.data(p)
        if data is None:
            continue
        if p.media_type in mediatype.REFUSED:
            problems.append(f"{p.filename}：可执行程序")
        elif p.media_type == PDF and any(k in data for k in ACTIVE_PDF):
            problems.append(f"{p.filename}：含脚本或启动动作")
        elif data[:2] == b"PK":
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as z:
                    if any(n.lower().endswith(("vbaproject.bin", ".bin")) and "vba" in n.lower() for n in z.namelist()):
                        problems.append(f"{p.filename}：含宏")
            except zipfile.BadZipFile:
                pass
    return _fail(problems)


@check("security", "audit_chain_intact", "相关审计记录未被篡改")
def audit_chain_intact(ctx: Context):
    doc_ids = [str(p.document_id) for p in ctx.item.parts]
    if ctx.facts is not None:
        events: list = sorted([ev for d in doc_ids for ev in ctx.events("document", d)]
                              + ctx.events("archive_item", str(ctx.item.id)), key=lambda ev: ev.id)
        before = ctx.facts.before
    else:
        events = list(ctx.session.scalars(select(AuditEvent).where(or_(
            and_(AuditEvent.target_type == "document", AuditEvent.target_id.in_(doc_ids)),
            and_(AuditEvent.target_type == "archive_item", AuditEvent.target_id == str(ctx.item.id)))
        ).order_by(AuditEvent.id)).all())
        before = dict(ctx.session.execute(select(AuditEvent.id, AuditEvent.hash).where(
            AuditEvent.id.in_([ev.id - 1 for ev in events]))).all()) if events else {}
    problems = []
    for ev in events:
        if not event_intact(ctx.session, ev):
            problems.append(f"审计事件 {ev.id} 内容被篡改")
            continue
        prev = before.get(ev.id - 1)
        if prev is None:  # ids may skip (a rolled-back insert): the preceding event, whatever its id
            prev = ctx.session.scalar(select(AuditEvent.hash).where(AuditEvent.id < ev.id)
                                      .order_by(AuditEvent.id.desc()).limit(1))
        if prev is not None and prev != ev.prev_hash:
            problems.append(f"审计事件 {ev.id} 的前一事件缺失或被改")
    return _fail(problems) if problems else _ok(f"{len(events)} 条审计记录完整")


def run_checks(session: Session, store: ObjectStore, item: ArchiveItem, verifier=None,
               known: dict[str, bytes] | None = None, opened: dict | None = None, facts: Facts | None = None,
               digested: dict | None = None) -> Report:
    ctx = Context(session, store, item, verifier, known, opened, facts, digested)
    results = []
    for prop, name, label, fn in CHECKS:
        try:
            result, why = fn(ctx)
        except Exception as exc:
            result, why = "fail", f"检测出错：{str(exc)[:200]}"
        results.append(CheckResult(prop, name, label, result, why))
    return Report(results)


def report_from_json(text: str) -> list[CheckResult]:
    return [CheckResult(**d) for d in json.loads(text or "[]")]
