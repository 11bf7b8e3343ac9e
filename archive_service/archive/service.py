"""Filing (归档) and the life of archive items: 档号 allocation, 归档章 copy, checks, retention, 鉴定.

Services flush and never commit: the request, command or job that calls them commits once.
"""
from __future__ import annotations

import builtins
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import ClassVar

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import outbox, permissions
from ..audit import AuditLog
from ..clock import Clock
from ..documents import DocumentService
from ..errors import Conflict, DomainError, Forbidden, NotFound, Unprocessable
from ..extraction import ExtractionProgress, progress_of
from ..models import AuditEvent, Department, Document, DocumentVersion, User
from ..signoff import Signoff
from . import sources
from .checks import PDF, Report, run_checks
from .codes import code_problem, format_code, parse_code
from .fonds import Fondses, holding_organisation
from .models import (
    RETENTION_YEARS,
    RETENTIONS,
    ArchiveItem,
    CheckReport,
    DisposalReview,
    Fonds,
    ItemCounter,
    ItemPart,
)
from .stamp import StampFields, stamped_copy


class FilingRefused(Unprocessable):
    """The four-property checks failed: the item is not filed (details name every failing check)."""
    code = "checks_failed"


def retention_until(retention: str, filed_on: date) -> date | None:
    years = RETENTION_YEARS[retention]
    return None if years is None else date(filed_on.year + years, 12, 31)


def document_freeze_reason(session: Session, doc: Document) -> str | None:
    """The core's write guard: a document of a filed item gets no new version and is never deleted."""
    code = session.scalar(select(ArchiveItem.archival_code).join(ItemPart).where(ItemPart.document_id == doc.id))
    if code is None:
        return None
    return f"该文档已归档（档号 {code}），不能再修改、增加版本或删除"


@dataclass
class Page:
    items: list
    next_after: str | None


class ArchiveService:
    def __init__(self, session: Session, documents: DocumentService, clock: Clock, verifier=None):
        self.s = session
        self.docs = documents
        self.store = documents.store
        self.clock = clock
        self.verifier = verifier
        self.fondses = Fondses(session, clock)
        self._last_read: tuple[str, bytes] = ("", b"")
        self._opened: dict[str, tuple[bool, str, int]] = {}  # the last main part's parse (at filing)

    # -- who may do what -------------------------------------------------------------------------
    def _require_filer(self, user: User, holding: Department) -> None:
        if not permissions.same_organisation(user.department, holding):
            raise NotFound("文档不存在或无权查看")
        if not permissions.has_role(user, "archivist"):
            raise Forbidden("只有档案员可以归档")

    def get(self, user: User, item_id: int) -> ArchiveItem:
        item = self.s.get(ArchiveItem, item_id)
        if item is None or not permissions.can_view_archive(user, item.department):
            raise NotFound("档案不存在或无权查看")
        return item

    def find_item(self, item_id: int) -> ArchiveItem | None:
        """An item by id without a permission check (for audit records and jobs, never shown as is)."""
        return self.s.get(ArchiveItem, item_id)

    def items_by_id(self, ids: builtins.list[int]) -> dict[int, ArchiveItem]:
        """Items by id without a permission check (the caller checked access to what holds them)."""
        return {i.id: i for i in self.s.scalars(select(ArchiveItem).where(ArchiveItem.id.in_(ids)))}

    def part_version(self, user: User, item_id: int, part_id: int) -> DocumentVersion:
        """The document version of one of an item's parts the user may see (404 otherwise)."""
        item = self.get(user, item_id)
        part = self.s.get(ItemPart, part_id)
        if part is None or part.item_id != item.id:
            raise NotFound("组成文件不存在")
        return self.part_version_of(part)

    def part_version_of(self, part: ItemPart) -> DocumentVersion:
        return self.s.scalars(select(DocumentVersion).where(DocumentVersion.document_id == part.document_id,
                                                            DocumentVersion.number == part.version)).one()

    def organisation_ids(self, user: User) -> list[int]:
        """The user's organisation and its sections (whose records the organisation holds)."""
        org = holding_organisation(user.department)
        return [org.id, *self.s.scalars(select(Department.id).where(Department.parent_id == org.id))]

    # -- sources ---------------------------------------------------------------------------------
    def bundle(self, user: User, *, document_id: int | None = None, letter_id: int | None = None,
               source_type: str | None = None, source_id: int | None = None) -> sources.SourceBundle:
        if document_id is not None:
            doc = self.s.get(Document, document_id)
            if doc is None:
                raise NotFound("文档不存在或无权查看")
            b = sources.bundle_for_document(self.s, doc)
        else:
            kind, sid = ("letter", letter_id) if letter_id is not None else (source_type, source_id)
            prov = sources.provider(kind or "")
            found = prov.get(self.s, int(sid)) if prov is not None and sid is not None else None
            if found is None:
                raise NotFound("要归档的文件不存在或无权查看")
            b = found
        self._require_filer(user, self.s.get_one(Department, b.department_id))
        return b

    def candidates(self, user: User, year: int | None = None, source_type: str | None = None,
                   limit: int = 200) -> list[sources.SourceBundle]:
        if not permissions.has_role(user, "archivist"):
            raise Forbidden("只有档案员可以归档")
        ids = self.organisation_ids(user)
        out = []
        for prov in sources.providers():
            if source_type and prov.source_type != source_type:
                continue
            out.extend(prov.candidates(self.s, ids, year, limit))
        return sorted(out, key=lambda b: (b.doc_date or date.min, b.title))[:limit]

    # -- filing ----------------------------------------------------------------------------------
    def unit_for(self, fonds: Fonds, bundle_department_id: int, unit: str | None) -> str:
        if unit:
            unit = unit.strip().upper()
            if unit not in {u.code for u in fonds.units}:
                allowed = "、".join(f"{u.code}（{u.name}）" for u in fonds.units)
                raise Unprocessable(f"机构（问题）代码“{unit}”不在全宗 {fonds.code} 的列表中（可选：{allowed}）")
            return unit
        for u in fonds.units:
            if u.department_id == bundle_department_id:
                return u.code
        if not fonds.units:
            raise Unprocessable(f"全宗 {fonds.code} 尚未设置机构（问题）代码")
        return fonds.units[0].code

    def ensure_transaction(self) -> None:
        """Open the database transaction before a savepoint. SQLite's Python driver begins one only at
        the first write, and a SAVEPOINT opened before that is committed by its RELEASE — which would
        commit the caller's unit of work early. A no-op write makes the driver begin."""
        if self.s.get_bind().dialect.name == "sqlite":
            raw = self.s.connection().connection.dbapi_connection
            if not getattr(raw, "in_transaction", False):
                self.s.execute(text("UPDATE archive_fonds SET id = id WHERE 1 = 0"))

    def allocate(self, fonds: str, year: int, retention: str, unit: str) -> int:
        """The next 件号 of (全宗, 年度, 保管期限, 机构), gapless: the counter row is locked FOR UPDATE and
        rolls back with the caller's (sub)transaction."""
        counter = self._locked_counter(fonds, year, retention, unit)
        counter.last += 1
        self.s.flush()
        return counter.last

    def claim_number(self, fonds: str, year: int, retention: str, unit: str, number: int) -> None:
        """Record a 件号 given from outside (an import's catalogue): the counter moves past it."""
        counter = self._locked_counter(fonds, year, retention, unit)
        counter.last = max(counter.last, number)
        self.s.flush()

    def _locked_counter(self, fonds, year, retention, unit) -> ItemCounter:
        q = select(ItemCounter).where(ItemCounter.fonds == fonds, ItemCounter.year == year,
                                      ItemCounter.retention == retention, ItemCounter.unit == unit)
        row = self.s.scalar(q.with_for_update())
        if row is not None:
            return row
        try:
            with self.s.begin_nested():
                self.s.add(ItemCounter(fonds=fonds, year=year, retention=retention, unit=unit, last=0))
        except IntegrityError:
            pass  # another transaction created it first; lock theirs
        return self.s.scalars(q.with_for_update().execution_options(populate_existing=True)).one()

    def file(self, user: User, bundle: sources.SourceBundle, retention: str, unit: str | None = None, *,
             title: str | None = None, archival_code: str | None = None, remarks: str = "",
             trigger: str = "filing", action: str = "archive.file", defer_stamp: bool = False,
             new_source: bool = False) -> ArchiveItem:
        """File one source as an item; raises FilingRefused (nothing filed) when a check fails.

        ``defer_stamp``: the 归档章 copy of a PDF is not rendered now but recorded as pending; the
        worker derives it (``derive_pending_stamps``). The bulk import files this way. ``new_source``: the
        caller has just created the source's documents and checked its source key (the import), so the
        "filed already" look-ups are skipped (the unique constraints still hold)."""
        if retention not in RETENTIONS:
            raise Unprocessable("保管期限须为 Y（永久）、D30（定期30年）或 D10（定期10年）")
        holding = holding_organisation(self.s.get_one(Department, bundle.department_id))
        self._require_filer(user, holding)
        if not bundle.parts:
            raise Unprocessable("没有可归档的文件")
        doc_ids = [p.document.id for p in bundle.parts]
        taken = None if new_source else self.s.scalar(select(ArchiveItem.archival_code).join(ItemPart)
                                                      .where(ItemPart.document_id.in_(doc_ids)).limit(1))
        if taken is None and not new_source:
            taken = self.s.scalar(select(ArchiveItem.archival_code).where(
                ArchiveItem.source_type == bundle.source_type, ArchiveItem.source_id == bundle.source_id))
        if taken is not None:
            raise Conflict(f"已归档，档号 {taken}", archival_code=taken)
        fonds = self.fondses.for_department(holding)
        self.ensure_transaction()
        with self.s.begin_nested():
            item = self._create(user, holding, fonds, bundle, retention, unit, title, archival_code, remarks,
                                defer_stamp)
            AuditLog(self.s, self.clock).record(user, action, "archive_item", item.id, self.audit_fields(item))
            # the main part was just read and parsed for its page count: the checks reuse both
            report = self.check(item, trigger, user, record=False, known=dict([self._last_read]),
                                opened=self._opened)
            # an import's catalogue may give its numbers in any order: a gap is reported, not blocking
            blocking = [c for c in report.failures
                        if not (archival_code and c.name == "item_numbers_gapless")]
            if blocking:
                raise FilingRefused(f"四性检测未通过，未归档：{report.summary()}",
                                    checks=[c.__dict__ for c in report.failures], title=bundle.title)
        self._store_report(item, report, trigger, user)
        for p in item.parts:
            doc = p.document
            doc.revision += 1
            outbox.enqueue(self.s, self.clock, doc.id, doc.revision)
        self.s.flush()
        return item

    def _create(self, user, holding, fonds, bundle, retention, unit, title, archival_code, remarks,
                defer_stamp: bool = False) -> ArchiveItem:
        year = bundle.year
        if archival_code:
            problem = code_problem(archival_code)
            if problem:
                raise Unprocessable(problem)
            parsed = parse_code(archival_code)
            if parsed.fonds != fonds.code:
                raise Unprocessable(f"档号 {archival_code} 的全宗号应为 {fonds.code}")
            if self.s.scalar(select(ArchiveItem.id).where(ArchiveItem.archival_code == archival_code)):
                raise Conflict(f"档号 {archival_code} 已被使用")
            unit_code = self.unit_for(fonds, bundle.department_id, parsed.unit)
            year, retention, number = parsed.year, parsed.retention, parsed.number
            self.claim_number(fonds.code, year, retention, unit_code, number)
        else:
            unit_code = self.unit_for(fonds, bundle.department_id, unit)
            number = self.allocate(fonds.code, year, retention, unit_code)
        now = self.clock.now()
        parts = self._parts(bundle)
        main = next((p for p in parts if p["role"] == "main"), parts[0])
        pages = main.pop("pages_hint", 0)
        item = ArchiveItem(
            archival_code=format_code(fonds.code, year, retention, unit_code, number), fonds_id=fonds.id,
            department_id=holding.id, fonds=fonds.code, year=year, retention=retention, unit=unit_code,
            item_number=number, title=(title or bundle.title or "").strip()[:300], doc_number=bundle.doc_number or "",
            responsible=bundle.responsible or holding.name, doc_date=bundle.doc_date, doc_type=bundle.doc_type,
            secrecy="非密", pages=pages, remarks=remarks, source_type=bundle.source_type,
            source_id=bundle.source_id, filed_by=user.id, filed_at=now,
            retention_until=retention_until(retention, self.clock.today()))
        for pos, p in enumerate(parts):  # a new item's parts: inserted with it, no reload
            p.pop("pages_hint", None)
            item.parts.append(ItemPart(position=pos, **p))
        self.s.add(item)
        self.s.flush()
        if main["media_type"] == PDF:
            if defer_stamp:
                item.stamp_pending = True
            else:
                self._add_stamped_copy(user, item, main)
        item.part_count = len(item.parts)
        self.s.flush()
        return item

    def _parts(self, bundle: sources.SourceBundle) -> list[dict]:
        out = []
        for sp in bundle.parts:
            v = self.s.scalar(select(DocumentVersion).where(DocumentVersion.document_id == sp.document.id,
                                                            DocumentVersion.number == sp.version))
            if v is None:
                raise Unprocessable(f"{sp.document.title}：版本 {sp.version} 不存在")
            row = {"document_id": sp.document.id, "version": v.number, "role": sp.role, "filename": v.filename,
                   "size": v.blob.size, "media_type": v.blob.media_type, "sha256": v.blob.sha256, "sm3": v.blob.sm3}
            if sp.role == "main":
                row["pages_hint"] = self._pages(v)
            out.append(row)
        return out

    def _read(self, sha256: str) -> bytes:
        """A blob's bytes; the last one is kept (page count and 归档章 copy read the same PDF)."""
        if self._last_read[0] == sha256:
            return self._last_read[1]
        chunks = self.store.open(sha256)
        try:
            data = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        if len(data) <= 64 * 1024 * 1024:
            self._last_read = (sha256, data)
        return data

    def _pages(self, v: DocumentVersion) -> int:
        from .checks import opens

        if v.blob.media_type.startswith("image/"):
            return 1
        if v.blob.media_type not in {PDF, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}:
            return 0
        self._opened = {}
        try:
            result = opens(v.blob.media_type, self._read(v.blob_sha256))
        except DomainError:
            return 0
        self._opened = {v.blob_sha256: result}
        return result[2]

    def _add_stamped_copy(self, user: User, item: ArchiveItem, main: dict) -> None:
        try:
            data = stamped_copy(self._read(main["sha256"]), StampFields(
                item.fonds, item.year, item.retention, item.item_number, item.pages, item.unit))
        except DomainError:
            raise
        except Exception:
            return
        stored, media_type = self.docs.store_bytes(io.BytesIO(data))
        base = main["filename"].rsplit(".", 1)[0]
        doc = self.docs.create_from_stored(user, stored, media_type, f"{base}-归档章.pdf",
                                           f"{item.title}（归档章副本）", kind="archive_copy")
        v = doc.versions[-1]
        self.s.add(ItemPart(item_id=item.id, document_id=doc.id, version=1, role="stamped",
                            position=len(item.parts), filename=v.filename, size=stored.size,
                            media_type=media_type, sha256=stored.sha256, sm3=stored.sm3))
        self.s.flush()
        self.s.refresh(item, ["parts"])

    def import_text_progress(self, run) -> ExtractionProgress:
        """Text extraction and OCR of the files an uploaded import filed (识别中 n/m 页 on its page)."""
        return progress_of(self.s, select(ItemPart.document_id).join(ArchiveItem)
                           .where(ArchiveItem.import_run_id == run.id, ItemPart.role == "main"))

    def pending_stamps(self, limit: int = 50) -> list[ArchiveItem]:
        return list(self.s.scalars(select(ArchiveItem).where(ArchiveItem.stamp_pending.is_(True))
                                   .order_by(ArchiveItem.id).limit(limit)))

    def derive_stamp(self, item: ArchiveItem) -> ItemPart | None:
        """Make the pending 归档章 copy of an item filed with ``defer_stamp`` (the worker calls this).

        The copy becomes a part like at filing (part_count follows, so the checks see a complete 件), its
        document goes to the search outbox, and the retention lock is applied again to cover its blob."""
        if not item.stamp_pending:
            return None
        item.stamp_pending = False
        main = next((p for p in item.parts if p.role == "main"), None)
        if main is None or main.media_type != PDF or any(p.role == "stamped" for p in item.parts):
            self.s.flush()
            return None
        self._add_stamped_copy(item.filer, item, {"sha256": main.sha256, "filename": main.filename})
        stamped = next((p for p in item.parts if p.role == "stamped"), None)
        item.part_count = len(item.parts)
        if stamped is not None:
            doc = stamped.document
            doc.revision += 1
            outbox.enqueue(self.s, self.clock, doc.id, doc.revision)
            item.retention_applied_at = None  # the worker locks the new blob too
        self.s.flush()
        return stamped

    def file_many(self, user: User, refs: list[dict], retention: str, unit: str | None = None):
        """Batch filing: each ref files on its own (a failing one is reported, the others are filed)."""
        filed, failed = [], []
        for ref in refs:
            try:
                filed.append(self.file(user, self.bundle(user, **ref), retention, unit))
            except DomainError as exc:
                failed.append({"ref": ref, "code": exc.code, "message": exc.message})
        return filed, failed

    @staticmethod
    def audit_fields(item: ArchiveItem) -> dict:
        return {"archival_code": item.archival_code, "title": item.title, "retention": item.retention,
                "doc_number": item.doc_number, "responsible": item.responsible,
                "doc_date": item.doc_date.isoformat() if item.doc_date else None, "doc_type": item.doc_type,
                "pages": item.pages, "parts": [[p.document_id, p.version, p.role, p.sha256] for p in item.parts]}

    EDITABLE: ClassVar[dict[str, str]] = {"title": "题名", "doc_number": "文件编号", "responsible": "责任者",
                                          "doc_date": "日期", "doc_type": "文种", "remarks": "备注"}

    def update_metadata(self, user: User, item: ArchiveItem, changes: dict) -> ArchiveItem:
        self._require_filer(user, item.department)
        before, after = {}, {}
        for key, value in changes.items():
            if key not in self.EDITABLE:
                raise Unprocessable(f"不能修改的著录项：{key}")
            old = getattr(item, key)
            if key == "doc_date" and isinstance(value, str):
                value = date.fromisoformat(value)
            if old != value:
                before[key], after[key] = old, value
                setattr(item, key, value)
        if after:
            self.s.flush()
            AuditLog(self.s, self.clock).record(user, "archive.metadata_changed", "archive_item", item.id,
                                                {"before": before, "after": after})
        return item

    # -- checks ----------------------------------------------------------------------------------
    def check(self, item: ArchiveItem, trigger: str = "demand", actor: User | None = None,
              record: bool = True, known: dict | None = None, opened: dict | None = None) -> Report:
        report = run_checks(self.s, self.store, item, self.verifier, known, opened)
        if record:
            self._store_report(item, report, trigger, actor)
        return report

    def check_many(self, items: builtins.list[ArchiveItem], trigger: str = "demand", actor: User | None = None,
                   batch: int = 200) -> builtins.list[Report]:
        """``check`` for many items (``archive-service check`` over a fonds, the worker's sample): what the
        checks look up in the database is fetched once per ``batch`` items, the reports and their audit
        events are written together."""
        from sqlalchemy import insert

        from .checks import load_parts, prefetch

        out: builtins.list[Report] = []
        for i in range(0, len(items), batch):
            part = items[i:i + batch]
            load_parts(self.s, part)  # every item's parts in one query (not one lazy load per item)
            facts = prefetch(self.s, part)
            reports = [run_checks(self.s, self.store, item, self.verifier, facts=facts) for item in part]
            now = self.clock.now()
            events = []
            rows = []
            for item, report in zip(part, reports, strict=True):
                rows.append({"item_id": item.id, "at": now, "trigger": trigger, "passed": report.passed,
                             "results": report.to_json(), "actor_id": getattr(actor, "id", None)})
                item.last_checked_at, item.last_check_passed = now, report.passed
                if trigger == "demand" or not report.passed:
                    events.append(("archive.check", "archive_item", item.id, {
                        "trigger": trigger, "passed": report.passed, "failed": [c.name for c in report.failures]}))
            self.s.execute(insert(CheckReport), rows)  # one batch, no ids returned row by row
            self.s.flush()
            if events:
                AuditLog(self.s, self.clock).record_many(actor, events)
            out.extend(reports)
        return out

    def _store_report(self, item: ArchiveItem, report: Report, trigger: str, actor: User | None) -> CheckReport:
        row = CheckReport(item_id=item.id, at=self.clock.now(), trigger=trigger, passed=report.passed,
                          results=report.to_json(), actor_id=getattr(actor, "id", None))
        self.s.add(row)
        item.last_checked_at, item.last_check_passed = row.at, report.passed
        self.s.flush()
        if trigger == "demand" or not report.passed:
            AuditLog(self.s, self.clock).record(actor, "archive.check", "archive_item", item.id,
                                                {"trigger": trigger, "passed": report.passed,
                                                 "failed": [c.name for c in report.failures]})
        return row

    def sample_for_checks(self, limit: int) -> list[ArchiveItem]:
        """Items oldest-checked first (never-checked before all)."""
        return list(self.s.scalars(select(ArchiveItem).order_by(
            ArchiveItem.last_checked_at.is_not(None), ArchiveItem.last_checked_at, ArchiveItem.id).limit(limit)))

    def reports(self, item: ArchiveItem) -> list[CheckReport]:
        return list(self.s.scalars(select(CheckReport).where(CheckReport.item_id == item.id)
                                   .order_by(CheckReport.id.desc())))

    # -- retention (WORM) --------------------------------------------------------------------------
    def apply_retention(self, item: ArchiveItem) -> str:
        """Lock every blob of the item in the store until its retention ends (Y: legal hold).

        Called after the filing commit (and by the worker for items still pending): a lock is
        irreversible, so it is only set on blobs that committed rows hold."""
        until = item.retention_until
        notes = []
        for p in item.parts:
            try:
                if until is None:
                    self.store.set_legal_hold(p.sha256)
                else:
                    self.store.set_retention(p.sha256, datetime(until.year, until.month, until.day, 23, 59, 59,
                                                                tzinfo=UTC))
            except Conflict as exc:
                notes.append(exc.message)
        kind = type(self.store).__name__
        if notes:
            note = notes[0]
        elif kind.lower().startswith("local"):
            note = "本地存储只能设为只读，不能强制保留期限；需强制保留请使用启用对象锁定的 S3 存储"
        else:
            note = "对象锁定（合规模式）" + ("：法律保留（永久）" if until is None else f"至 {until.isoformat()}")
        item.retention_applied_at, item.retention_note = self.clock.now(), note[:200]
        self.s.flush()
        return note

    def pending_retention(self, limit: int = 100) -> list[ArchiveItem]:
        return list(self.s.scalars(select(ArchiveItem).where(ArchiveItem.retention_applied_at.is_(None))
                                   .order_by(ArchiveItem.id).limit(limit)))

    # -- listing -----------------------------------------------------------------------------------
    def list(self, user: User, fonds: str | None = None, year: int | None = None, retention: str | None = None,
             unit: str | None = None, after: str | None = None, size: int = 50) -> Page:
        size = min(max(1, size), 200)
        org = holding_organisation(user.department)
        if not permissions.can_view_archive(user, org):
            return Page([], None)
        q = select(ArchiveItem).where(ArchiveItem.department_id == org.id)
        for col, value in ((ArchiveItem.fonds, fonds), (ArchiveItem.year, year), (ArchiveItem.retention, retention),
                           (ArchiveItem.unit, unit)):
            if value not in (None, ""):
                q = q.where(col == value)
        if after:
            q = q.where(ArchiveItem.archival_code > after)
        rows = list(self.s.scalars(q.order_by(ArchiveItem.archival_code).limit(size + 1)))
        more = len(rows) > size
        rows = rows[:size]
        return Page(rows, rows[-1].archival_code if more and rows else None)

    def facets(self, user: User) -> dict:
        org = holding_organisation(user.department)
        if not permissions.can_view_archive(user, org):
            return {"fonds": [], "years": [], "units": []}
        base = select(ArchiveItem).where(ArchiveItem.department_id == org.id).subquery()
        years: builtins.list[int] = sorted(self.s.scalars(select(base.c.year).distinct()), reverse=True)
        units: builtins.list[str] = sorted(self.s.scalars(select(base.c.unit).distinct()))
        fonds: builtins.list[str] = sorted(self.s.scalars(select(base.c.fonds).distinct()))
        return {"fonds": fonds, "years": years, "units": units}

    def catalogue_rows(self, user: User, fonds: str, year: int, retention: str, unit: str | None = None):
        """Items of one 全宗/年度/保管期限 (optionally 机构), ordered by 机构 then 件号, streamed."""
        org = holding_organisation(user.department)
        if not permissions.can_view_archive(user, org):
            raise NotFound("档案不存在或无权查看")
        q = select(ArchiveItem).where(ArchiveItem.department_id == org.id, ArchiveItem.fonds == fonds,
                                      ArchiveItem.year == year, ArchiveItem.retention == retention)
        if unit:
            q = q.where(ArchiveItem.unit == unit)
        q = q.order_by(ArchiveItem.unit, ArchiveItem.item_number).execution_options(yield_per=1000)
        yield from self.s.scalars(q)

    def history(self, item: ArchiveItem) -> builtins.list[AuditEvent]:  # (the method ``list`` shadows the type)
        doc_ids = [str(p.document_id) for p in item.parts]
        from sqlalchemy import and_, or_

        return list(self.s.scalars(select(AuditEvent).where(or_(
            and_(AuditEvent.target_type == "document", AuditEvent.target_id.in_(doc_ids)),
            and_(AuditEvent.target_type == "archive_item", AuditEvent.target_id == str(item.id)))
        ).order_by(AuditEvent.id)))

    # -- 鉴定 disposal review ------------------------------------------------------------------------
    def disposal_due(self, user: User) -> builtins.list[ArchiveItem]:
        org = holding_organisation(user.department)
        if not permissions.can_view_archive(user, org):
            return []
        return list(self.s.scalars(select(ArchiveItem).where(
            ArchiveItem.department_id == org.id, ArchiveItem.retention_until.is_not(None),
            ArchiveItem.retention_until < self.clock.today()).order_by(ArchiveItem.archival_code)))

    def review_for(self, item: ArchiveItem) -> DisposalReview | None:
        return self.s.scalar(select(DisposalReview).where(DisposalReview.item_id == item.id)
                             .order_by(DisposalReview.id.desc()).limit(1))

    def review(self, user: User, review_id: int | None) -> DisposalReview:
        """A disposal review of an item the user may see (404 otherwise)."""
        review = self.s.get(DisposalReview, review_id) if review_id is not None else None
        if review is None:
            raise NotFound("鉴定记录不存在")
        self.get(user, review.item_id)
        return review

    def disposal_flow(self, review: DisposalReview):
        return Signoff(self.s, self.clock).flow_for("archive_disposal", review.id)

    def failed_checks(self, user: User, limit: int = 5) -> builtins.list[ArchiveItem]:
        """Items of the user's organisation whose last check (四性检测) failed."""
        org = holding_organisation(user.department)
        return list(self.s.scalars(select(ArchiveItem).where(ArchiveItem.department_id == org.id,
                                                             ArchiveItem.last_check_passed.is_(False)).limit(limit)))

    def reviews_to_sign(self, user: User, limit: int = 5) -> builtins.list[DisposalReview]:
        """Undecided disposal reviews of the user's organisation."""
        org = holding_organisation(user.department)
        return list(self.s.scalars(select(DisposalReview).join(ArchiveItem).where(
            ArchiveItem.department_id == org.id, DisposalReview.decided_at.is_(None)).limit(limit)))

    def propose_disposal(self, user: User, item: ArchiveItem, proposal: str, reason: str) -> DisposalReview:
        self._require_filer(user, item.department)
        if proposal not in {"keep", "destroy"}:
            raise Unprocessable("鉴定意见须为 keep（继续保存）或 destroy（销毁）")
        if item.retention_until is None or item.retention_until >= self.clock.today():
            raise Conflict("该档案尚未到保管期限，不能鉴定处置")
        open_review = self.review_for(item)
        if open_review is not None and open_review.decided_at is None:
            raise Conflict("该档案已有待审签的鉴定意见")
        review = DisposalReview(item_id=item.id, proposal=proposal, reason=(reason or "").strip(),
                                proposed_by=user.id, proposed_at=self.clock.now())
        self.s.add(review)
        self.s.flush()
        digest = hashlib.sha256(json.dumps([item.archival_code, proposal, review.reason],
                                           ensure_ascii=False).encode()).hexdigest()
        Signoff(self.s, self.clock).start("archive_disposal", review.id, item.department, digest, state="signing")
        AuditLog(self.s, self.clock).record(user, "archive.disposal_proposed", "archive_item", item.id,
                                            {"review": review.id, "proposal": proposal, "reason": review.reason})
        return review

    def sign_disposal(self, user: User, review: DisposalReview, opinion: str):
        flow = Signoff(self.s, self.clock).flow_for("archive_disposal", review.id)
        if flow is None or not permissions.can_view_archive(user, review.item.department):
            raise NotFound("档案不存在或无权查看")
        Signoff(self.s, self.clock).act(flow, user, "sign", flow.version_sha256, opinion)
        review.decided_at = self.clock.now()
        self.s.flush()
        return flow

    def release(self, user: User, review: DisposalReview) -> DisposalReview:
        """After a signed-off destroy decision the item's blobs may be released (never automatically)."""
        self._require_filer(user, review.item.department)
        if review.decided_at is None or review.proposal != "destroy":
            raise Conflict("只有经领导审签同意销毁的档案才能释放文件")
        review.released_at = self.clock.now()
        AuditLog(self.s, self.clock).record(user, "archive.released", "archive_item", review.item_id,
                                            {"review": review.id})
        self.s.flush()
        return review


def archive_for(rt, session: Session) -> ArchiveService:
    """The archive service over a runtime's collaborators (for web views, commands and jobs)."""
    return ArchiveService(session, rt.documents(session), rt.clock, sources.signature_verifier(rt.settings))
