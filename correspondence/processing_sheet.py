"""公文处理单: the processing sheet filed with a letter — every step, person, time and opinion."""
from __future__ import annotations

import io
from datetime import datetime
from functools import partial
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .fonts import FontConfig, faces
from .pdfa import PdfACanvas


def _when(value) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value or "")


def _text(value) -> str:
    """User text as Paragraph markup: ``<``, ``>`` and ``&`` are characters, never tags (a title
    ``<img src="/etc/…"/>`` must print as written, ``A<B`` must not break the sheet)."""
    return escape(str(value or ""))


def render_processing_sheet(title: str, number: str | None, steps: list[dict],
                            fonts: FontConfig | None = None, created: datetime | None = None,
                            heading: str = "公文处理单", fields: list[tuple[str, str]] | None = None) -> bytes:
    """PDF of the processing sheet; ``steps`` are dicts {action, actor, at, opinion} in order.

    ``heading`` 发文稿纸 / 收文处理单; ``fields`` (label, value) rows above the steps: 主送, 抄送, 密级, 紧急程度,
    份数, 公开属性, 附件 …"""
    f = faces(fonts)
    body, head = f["fangsong"].name, f["heiti"].name
    cell = ParagraphStyle("cell", fontName=body, bulletFontName=body, fontSize=11, leading=15, wordWrap="CJK")
    th = ParagraphStyle("th", parent=cell, fontName=head)
    h1 = ParagraphStyle("h1", fontName=f["title"].name, bulletFontName=body, fontSize=22, leading=30, alignment=1)
    meta = ParagraphStyle("meta", fontName=body, bulletFontName=body, fontSize=14, leading=22, wordWrap="CJK")
    rows = [[Paragraph(t, th) for t in ("序号", "环节", "办理人", "时间", "意见")]]
    for i, s in enumerate(steps, 1):
        rows.append([Paragraph(str(i), cell), Paragraph(_text(s.get("action")), cell),
                     Paragraph(_text(s.get("actor")), cell), Paragraph(_text(_when(s.get("at"))), cell),
                     Paragraph(_text(s.get("opinion")), cell)])
    table = Table(rows, colWidths=[12 * mm, 22 * mm, 24 * mm, 36 * mm, 62 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), body, 11),  # cell default is Helvetica otherwise
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
    ]))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=28 * mm, rightMargin=26 * mm, topMargin=37 * mm,
                            bottomMargin=35 * mm, title=f"{heading} {title}", author="archive-service",
                            initialFontName=body, initialFontSize=11)
    story = [Paragraph(_text(heading), h1), Spacer(1, 6 * mm),
             Paragraph(f"标题：{_text(title)}", meta), Paragraph(f"文号：{_text(number or '（未编号）')}", meta),
             Spacer(1, 4 * mm)]
    if fields:
        grid = Table([[Paragraph(_text(k), th), Paragraph(_text(v), cell)] for k, v in fields],
                     colWidths=[28 * mm, 128 * mm])
        grid.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), body, 11),
                                  ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                                  ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        story += [grid, Spacer(1, 4 * mm)]
    story.append(table)
    # no unembedded Helvetica; saved as PDF/A-2b
    doc.build(story, canvasmaker=partial(PdfACanvas, initialFontName=body, created=created))
    return buf.getvalue()
