"""Text extraction for the search index: PDF text layer, DOCX, XLSX, TXT/Markdown, and OCR.

The parsers here handle untrusted files, so they run only inside the extraction sandbox
(``archive_service.sandbox``: a child process with memory, CPU-time and wall-clock limits); the one
exception is ``extract_plain_text``, a bounded decode that the corpus import uses for text it already
holds. Before anything is parsed the cheap checks of ``Limits`` run: decompressed size, entry count
and compression ratio of ZIP-based formats (DOCX/XLSX), pixel counts of images and of PDF pages at
the OCR resolution, the number of pages to OCR; the stored text is capped.

Scanned PDFs (no text layer) and images go through OCR (PDF pages rendered one at a time by
``pdftoppm``). Tesseract puts spaces between Han characters; they are removed. Every outcome is an
``Extraction`` with a status; nothing raises, so a failure is recorded, never dropped.
"""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

MIN_TEXT_PER_PAGE = 10  # fewer characters per page than this: treat the PDF as scanned
MiB = 1024 * 1024

TEXT_TYPES = {"text/plain", "text/markdown", "text/x-markdown", "text/csv", "text/html", "application/json",
              "application/xml", "text/xml"}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMAGE_TYPES = {"image/png", "image/jpeg", "image/tiff", "image/bmp", "image/gif", "image/webp"}

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_HAN_SPACES = re.compile(f"(?<=[{_HAN}])[ \t]+(?=[{_HAN}])")
# A line break inside a paragraph: after a character that does not end a sentence, before a
# non-space character, with a Han character (or CJK punctuation) on at least one side.
_SENTENCE_END = "。！？；：!?;:"
_WRAP_AFTER_HAN = re.compile(rf"(?<=[{_HAN}])(?<![{_SENTENCE_END}])[ \t]*\r?\n[ \t]*(?=[^\s])")
_WRAP_BEFORE_HAN = re.compile(rf"(?<=[^\s{_SENTENCE_END}])[ \t]*\r?\n[ \t]*(?=[{_HAN}])")
# A Latin word hyphenated at the end of a line ("regis-\ntration")
_HYPHENATED = re.compile(r"(?<=[A-Za-z]{2})-[ \t]*\r?\n[ \t]*(?=[a-z]{2})")

Progress = Callable[[int, int, str], None]  # (pages done, pages in all, the text of the page just read)


@dataclass(frozen=True)
class Limits:
    """What one extraction may use. Defaults are the settings' defaults (``Settings.extract_limits``)."""
    max_bytes: int = 200 * MiB          # larger files are not extracted at all
    max_chars: int = 2_000_000          # stored text is cut here
    max_unzipped: int = 100 * MiB       # DOCX/XLSX: sum of the declared uncompressed sizes
    max_zip_ratio: int = 100            # DOCX/XLSX: uncompressed / compressed of any entry over 1 MiB
    max_zip_entries: int = 10_000
    max_pixels: int = 100_000_000       # an image, or a PDF page rasterised at ``ocr_dpi``
    max_ocr_pages: int = 100            # pages of one PDF or TIFF that are OCR'd
    ocr_dpi: int = 200
    ocr_engine: str = "tesseract"       # rapidocr | tesseract | off (already resolved by ocr.choose_engine)
    memory_mb: int = 1024               # RLIMIT_AS of the sandbox child
    cpu_seconds: int = 60               # RLIMIT_CPU per file, or per OCR page
    wall_seconds: int = 120             # wall clock per file, or per OCR page

    def to_json(self) -> dict:
        return asdict(self)


class LimitExceeded(Exception):
    """A file is over one of the ``Limits``: recorded as 未提取 with the reason, never parsed further."""


@dataclass
class Extraction:
    status: str  # ok | ocr | empty | unsupported | failed | limited
    method: str
    text: str = ""
    error: str | None = None
    pages: list[str] = field(default_factory=list)  # per-page text where the format has pages (PDF, OCR)
    layout: list[dict | None] = field(default_factory=list)  # OCR: per page OcrPage.to_json() (None: not OCR'd)

    def to_json(self) -> dict:
        return {"status": self.status, "method": self.method, "text": self.text, "error": self.error,
                "pages": self.pages, "layout": self.layout}

    @classmethod
    def from_json(cls, data: dict) -> Extraction:
        """From the sandbox's answer: only known fields, only plain types (the child is not trusted)."""
        pages = data.get("pages") or []
        layout = data.get("layout") or []
        return cls(status=str(data.get("status") or "failed")[:20], method=str(data.get("method") or "")[:20],
                   text=str(data.get("text") or ""),
                   error=None if data.get("error") is None else str(data["error"])[:2000],
                   pages=[str(p) for p in pages] if isinstance(pages, list) else [],
                   layout=[p if isinstance(p, dict) else None for p in layout] if isinstance(layout, list) else [])

    @property
    def page_ends(self) -> list[int] | None:
        """Where each page's text ends in ``text`` (pages are joined by one line break)."""
        if not self.pages:
            return None
        ends, at = [], 0
        for i, page in enumerate(self.pages):
            at += len(page) + (1 if i else 0)
            ends.append(min(at, len(self.text)))
        return ends


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


def kind_of(media_type: str, filename: str) -> str:
    """``pdf`` ``docx`` ``xlsx`` ``image`` ``text``, or "" when the format is not extracted."""
    return _kind(media_type or "", filename or "")


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (Chinese Windows files)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def join_wrapped_lines(text: str) -> str:
    """Join the lines of a paragraph that a PDF wrapped: no break between two Han characters (so a
    phrase across the wrap is one phrase), a hyphenated Latin word made whole; a line that ends a
    sentence (。：；！？) and breaks between Latin words stay as they are."""
    if "\n" not in text:
        return text
    text = _HYPHENATED.sub("", text)
    text = _WRAP_AFTER_HAN.sub("", text)
    return _WRAP_BEFORE_HAN.sub("", text)


def clean_ocr(text: str) -> str:
    """Remove the spaces Tesseract puts between Han characters (and CJK punctuation)."""
    return _HAN_SPACES.sub("", text).strip()


def _mb(n: int) -> str:
    return f"{n / MiB:.0f} MB" if n >= MiB else f"{n / 1024:.0f} KB"


# -- checks before parsing -------------------------------------------------------------------------
def check_zip(data: bytes, limits: Limits) -> None:
    """Refuse a ZIP container (DOCX/XLSX) whose declared contents are too large or too compressed.

    The declared sizes bound what ``zipfile`` will ever inflate (it stops at the declared size), so
    checking them before the parser opens the file is enough.
    """
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile:
        raise ValueError("不是有效的 Office 文件（ZIP 结构损坏）") from None
    if len(infos) > limits.max_zip_entries:
        raise LimitExceeded(f"压缩包内文件过多（{len(infos)} 个，上限 {limits.max_zip_entries} 个）")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > MiB and info.file_size > limits.max_zip_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise LimitExceeded(f"压缩比异常（{info.filename} 由 {_mb(info.compress_size)} 解压为 "
                                f"{_mb(info.file_size)}，压缩比 {ratio:.0f}:1，上限 {limits.max_zip_ratio}:1）")
    if total > limits.max_unzipped:
        raise LimitExceeded(f"解压后大小 {_mb(total)} 超过上限 {_mb(limits.max_unzipped)}")


def check_pixels(width: int, height: int, limits: Limits, what: str = "图像") -> None:
    if width * height > limits.max_pixels:
        raise LimitExceeded(f"{what}过大（{width}×{height} 像素，上限 {limits.max_pixels / 1e6:.0f} 百万像素）")


class _Text:
    """Collects text up to ``max_chars``; ``full`` tells the parser to stop early."""

    def __init__(self, max_chars: int):
        self.max_chars = max_chars
        self.parts: list[str] = []
        self.size = 0

    @property
    def full(self) -> bool:
        return self.size >= self.max_chars

    def add(self, part: str) -> None:
        if part and not self.full:
            self.parts.append(part)
            self.size += len(part) + 1

    def text(self, sep: str = "\n") -> str:
        return sep.join(self.parts)


def cap(result: Extraction, limits: Limits) -> Extraction:
    """Cut the stored text at ``max_chars`` and say so."""
    if len(result.text) > limits.max_chars:
        result.text = result.text[:limits.max_chars]
        note = f"正文超过 {limits.max_chars} 字，仅保存前 {limits.max_chars} 字"
        result.error = f"{result.error}；{note}" if result.error else note
    if result.pages and sum(len(p) for p in result.pages) > limits.max_chars:
        kept, left = [], limits.max_chars
        for p in result.pages:
            if left <= 0:
                break
            kept.append(p[:left])
            left -= len(p)
        result.pages = kept
    return result


# -- parsers ---------------------------------------------------------------------------------------
def _docx_text(data: bytes, limits: Limits) -> str:
    import docx

    check_zip(data, limits)
    d = docx.Document(io.BytesIO(data))
    out = _Text(limits.max_chars)
    for p in d.paragraphs:
        out.add(p.text)
        if out.full:
            return out.text()
    for table in d.tables:
        for row in table.rows:
            out.add("\t".join(cell.text for cell in row.cells))
            if out.full:
                return out.text()
    return out.text()


def _xlsx_text(data: bytes, limits: Limits) -> str:
    import openpyxl

    check_zip(data, limits)
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    out = _Text(limits.max_chars)
    try:
        for ws in wb.worksheets:
            out.add(ws.title)
            for row in ws.iter_rows(values_only=True):
                cells = [str(v) for v in row if v is not None]
                if cells:
                    out.add("\t".join(cells))
                if out.full:
                    return out.text()
    finally:
        wb.close()
    return out.text()


_ENGINES: dict[str, object] = {}  # one per child: RapidOCR loads its models once


def ocr_engine(name: str):
    from .ocr import make_engine

    if name not in _ENGINES:
        _ENGINES[name] = make_engine(name)
    return _ENGINES[name]


OCR_MAX_SIDE = 4000  # an image is scaled down to this before OCR (RapidOCR works at 1600 anyway)


def _ocr(image, limits: Limits):
    """One page image → ``OcrPage`` with the configured engine."""
    from .ocr import read_page

    if max(image.size) > OCR_MAX_SIDE:
        image = image.copy()
        image.thumbnail((OCR_MAX_SIDE, OCR_MAX_SIDE))
    return read_page(ocr_engine(limits.ocr_engine), image)


def _page_box(page) -> tuple[float, float]:
    """A PDF page's media box in points, times /UserUnit (what pdftoppm rasterises)."""
    box = page.mediabox
    unit = float(page.get("/UserUnit", 1) or 1)
    return abs(float(box.width)) * unit, abs(float(box.height)) * unit


def _pdf(data: bytes, limits: Limits, progress: Progress | None) -> Extraction:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    pages, size = [], 0
    for page in reader.pages:
        text = join_wrapped_lines(page.extract_text() or "")
        pages.append(text)
        size += len(text)
        if size >= limits.max_chars:
            break
    text = "\n".join(pages).strip()
    if len("".join(text.split())) >= MIN_TEXT_PER_PAGE * max(1, len(pages)):
        return Extraction("ok", "pdf", text, pages=pages)
    return _ocr_pdf(data, reader, limits, progress, fallback_text=text)


def _ocr_off(kind: str, fallback_text: str = "") -> Extraction:
    note = "未启用 OCR（ARCHIVE_OCR_ENGINE=off），扫描件仅标题可检索"
    return Extraction("empty" if kind == "pdf" else "unsupported", "none", fallback_text, error=note)


def _ocr_pdf(data: bytes, reader, limits: Limits, progress: Progress | None, fallback_text: str = "") -> Extraction:
    from PIL import Image

    if limits.ocr_engine == "off":
        return _ocr_off("pdf", fallback_text)
    if shutil.which("pdftoppm") is None:
        raise RuntimeError("未安装 pdftoppm（poppler-utils），无法识别扫描件")
    n = len(reader.pages)
    todo = min(n, limits.max_ocr_pages)
    notes = []
    if n > todo:
        notes.append(f"共 {n} 页，仅识别前 {todo} 页")
    pages: list[str] = []
    layout: list[dict | None] = []
    skipped = []
    with tempfile.TemporaryDirectory(prefix="ocr-") as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(data)
        for i in range(todo):
            w_pt, h_pt = _page_box(reader.pages[i])
            w_px, h_px = round(w_pt / 72 * limits.ocr_dpi), round(h_pt / 72 * limits.ocr_dpi)
            if w_px * h_px > limits.max_pixels:
                skipped.append(f"第 {i + 1} 页幅面过大（{w_pt / 72 * 25.4:.0f}×{h_pt / 72 * 25.4:.0f} mm，"
                               f"{limits.ocr_dpi} dpi 下 {w_px}×{h_px} 像素，"
                               f"上限 {limits.max_pixels / 1e6:.0f} 百万像素）")
                pages.append("")
                layout.append(None)
                continue
            out = Path(tmp) / f"p{i + 1}"
            # -scale-to bounds the raster even where poppler and pypdf disagree about the page size
            proc = subprocess.run(["pdftoppm", "-r", str(limits.ocr_dpi), "-scale-to", str(max(w_px, h_px, 1)),
                                   "-gray", "-png", "-singlefile", "-f", str(i + 1), "-l", str(i + 1),
                                   str(src), str(out)], capture_output=True)
            if proc.returncode != 0:
                raise RuntimeError("PDF 渲染失败：" + proc.stderr.decode("utf-8", "replace")[-300:])
            png = out.with_suffix(".png")
            with Image.open(png) as img:
                check_pixels(img.width, img.height, limits, f"第 {i + 1} 页")
                page = _ocr(img, limits)
            png.unlink()
            pages.append(page.text)
            layout.append(page.to_json())
            if progress:
                progress(i + 1, todo, page.text)
    text = "\n".join(pages)
    if skipped and not text.strip():
        raise LimitExceeded("；".join(skipped))
    error = "；".join(notes + skipped) or None
    if text.strip():
        return Extraction("ocr", limits.ocr_engine, text, error=error, pages=pages, layout=layout)
    return Extraction("empty", limits.ocr_engine, fallback_text, error=error)


def _image(data: bytes, limits: Limits, progress: Progress | None) -> Extraction:
    from PIL import Image

    if limits.ocr_engine == "off":
        return _ocr_off("image")
    Image.MAX_IMAGE_PIXELS = None  # checked below, per frame, before anything is decoded
    try:
        img = Image.open(io.BytesIO(data))
    except Exception:
        raise ValueError("无法识别的图像格式") from None
    frames = getattr(img, "n_frames", 1)
    todo = min(frames, limits.max_ocr_pages)
    pages, layout = [], []
    for i in range(todo):
        img.seek(i)
        w, h = img.size
        if img.format == "JPEG" and w * h > limits.max_pixels:
            img.draft("L", (w // 8, h // 8))  # JPEG decodes at 1/2…1/8 scale: a huge photo stays bounded
            w, h = img.size
        check_pixels(w, h, limits, "图像" if frames == 1 else f"第 {i + 1} 帧图像")
        page = _ocr(img.convert("L"), limits)
        pages.append(page.text)
        layout.append(page.to_json())
        if progress:
            progress(i + 1, todo, page.text)
    text = "\n".join(pages)
    error = f"共 {frames} 帧，仅识别前 {todo} 帧" if frames > todo else None
    return Extraction("ocr" if text.strip() else "empty", limits.ocr_engine, text, error=error, pages=pages,
                      layout=layout)


def extract_plain_text(data: bytes, limits: Limits = Limits()) -> Extraction:
    """Decode a text file (bounded, linear): safe outside the sandbox."""
    result = Extraction("ok", "text", decode_text(data[:limits.max_chars * 4]))
    cap(result, limits)
    if not result.text.strip():
        result.status = "empty"
    return result


def extract(data: bytes, media_type: str, filename: str, limits: Limits = Limits(),
            progress: Progress | None = None) -> Extraction:
    """Extract the text of one file; never raises. Runs inside the sandbox (see the module doc)."""
    kind = kind_of(media_type, filename)
    if not kind:
        return Extraction("unsupported", "none", error=f"格式不支持全文检索（{media_type}），仅标题可检索")
    if len(data) > limits.max_bytes:
        return Extraction("limited", kind, error=f"文件过大（{_mb(len(data))}，上限 {_mb(limits.max_bytes)}）")
    try:
        if kind == "text":
            return extract_plain_text(data, limits)
        elif kind == "docx":
            result = Extraction("ok", "docx", _docx_text(data, limits))
        elif kind == "xlsx":
            result = Extraction("ok", "xlsx", _xlsx_text(data, limits))
        elif kind == "pdf":
            result = _pdf(data, limits, progress)
        else:
            result = _image(data, limits, progress)
    except LimitExceeded as exc:
        return Extraction("limited", kind, error=str(exc)[:2000])
    except MemoryError:  # the sandbox answers it and replaces its child
        raise
    except Exception as exc:  # a broken file must not stop indexing: record why
        plain = isinstance(exc, (RuntimeError, ValueError)) and exc.args
        message = exc.args[0] if plain else f"{type(exc).__name__}: {exc}"
        return Extraction("failed", kind, error=str(message)[:2000] or type(exc).__name__)
    cap(result, limits)
    if result.status == "ok" and not result.text.strip():
        result.status = "empty"
    return result
