"""A searchable PDF copy of a scan: the pages as they are, with an invisible text layer from the OCR.

Runs inside the extraction sandbox (it parses the original). ``build(data, kind, layout, font)``
takes the original bytes (an image-only PDF, or an image / multi-page TIFF), the per-page OCR layout
stored with the extraction (``OcrPage.to_json()``: lines with their pixel boxes, in reading order)
and a CJK TrueType font (``path`` or ``path.ttc#index``), and returns new PDF bytes:

- a PDF keeps every page's content untouched; an invisible text layer (text render mode 3) is
  merged onto each OCR'd page, each line placed and stretched onto its box;
- an image becomes one page per frame at its resolution (200 dpi when it names none), the image
  drawn full page and the text layer on it.

The original blob is never changed: the copy is a derived rendition for the archive feature.
"""
from __future__ import annotations

import io

from .ocr import OcrLine, OcrPage

_FONT_NAME = "ArchiveOcrText"


def _font(spec: str) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if _FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        path, _, index = spec.partition("#")
        pdfmetrics.registerFont(TTFont(_FONT_NAME, path, subfontIndex=int(index or 0)))
    return _FONT_NAME


def _text_layer(canvas, page: OcrPage, width_pt: float, height_pt: float, font: str) -> None:
    """Invisible lines on ``canvas`` (a page of ``width_pt`` × ``height_pt``) from pixel boxes."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    sx, sy = width_pt / page.width, height_pt / page.height
    for line in page.lines:
        x0, x1 = line.x0 * sx, line.x1 * sx
        top, bottom = height_pt - line.y0 * sy, height_pt - line.y1 * sy
        box_w, box_h = max(x1 - x0, 0.5), max(top - bottom, 0.5)
        text = canvas.beginText()
        text.setTextRenderMode(3)  # invisible: selectable and searchable, never drawn
        if line.vertical:  # one character under the other, right to left columns as read
            size = box_w
            for n, ch in enumerate(line.text):
                text.setFont(font, size)
                text.setTextOrigin(x0, top - (n + 1) * box_h / max(len(line.text), 1) + 0.12 * size)
                text.textOut(ch)
        else:
            size = box_h * 0.85
            natural = stringWidth(line.text, font, size) or 1.0
            text.setFont(font, size)
            text.setHorizScale(100.0 * box_w / natural)
            text.setTextOrigin(x0, bottom + 0.12 * box_h)
            text.textOut(line.text)
        canvas.drawText(text)


def _layer_pdf(pages: list[tuple[OcrPage | None, float, float]], font: str, images=None) -> bytes:
    from reportlab.pdfgen import canvas as rl_canvas

    out = io.BytesIO()
    c = rl_canvas.Canvas(out, pageCompression=1)
    for i, (page, w, h) in enumerate(pages):
        c.setPageSize((w, h))
        if images is not None:
            from reportlab.lib.utils import ImageReader

            c.drawImage(ImageReader(images[i]), 0, 0, width=w, height=h)
        if page is not None and page.lines:
            _text_layer(c, page, w, h, font)
        c.showPage()
    c.save()
    return out.getvalue()


def build(data: bytes, kind: str, layout: list[dict | None], font_spec: str) -> bytes:
    font = _font(font_spec)
    pages = [OcrPage.from_json(p) if p else None for p in layout]
    if kind == "pdf":
        from pypdf import PdfReader, PdfWriter

        reader = PdfReader(io.BytesIO(data))
        writer = PdfWriter(clone_from=reader)
        boxes = []
        for i, page in enumerate(writer.pages):
            if page.get("/Rotate", 0):
                page.transfer_rotation_to_content()
            box = page.mediabox
            boxes.append((pages[i] if i < len(pages) else None, float(box.width), float(box.height),
                          float(box.left), float(box.bottom)))
        layer = PdfReader(io.BytesIO(_layer_pdf([(p, w, h) for p, w, h, _x, _y in boxes], font)))
        for i, (p, _w, _h, x, y) in enumerate(boxes):
            if p is not None and p.lines:
                from pypdf import Transformation

                writer.pages[i].merge_transformed_page(layer.pages[i], Transformation().translate(x, y))
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    frames, specs = [], []
    for i in range(min(getattr(img, "n_frames", 1), len(pages))):
        img.seek(i)
        dpi = img.info.get("dpi", (200, 200))[0] or 200
        frame = img.convert("RGB") if img.mode not in ("RGB", "L") else img.copy()
        frames.append(frame)
        specs.append((pages[i], frame.width / dpi * 72, frame.height / dpi * 72))
    return _layer_pdf(specs, font, images=frames)


__all__ = ["OcrLine", "OcrPage", "build"]
