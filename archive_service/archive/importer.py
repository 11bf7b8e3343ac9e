"""Bulk import of digitised records: a folder of files plus a catalogue (XLSX or CSV).

Catalogue columns: those of the 归档文件目录 (序号, 档号, 文号, 责任者, 题名, 日期, 密级, 页数, 备注) plus 文件名
(the file in the folder); optional 保管期限 and 机构 when no 档号 is given (then one is allocated). Each
row goes the document core's way (blob first, then rows), is checked (四性检测) and filed, in its own
savepoint; rows are committed in batches, so a killed import resumes where it stopped. A row's key is
the file's SHA-256 plus its 档号 (or 题名): re-running the same import creates nothing twice.
Bad rows are reported (row, column, reason) and not imported; the others are.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import csv_cell
from ..classification import NON_CLASSIFIED
from ..documents import clean_filename, clean_title
from ..errors import DomainError, Unprocessable
from ..models import Department, User
from ..zipcheck import zip_refusal
from .bulk import NewItem, file_new_items
from .codes import code_problem, parse_code
from .fonds import holding_organisation
from .models import RETENTIONS, ArchiveItem, ImportRun
from .service import ArchiveService
from .sources import SourceBundle, SourcePart

KNOWN = ["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注", "文件名", "保管期限", "机构", "文种"]
REQUIRED = ["题名", "文件名"]
KEEP_BYTES = 2 * 1024 * 1024  # files up to this size are read once and kept for the page count and checks
CHUNK_BYTES = 32 * 1024 * 1024  # a chunk ends early when its kept files reach this much (peak memory)
RETENTION_WORDS = {"永久": "Y", "定期30年": "D30", "定期10年": "D10", "30年": "D30", "10年": "D10"}


@dataclass
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class Row:
    number: int  # the row's line in the catalogue (header = 1)
    values: dict
    extra: list = field(default_factory=list)


@dataclass
class ImportResult:
    total: int = 0
    imported: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len({e.row for e in self.errors if e.row > 1})


def read_catalogue(path: Path) -> tuple[list[str], list[Row]]:
    """Header and rows of a .xlsx or .csv catalogue (UTF-8 with or without BOM, or GB18030)."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        rows = [[("" if v is None else v) for v in r] for r in wb.active.iter_rows(values_only=True)]
        wb.close()
    elif path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise Unprocessable("目录文件编码无法识别（请用 UTF-8 或 GB18030）")
        rows = list(csv.reader(io.StringIO(text)))
    else:
        raise Unprocessable("目录须为 .xlsx 或 .csv 文件")
    while rows and not any(str(v).strip() for v in rows[0]):
        rows.pop(0)
    if not rows:
        raise Unprocessable("目录为空")
    # a title line above the header (as our own export writes) is skipped
    if "题名" not in [str(v).strip() for v in rows[0]] and len(rows) > 1:
        rows.pop(0)
    header = [str(v).strip() for v in rows[0]]
    out = []
    for i, r in enumerate(rows[1:], start=2):
        if not any(str(v).strip() for v in r):
            continue
        values = {header[k]: r[k] for k in range(min(len(header), len(r))) if header[k]}
        out.append(Row(i, values, [v for v in r[len(header):] if str(v).strip()]))
    return header, out


def _date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    for fmt in ("%Y%m%d", "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"日期“{text}”应为 YYYYMMDD")


def _text(values: dict, key: str) -> str:
    v = values.get(key, "")
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def validate_row(row: Row, header: list[str], folder: Path, seen_codes: dict,
                 fonds: str) -> tuple[list[RowError], dict]:
    errors: list[RowError] = []
    v = row.values
    for col in header:
        if col and col not in KNOWN and _text(v, col):
            errors.append(RowError(row.number, col, f"未知列“{col}”"))
    if row.extra:
        errors.append(RowError(row.number, "", "该行的列数多于表头"))
    for col in REQUIRED:
        if not _text(v, col):
            errors.append(RowError(row.number, col, f"缺少{col}"))
    clean: dict = {"title": _text(v, "题名")[:300], "doc_number": _text(v, "文号")[:80],
                   "responsible": _text(v, "责任者")[:200], "remarks": _text(v, "备注")[:300],
                   "doc_type": _text(v, "文种")[:20] or "文件"}
    try:
        clean["doc_date"] = _date(v.get("日期", ""))
        if clean["doc_date"] is None:
            errors.append(RowError(row.number, "日期", "缺少日期"))
    except ValueError as exc:
        errors.append(RowError(row.number, "日期", str(exc)))
    secrecy = _text(v, "密级")
    if secrecy not in NON_CLASSIFIED:
        errors.append(RowError(row.number, "密级", "涉密内容不得进入本系统（密级只能为非密）"))
    code = _text(v, "档号")
    clean["archival_code"] = code or None
    if code:
        problem = code_problem(code)
        if problem:
            errors.append(RowError(row.number, "档号", problem))
        elif parse_code(code).fonds != fonds:
            errors.append(RowError(row.number, "档号", f"档号的全宗号应为 {fonds}"))
        elif code in seen_codes:
            errors.append(RowError(row.number, "档号", f"档号 {code} 与第 {seen_codes[code]} 行重复"))
        else:
            seen_codes[code] = row.number
    retention = _text(v, "保管期限").upper()
    retention = RETENTION_WORDS.get(retention, retention)
    if code and not code_problem(code):
        retention = parse_code(code).retention
    if not retention:
        errors.append(RowError(row.number, "保管期限", "没有档号时须填写保管期限（Y、D30 或 D10）"))
    elif retention not in RETENTIONS:
        errors.append(RowError(row.number, "保管期限", f"保管期限“{retention}”应为 Y、D30 或 D10"))
    clean["retention"] = retention
    clean["unit"] = _text(v, "机构").upper() or None
    name = _text(v, "文件名")
    if name:
        path = (folder / name)
        try:
            resolved = path.resolve()
            inside = resolved.is_relative_to(folder.resolve())
        except OSError:
            inside = False
        if not inside or path.is_symlink():
            errors.append(RowError(row.number, "文件名", f"文件“{name}”不在导入目录内"))
        elif not resolved.is_file():
            errors.append(RowError(row.number, "文件名", f"文件“{name}”不存在"))
        clean["path"] = resolved
    return errors, clean


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


def _row_error(row: Row, exc: DomainError) -> RowError:
    return RowError(row.number, "档号" if "档号" in exc.message else "", exc.message)


def row_key(sha256: str, clean: dict) -> str:
    return hashlib.sha256(f"{sha256}|{clean['archival_code'] or clean['title']}".encode()).hexdigest()


class Importer:
    def __init__(self, session: Session, archive: ArchiveService, user: User, department: Department):
        self.s, self.archive, self.user = session, archive, user
        self._run_id: int | None = None
        self.documents: list[int] = []  # the documents this run filed (their text extraction follows)
        self.org = holding_organisation(department)
        if holding_organisation(user.department).id != self.org.id:
            raise Unprocessable(f"导入人须属于{self.org.name}")

    def run(self, folder: Path, catalogue: Path, end_batch: Callable[[bool], None], dry_run: bool = False,
            batch: int = 50, progress: Callable[[int, int], None] | None = None, run: ImportRun | None = None,
            workers: int = 4) -> ImportResult:
        """Import every row, a chunk of ``batch`` rows (or ``CHUNK_BYTES`` of file content) at a time. After
        each chunk the caller's ``end_batch(keep)`` ends the unit of work (commit, or roll back for a dry
        run): the command or job owns the transaction, not this service; a killed import resumes after
        the last chunk committed."""
        folder = Path(folder)
        self._run_id = run.id if run is not None else None
        header, rows = read_catalogue(Path(catalogue))
        fonds = self.archive.fondses.for_department(self.org).code
        result = ImportResult(total=len(rows))
        for col in header:
            if col and col not in KNOWN:
                result.errors.append(RowError(1, col, f"未知列“{col}”（该列有值的行不导入）"))
        seen: dict = {}
        checked = [(row, *validate_row(row, header, folder, seen, fonds)) for row in rows]
        n = 0
        if run is not None and 0 < run.done <= len(rows) and run.total == len(rows) and not dry_run:
            # a run taken up again: the rows up to ``done`` committed with its progress; go on after them
            n, result.imported, result.skipped = run.done, run.imported, run.skipped
            result.errors = list(iter_errors(run))
        # Blob first: the files are streamed into the store a few rows ahead, in threads (the store is
        # content-addressed, so a killed import leaves at most orphans that gc collects).
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="archive-import") if not dry_run else None
        ahead: dict[int, Future] = {}
        lookahead = max(workers * 4, batch)

        def submit(k: int) -> None:
            if pool is not None and k < len(checked) and k not in ahead and not checked[k][1]:
                ahead[k] = pool.submit(self._store_file, checked[k][2]["path"])

        try:
            for k in range(n, min(n + lookahead, len(checked))):
                submit(k)
            while n < len(checked):
                chunk: list[tuple[Row, list[RowError], dict, tuple | None]] = []
                held = 0
                while n < len(checked) and len(chunk) < batch and held < CHUNK_BYTES:
                    row, errors, clean = checked[n]
                    submit(n + lookahead)
                    stored = None
                    if n in ahead:
                        try:
                            stored = ahead.pop(n).result()
                            held += len(stored[2] or b"")
                        except DomainError as exc:
                            errors.append(_row_error(row, exc))
                    chunk.append((row, errors, clean, stored))
                    n += 1
                self._import_chunk(chunk, result, dry_run)
                if progress:
                    for k in range(n - len(chunk) + 1, n + 1):
                        progress(k, len(checked))
                self._checkpoint(run, result, n, dry_run, end_batch)
        finally:
            if pool is not None:
                for f in ahead.values():
                    f.cancel()
                pool.shutdown(wait=True)
        if not rows:
            self._checkpoint(run, result, 0, dry_run, end_batch)
        return result

    def _store_file(self, path: Path) -> tuple:
        """(stored, media type, bytes or None): small files are kept for the page count and the checks."""
        if path.stat().st_size <= KEEP_BYTES:
            data = path.read_bytes()
            return (*self.archive.docs.store_bytes(io.BytesIO(data)), data)
        with open(path, "rb") as fh:
            return (*self.archive.docs.store_bytes(fh), None)

    def _checkpoint(self, run, result, done, dry_run, end_batch) -> None:
        if run is not None:
            run.total, run.done, run.imported, run.skipped = result.total, done, result.imported, result.skipped
            run.failed = result.failed
            run.errors = json.dumps([e.__dict__ for e in result.errors], ensure_ascii=False)
        self.s.flush()
        end_batch(not dry_run)  # one chunk is one unit of work: a killed import resumes after the last

    def _import_chunk(self, chunk: list, result: ImportResult, dry_run: bool) -> None:
        """File the chunk's good rows together; when that is refused (a row fails its checks), roll the
        chunk back and file its rows one by one, each in its own savepoint, so each failure is reported."""
        good = [(row, clean, stored) for row, errors, clean, stored in chunk if not errors]
        outcomes = None if dry_run or not good else self._file_together(good)
        if outcomes is None:
            outcomes = {}
            for row, clean, stored in good:
                try:
                    outcomes[row.number] = self._import_row(clean, stored, dry_run)
                except DomainError as exc:
                    outcomes[row.number] = _row_error(row, exc)
        for row, errors, _clean, _stored in chunk:
            outcome = outcomes.get(row.number)
            if outcome == "skipped":
                result.skipped += 1
            elif outcome == "imported":
                result.imported += 1
            elif isinstance(outcome, RowError):
                errors.append(outcome)
            result.errors.extend(errors)

    def _file_together(self, good: list) -> dict | None:
        """Outcome per row number ("imported", "skipped" or a RowError), or None: file one by one."""
        outcomes: dict[int, str | RowError] = {}
        keys = {row.number: row_key(stored[0].sha256, clean) for row, clean, stored in good}
        codes = [clean["archival_code"] for _, clean, _ in good if clean["archival_code"]]
        match = (ArchiveItem.source_type == "import") & ArchiveItem.source_id.in_(sorted(set(keys.values())))
        found = self.s.execute(select(ArchiveItem.source_type, ArchiveItem.source_id, ArchiveItem.archival_code)
                               .where(match | ArchiveItem.archival_code.in_(codes) if codes else match)).all()
        have = {sid for stype, sid, _ in found if stype == "import"}
        taken = {code for _, _, code in found}
        fonds = self.archive.fondses.for_department(self.org)
        todo, chunk_keys = [], set()
        for row, clean, stored in good:
            key, code = keys[row.number], clean["archival_code"]
            if key in have or key in chunk_keys:
                outcomes[row.number] = "skipped"
                continue
            if code and code in taken:
                outcomes[row.number] = RowError(row.number, "档号", f"档号 {code} 已被使用")
                continue
            try:
                unit = self.archive.unit_for(fonds, self.user.department_id,
                                             parse_code(code).unit if code else clean["unit"])
                filename = clean_filename(clean["path"].name)
                title = clean_title(clean["title"], filename.rsplit(".", 1)[0] if "." in filename else filename)
            except DomainError as exc:
                outcomes[row.number] = _row_error(row, exc)
                continue
            chunk_keys.add(key)
            todo.append((row, NewItem(
                key=key, stored=stored[0], media_type=stored[1], data=stored[2], filename=filename, title=title,
                item_title=clean["title"], doc_number=clean["doc_number"], responsible=clean["responsible"],
                doc_date=clean["doc_date"], doc_type=clean["doc_type"], remarks=clean["remarks"],
                retention=clean["retention"], unit=unit, archival_code=code)))
        if not todo:
            return outcomes
        self.archive.ensure_transaction()
        try:
            with self.s.begin_nested():
                filed = file_new_items(self.archive, self.user, self.org, [new for _, new in todo],
                                       import_run_id=self._run_id)
        except DomainError:
            return None
        self.documents.extend(p.document_id for item in filed for p in item.parts)
        for row, _ in todo:
            outcomes[row.number] = "imported"
        return outcomes

    def _import_row(self, clean: dict, stored, dry_run: bool) -> str:
        sha = stored[0].sha256 if stored is not None else _file_digest(clean["path"])
        key = row_key(sha, clean)
        code = clean["archival_code"]
        match = (ArchiveItem.source_type == "import") & (ArchiveItem.source_id == key)
        found = self.s.execute(select(ArchiveItem.source_id, ArchiveItem.archival_code).where(
            match | (ArchiveItem.archival_code == code) if code else match).limit(2)).all()
        if any(source_id == key for source_id, _ in found):
            return "skipped"
        if found:
            raise Unprocessable(f"档号 {code} 已被使用")
        if dry_run:
            return "imported"
        docs = self.archive.docs
        self.archive.ensure_transaction()
        with self.s.begin_nested():
            doc = docs.create_from_stored(self.user, stored[0], stored[1], clean["path"].name, clean["title"],
                                          kind="archive")
            bundle = SourceBundle(
                source_type="import", source_id=key, department_id=self.user.department_id, title=clean["title"],
                doc_number=clean["doc_number"], responsible=clean["responsible"] or self.org.name,
                doc_date=clean["doc_date"], doc_type=clean["doc_type"], kind_label="数字化档案",
                parts=[SourcePart(doc, 1, "main")])
            item = self.archive.file(self.user, bundle, clean["retention"], clean["unit"], title=clean["title"],
                                     archival_code=clean["archival_code"], remarks=clean["remarks"],
                                     trigger="import", action="archive.import", defer_stamp=True, new_source=True)
            item.import_run_id = self._run_id
        self.documents.append(doc.id)
        return "imported"


def error_report_csv(errors: list[RowError]) -> str:
    """行号, 列, 原因 — cells that a spreadsheet would run as a formula get a leading '."""
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf)
    w.writerow(["行号", "列", "原因"])
    for e in errors:
        w.writerow([e.row, csv_cell(e.column), csv_cell(e.reason)])
    return buf.getvalue()




# -- ZIP uploads -----------------------------------------------------------------------------------
def extract_zip(path: Path, into: Path) -> Path:
    """Extract a checked ZIP and return the catalogue found in it (目录.xlsx/.csv or the only one)."""
    refusal = zip_refusal(path)
    if refusal:
        raise Unprocessable(f"ZIP 被拒绝：{refusal}")
    into.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            target = (into / info.filename).resolve()
            if not target.is_relative_to(into.resolve()):
                raise Unprocessable(f"ZIP 被拒绝：路径越界 {info.filename}")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(info) as src, open(target, "wb") as dst:
                while chunk := src.read(1024 * 1024):
                    dst.write(chunk)
    return find_catalogue(into)


def find_catalogue(into: Path) -> Path:
    """The catalogue of an extracted upload: 目录.xlsx/.csv (or catalogue, 归档文件目录), else the only one."""
    cats = sorted(p for p in into.rglob("*") if p.suffix.lower() in (".xlsx", ".csv") and p.is_file()
                  and not p.stem.endswith("-errors"))
    named = [p for p in cats if p.stem in ("目录", "catalogue", "归档文件目录")]
    if named:
        return named[0]
    if len(cats) == 1:
        return cats[0]
    raise Unprocessable("ZIP 中须有一个目录文件（目录.xlsx 或 目录.csv）")


def iter_errors(run: ImportRun) -> Iterator[RowError]:
    for d in json.loads(run.errors or "[]"):
        yield RowError(**d)
