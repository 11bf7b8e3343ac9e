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
from ..errors import DomainError, Unprocessable
from ..models import Department, User
from ..zipcheck import zip_refusal
from .codes import code_problem, parse_code
from .models import RETENTIONS, ArchiveItem, ImportRun
from .service import ArchiveService, holding_organisation
from .sources import SourceBundle, SourcePart

KNOWN = ["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注", "文件名", "保管期限", "机构", "文种"]
REQUIRED = ["题名", "文件名"]
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


def row_key(sha256: str, clean: dict) -> str:
    return hashlib.sha256(f"{sha256}|{clean['archival_code'] or clean['title']}".encode()).hexdigest()


class Importer:
    def __init__(self, session: Session, archive: ArchiveService, user: User, department: Department):
        self.s, self.archive, self.user = session, archive, user
        self.org = holding_organisation(department)
        if holding_organisation(user.department).id != self.org.id:
            raise Unprocessable(f"导入人须属于{self.org.name}")

    def run(self, folder: Path, catalogue: Path, end_batch: Callable[[bool], None], dry_run: bool = False,
            batch: int = 50, progress: Callable[[int, int], None] | None = None, run: ImportRun | None = None,
            workers: int = 4) -> ImportResult:
        """Import every row. Each ``batch`` rows the caller's ``end_batch(keep)`` ends the unit of work
        (commit, or roll back for a dry run): the command or job owns the transaction, not this service."""
        folder = Path(folder)
        header, rows = read_catalogue(Path(catalogue))
        fonds = self.archive.fondses.for_department(self.org).code
        result = ImportResult(total=len(rows))
        for col in header:
            if col and col not in KNOWN:
                result.errors.append(RowError(1, col, f"未知列“{col}”（该列有值的行不导入）"))
        seen: dict = {}
        checked = [(row, *validate_row(row, header, folder, seen, fonds)) for row in rows]
        # Blob first: the files are streamed into the store a few rows ahead, in threads (the store is
        # content-addressed, so a killed import leaves at most orphans that gc collects).
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="archive-import") if not dry_run else None
        ahead: dict[int, Future] = {}
        lookahead = workers * 4

        def submit(k: int) -> None:
            if pool is not None and k < len(checked) and k not in ahead and not checked[k][1]:
                ahead[k] = pool.submit(self._store_file, checked[k][2]["path"])

        pending = 0
        try:
            for k in range(min(lookahead, len(checked))):
                submit(k)
            for n, (row, errors, clean) in enumerate(checked, 1):
                submit(n - 1 + lookahead)
                if not errors:
                    try:
                        stored = ahead.pop(n - 1).result() if pool is not None else None
                        outcome = self._import_row(clean, stored, dry_run)
                        if outcome == "skipped":
                            result.skipped += 1
                        else:
                            result.imported += 1
                    except DomainError as exc:
                        column = "档号" if "档号" in exc.message else ""
                        errors.append(RowError(row.number, column, exc.message))
                result.errors.extend(errors)
                pending += 1
                if pending >= batch or n == len(checked):
                    self._checkpoint(run, result, n, dry_run, end_batch)
                    pending = 0
                if progress:
                    progress(n, len(checked))
        finally:
            if pool is not None:
                for f in ahead.values():
                    f.cancel()
                pool.shutdown(wait=True)
        if not rows:
            self._checkpoint(run, result, 0, dry_run, end_batch)
        return result

    def _store_file(self, path: Path):
        with open(path, "rb") as fh:
            return self.archive.docs.store_bytes(fh)

    def _checkpoint(self, run, result, done, dry_run, end_batch) -> None:
        if run is not None:
            run.total, run.done, run.imported, run.skipped = result.total, done, result.imported, result.skipped
            run.failed = result.failed
            run.errors = json.dumps([e.__dict__ for e in result.errors], ensure_ascii=False)
        self.s.flush()
        end_batch(not dry_run)  # one batch is one unit of work: a killed import resumes after the last

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
            self.archive.file(self.user, bundle, clean["retention"], clean["unit"], title=clean["title"],
                              archival_code=clean["archival_code"], remarks=clean["remarks"], trigger="import",
                              action="archive.import", defer_stamp=True, new_source=True)
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
    cats = sorted(p for p in into.rglob("*") if p.suffix.lower() in (".xlsx", ".csv") and p.is_file())
    named = [p for p in cats if p.stem in ("目录", "catalogue", "归档文件目录")]
    if named:
        return named[0]
    if len(cats) == 1:
        return cats[0]
    raise Unprocessable("ZIP 中须有一个目录文件（目录.xlsx 或 目录.csv）")


def iter_errors(run: ImportRun) -> Iterator[RowError]:
    for d in json.loads(run.errors or "[]"):
        yield RowError(**d)
