"""归档章: the archival copy of a PDF, with the stamp box drawn at the top centre of page 1.

A new rendition: the original bytes (a signed PDF included) are never touched; the copy is a new
PDF whose first page carries the stamp (DA/T 22-2015: 全宗号, 年度, 保管期限 / 件号, 页数, 机构; cells
15 × 7 mm, red). Sizes and fonts come from the shared GB/T 9704 rendering modules.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

from ..rendering.fonts import faces
from ..rendering.layout import MM, RED

CELL_W, CELL_H = 15.0, 7.0  # mm
TOP_GAP = 5.0  # mm from the page top
FONT_PT = 9.0


@dataclass(frozen=True)
class StampFields:
    fonds: str
    year: int
    retention: str
    item_number: int
    pages: int
    unit: str

    def rows(self) -> list[list[str]]:
        return [[self.fonds, str(self.year), self.retention],
                [f"{self.item_number:04d}", str(self.pages), self.unit]]


def _overlay(width_pt: float, height_pt: float, fields: StampFields) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width_pt, height_pt))
    face = faces(roles=("fangsong",))["fangsong"]
    cols, rows = 3, 2
    box_w, box_h = cols * CELL_W * MM, rows * CELL_H * MM
    x0 = (width_pt - box_w) / 2
    y_top = height_pt - TOP_GAP * MM
    c.setStrokeColorRGB(*RED)
    c.setFillColorRGB(*RED)
    c.setLineWidth(0.8)
    c.rect(x0, y_top - box_h, box_w, box_h)
    for i in range(1, cols):
        c.line(x0 + i * CELL_W * MM, y_top, x0 + i * CELL_W * MM, y_top - box_h)
    c.line(x0, y_top - CELL_H * MM, x0 + box_w, y_top - CELL_H * MM)
    c.setFont(face.name, FONT_PT)
    for r, row in enumerate(fields.rows()):
        base = y_top - (r + 1) * CELL_H * MM + (CELL_H * MM - FONT_PT * 0.8) / 2
        for i, text in enumerate(row):
            size = FONT_PT
            while face.width(text, size) > CELL_W * MM - 2 and size > 5:
                size -= 0.5
            c.setFont(face.name, size)
            c.drawCentredString(x0 + (i + 0.5) * CELL_W * MM, base, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def stamped_copy(original: bytes, fields: StampFields) -> bytes:
    """A new PDF: the original's pages, page 1 with the 归档章 on top. The original stays as it was."""
    reader = PdfReader(io.BytesIO(original))
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    first = writer.pages[0]
    box = first.mediabox
    overlay = PdfReader(io.BytesIO(_overlay(float(box.width), float(box.height), fields))).pages[0]
    first.merge_page(overlay)
    if "/AcroForm" in writer._root_object:  # the copy carries no (now invalid) signature fields
        del writer._root_object["/AcroForm"]
    for page in writer.pages:
        if "/Annots" in page:
            del page["/Annots"]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)
