"""归档文件目录 (DA/T 22-2015): XLSX (openpyxl, write-only) and PDF (landscape A4, header on every page).

Columns 序号, 档号, 文号, 责任者, 题名, 日期 (YYYYMMDD), 密级, 页数, 备注; rows ordered by 件号. Text is
drawn on the canvas (no markup), and cells are written as strings (a leading ``=`` stays text).
"""
from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable
from typing import IO

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen import canvas

from ..rendering.fonts import faces
from ..rendering.layout import MM
from .models import RETENTIONS, ArchiveItem

COLUMNS = ["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注"]
WIDTHS_MM = [12, 50, 36, 32, 83, 20, 12, 11, 11]  # 267 mm on landscape A4 with 15 mm margins


def row_values(n: int, item: ArchiveItem) -> list:
    return [n, item.archival_code, item.doc_number or "", item.responsible or "", item.title or "",
            item.doc_date.strftime("%Y%m%d") if item.doc_date else "", item.secrecy or "", item.pages or 0,
            item.remarks or ""]


def heading(fonds: str, year: int, retention: str, unit: str | None) -> str:
    parts = [f"全宗号 {fonds}", f"年度 {year}", f"保管期限 {RETENTIONS.get(retention, retention)}"]
    if unit:
        parts.append(f"机构（问题） {unit}")
    return "归档文件目录（" + "，".join(parts) + "）"


def write_xlsx(items: Iterable[ArchiveItem], out: IO[bytes], title: str) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("归档文件目录")
    for i, w in enumerate(WIDTHS_MM):
        ws.column_dimensions[chr(ord("A") + i)].width = max(6, w / 2.2)

    def text_cell(value):
        cell = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # never a formula
        return cell

    ws.append([text_cell(title)])
    ws.append([text_cell(c) for c in COLUMNS])
    n = 0
    for n, item in enumerate(items, 1):
        ws.append([text_cell(v) for v in row_values(n, item)])
    wb.save(out)
    return n


def _wrap(face, text: str, size: float, width: float) -> list[str]:
    if face.width(text, size) <= width:  # most cells fit on one line
        return [text]
    lines, line, w = [], "", 0.0
    for ch in text:
        cw = face.width(ch, size)
        if line and w + cw > width:
            lines.append(line)
            line, w = "", 0.0
        line += ch
        w += cw
    lines.append(line)
    return lines


def write_pdf(items: Iterable[ArchiveItem], out: IO[bytes], title: str) -> int:
    face = head_face = faces(roles=("fangsong",))["fangsong"]  # one CJK font: the catalogue is a list
    page_w, page_h = landscape(A4)
    margin = 15 * MM
    size, lead, pad = 9.0, 11.0, 2.0
    widths = [w * MM for w in WIDTHS_MM]
    xs = [margin]
    for w in widths:
        xs.append(xs[-1] + w)
    c = canvas.Canvas(out, pagesize=(page_w, page_h), pageCompression=1)
    c.setTitle(title)
    state = {"y": 0.0, "page": 0}

    def new_page():
        if state["page"]:
            c.showPage()
        state["page"] += 1
        c.setFont(head_face.name, 14)
        c.drawCentredString(page_w / 2, page_h - margin, title)
        y = page_h - margin - 10 * MM
        h = lead + 2 * pad
        c.setLineWidth(0.6)
        c.rect(xs[0], y - h, xs[-1] - xs[0], h)
        c.setFont(head_face.name, size)
        for i, name in enumerate(COLUMNS):
            c.drawCentredString((xs[i] + xs[i + 1]) / 2, y - pad - size, name)
            if i:
                c.line(xs[i], y, xs[i], y - h)
        c.setFont(face.name, size)
        c.drawCentredString(page_w / 2, margin / 2, f"第 {state['page']} 页")
        state["y"] = y - h

    new_page()
    n = 0
    c.setLineWidth(0.4)
    for n, item in enumerate(items, 1):
        cells = [str(v) for v in row_values(n, item)]
        wrapped = [_wrap(face, v, size, widths[i] - 2 * pad) for i, v in enumerate(cells)]
        h = max(len(w) for w in wrapped) * lead + 2 * pad
        if state["y"] - h < margin:
            new_page()
            c.setLineWidth(0.4)
        y = state["y"]
        c.rect(xs[0], y - h, xs[-1] - xs[0], h)
        for i, lines in enumerate(wrapped):
            if i:
                c.line(xs[i], y, xs[i], y - h)
            for k, line in enumerate(lines):
                base = y - pad - size - k * lead
                if i in (0, 5, 6, 7):
                    c.drawCentredString((xs[i] + xs[i + 1]) / 2, base, line)
                else:
                    c.drawString(xs[i] + pad, base, line)
        state["y"] = y - h
    c.showPage()
    c.save()
    return n


def export(items: Iterable[ArchiveItem], fmt: str, title: str) -> tempfile.SpooledTemporaryFile:
    """Write the catalogue into a spooled file (rewound), for streaming."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - closed by chunks()
    (write_xlsx if fmt == "xlsx" else write_pdf)(items, spool, title)
    spool.seek(0)
    return spool


def chunks(spool, size: int = 256 * 1024):
    try:
        while True:
            data = spool.read(size)
            if not data:
                return
            yield data
    finally:
        spool.close()


__all__ = ["COLUMNS", "chunks", "export", "heading", "io", "write_pdf", "write_xlsx"]
