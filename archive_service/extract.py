"""Text extraction for the search index: PDF text layer, DOCX, XLSX, TXT/Markdown, and OCR.

Scanned PDFs (no text layer) and images go through Tesseract with ``chi_sim`` (PDF pages rendered
by ``pdftoppm``). Tesseract puts spaces between Han characters; they are removed. Every outcome is
an ``Extraction`` with a status; nothing raises, so a failure is recorded, never dropped.
"""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

MAX_EXTRACT_BYTES = 200 * 1024 * 1024
MAX_OCR_PAGES = 50
OCR_DPI = 200
MIN_TEXT_PER_PAGE = 10  # fewer characters per page than this: treat the PDF as scanned

TEXT_TYPES = {"text/plain", "text/markdown", "text/x-markdown", "text/csv", "text/html", "application/json",
              "application/xml", "text/xml"}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMAGE_TYPES = {"image/png", "image/jpeg", "image/tiff", "image/bmp", "image/gif", "image/webp"}

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_HAN_SPACES = re.compile(f"(?<=[{_HAN}])[ \t]+(?=[{_HAN}])")


@dataclass
class Extraction:
    status: str  # ok | ocr | empty | unsupported | failed
    method: str
    text: str = ""
    error: str | None = None


def _kind(media_type: str, filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if media_type == "application/pdf" or ext == "pdf":
        return "pdf"
    if media_type == DOCX or ext == "docx":
        return "docx"
    if media_type == XLSX or ext == "xlsx":
        return "xlsx"
    if media_type in IMAGE_TYPES or ext in {"png", "jpg", "jpeg", "tif", "tiff", "bmp"}:
        return "image"
    if media_type.startswith("text/") or media_type in TEXT_TYPES or ext in {"txt", "md", "markdown", "csv"}:
        return "text"
    return ""


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (Chinese Windows files)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def clean_ocr(text: str) -> str:
    """Remove the spaces Tesseract puts between Han characters (and CJK punctuation)."""
    return _HAN_SPACES.sub("", text).strip()


def _docx_text(data: bytes) -> str:
    import docx

    d = docx.Document(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(p for p in parts if p)


def _xlsx_text(data: bytes) -> str:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    lines = []
    try:
        for ws in wb.worksheets:
            lines.append(ws.title)
            for row in ws.iter_rows(values_only=True):
                cells = [str(v) for v in row if v is not None]
                if cells:
                    lines.append("\t".join(cells))
    finally:
        wb.close()
    return "\n".join(lines)


def _tesseract(image: Path) -> str:
    if shutil.which("tesseract") is None:
        raise RuntimeError("未安装 Tesseract OCR（tesseract-ocr、tesseract-ocr-chi-sim）")
    text = ""
    for psm in ("3", "6"):  # automatic layout first; a uniform block when that finds no text (short scans)
        proc = subprocess.run(["tesseract", str(image), "stdout", "-l", "chi_sim", "--psm", psm],
                              capture_output=True, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError("OCR 失败：" + proc.stderr.decode("utf-8", "replace")[-300:])
        text = clean_ocr(proc.stdout.decode("utf-8", "replace"))
        if text:
            break
    return text


def _ocr_pdf(data: bytes) -> str:
    if shutil.which("pdftoppm") is None:
        raise RuntimeError("未安装 pdftoppm（poppler-utils），无法识别扫描件")
    with tempfile.TemporaryDirectory(prefix="ocr-") as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(data)
        proc = subprocess.run(["pdftoppm", "-r", str(OCR_DPI), "-gray", "-png", "-l", str(MAX_OCR_PAGES),
                               str(src), str(Path(tmp) / "p")], capture_output=True, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError("PDF 渲染失败：" + proc.stderr.decode("utf-8", "replace")[-300:])
        return "\n".join(_tesseract(p) for p in sorted(Path(tmp).glob("p*.png")))


def _pdf(data: bytes) -> Extraction:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    pages = [(page.extract_text() or "") for page in reader.pages]
    text = "\n".join(pages).strip()
    if len("".join(text.split())) >= MIN_TEXT_PER_PAGE * max(1, len(pages)):
        return Extraction("ok", "pdf", text)
    ocr = _ocr_pdf(data)
    return Extraction("ocr" if ocr else "empty", "ocr", ocr or text)


def _image(data: bytes) -> Extraction:
    with tempfile.TemporaryDirectory(prefix="ocr-") as tmp:
        path = Path(tmp) / "image"
        path.write_bytes(data)
        text = _tesseract(path)
    return Extraction("ocr" if text else "empty", "ocr", text)


def extract(data: bytes, media_type: str, filename: str) -> Extraction:
    """Extract the text of one file; never raises."""
    kind = _kind(media_type or "", filename or "")
    if not kind:
        return Extraction("unsupported", "none", error=f"格式不支持全文检索（{media_type}），仅标题可检索")
    if len(data) > MAX_EXTRACT_BYTES:
        return Extraction("unsupported", kind, error=f"文件过大（超过 {MAX_EXTRACT_BYTES // 1024 // 1024} MB），未提取全文")
    try:
        if kind == "text":
            result = Extraction("ok", "text", decode_text(data))
        elif kind == "docx":
            result = Extraction("ok", "docx", _docx_text(data))
        elif kind == "xlsx":
            result = Extraction("ok", "xlsx", _xlsx_text(data))
        elif kind == "pdf":
            result = _pdf(data)
        else:
            result = _image(data)
    except Exception as exc:  # a broken file must not stop indexing: record why
        message = getattr(exc, "args", [""])[0] if isinstance(exc, RuntimeError) else f"{type(exc).__name__}: {exc}"
        return Extraction("failed", kind, error=str(message)[:2000] or type(exc).__name__)
    if result.status == "ok" and not result.text.strip():
        result.status = "empty"
    return result
