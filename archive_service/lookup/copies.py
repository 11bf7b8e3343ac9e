"""Reading and copies of a looked-up item: page images (pdftoppm) and watermarked PDF copies.

The original blob is only read. A copy is a new PDF made on the fly: every page carries a diagonal,
light-grey watermark naming the requester, the department, the request number and the time, drawn as
real text (extractable). Non-PDF parts are converted first: DOCX/XLSX/… with LibreOffice, images
wrapped onto A4 pages.
"""
from __future__ import annotations

import io
import math
import shutil
import subprocess
import tempfile
from pathlib import Path

from pypdf import PageObject, PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from ..archive.models import ArchiveItem, ItemPart
from ..errors import Unprocessable
from ..rendering.fonts import faces

GREY = (0.75, 0.75, 0.75)
PREFERRED = ("stamped", "main", "docx", "attachment", "draft", "sheet")


def reading_part(item: ArchiveItem) -> ItemPart:
    """The part a reader sees: the 归档章 copy when there is one, else the main file."""
    parts = sorted(item.parts, key=lambda p: (PREFERRED.index(p.role) if p.role in PREFERRED else 99, p.position))
    if not parts:
        raise Unprocessable("该档案没有可阅读的文件")
    return parts[0]


def read_blob(store, sha256: str) -> bytes:
    return b"".join(store.open(sha256))


def as_pdf(data: bytes, media_type: str, filename: str) -> bytes:
    """The part as PDF: PDFs as they are, images wrapped, office files through LibreOffice."""
    if media_type == "application/pdf" or data[:5] == b"%PDF-":
        return data
    if media_type.startswith("image/"):
        from reportlab.lib.utils import ImageReader

        img = ImageReader(io.BytesIO(data))
        w, h = img.getSize()
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=A4)
        scale = min((A4[0] - 40) / w, (A4[1] - 40) / h)
        c.drawImage(img, (A4[0] - w * scale) / 2, (A4[1] - h * scale) / 2, w * scale, h * scale)
        c.showPage()
        c.save()
        return buf.getvalue()
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise Unprocessable("服务器未安装 LibreOffice，无法转换该文件")
    with tempfile.TemporaryDirectory(prefix="lookup-") as tmp:
        src = Path(tmp) / ("in" + (Path(filename).suffix or ".bin"))
        src.write_bytes(data)
        subprocess.run([soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--convert-to", "pdf",
                        "--outdir", tmp, str(src)], check=False, capture_output=True, timeout=120)
        out = src.with_suffix(".pdf")
        if not out.exists():
            raise Unprocessable("文件无法转换为 PDF")
        return out.read_bytes()


def watermark_lines(requester: str, department: str, number: str, at: str) -> list[str]:
    return [f"{department} {requester}", f"调阅编号 {number}", f"{at} 复制件"]


def _overlay(width: float, height: float, lines: list[str]) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height))
    face = faces(roles=("heiti",))["heiti"]
    size = max(12.0, min(width, height) / 22)
    c.setFillColorRGB(*GREY)
    c.setFillAlpha(0.45)
    c.saveState()
    c.translate(width / 2, height / 2)
    c.rotate(math.degrees(math.atan2(height, width)))
    c.setFont(face.name, size)
    for i, line in enumerate(lines):
        c.drawCentredString(0, (len(lines) / 2 - i - 0.5) * size * 1.6, line)
    c.restoreState()
    c.showPage()
    c.save()
    return buf.getvalue()


def watermarked(pdf: bytes, lines: list[str]) -> bytes:
    """A new PDF: every page of ``pdf`` with the watermark stamped over it (one overlay per page size)."""
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    overlays: dict[tuple[float, float], PageObject] = {}
    for page in reader.pages:
        box = page.mediabox
        key = (round(float(box.width), 1), round(float(box.height), 1))
        if key not in overlays:
            overlays[key] = PdfReader(io.BytesIO(_overlay(key[0], key[1], lines))).pages[0]
        writer.add_page(page).merge_page(overlays[key])
    if "/AcroForm" in writer._root_object:
        del writer._root_object["/AcroForm"]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def page_png(pdf: bytes, page: int, dpi: int = 110) -> bytes:
    """One page (1-based) as PNG, rendered by pdftoppm (poppler)."""
    with tempfile.TemporaryDirectory(prefix="lookup-page-") as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                        str(src), str(Path(tmp) / "out")], check=True, capture_output=True, timeout=60)
        return (Path(tmp) / "out.png").read_bytes()
