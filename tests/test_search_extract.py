"""Text extraction for the index: DOCX, XLSX, TXT (GB18030), PDF text layer, OCR (no database)."""
import io
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from archive_service.extract import clean_ocr, extract

FONT = next((p for p in ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/truetype/arphic/uming.ttc")
             if Path(p).exists()), None)
needs_ocr = pytest.mark.skipif(shutil.which("tesseract") is None or FONT is None,
                               reason="needs tesseract-ocr-chi-sim and a CJK font")


def test_plain_text_utf8_and_gb18030():
    assert extract("行政审批".encode(), "text/plain", "a.txt").text == "行政审批"
    assert extract("行政审批档案".encode("gb18030"), "text/plain", "a.txt").text == "行政审批档案"
    assert extract(b"# \xe6\xa0\x87\xe9\xa2\x98", "text/plain", "a.md").text == "# 标题"


def test_docx_paragraphs_and_tables():
    import docx

    d = docx.Document()
    d.add_paragraph("关于审管联动的通知")
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "联络员", "陈静"
    buf = io.BytesIO()
    d.save(buf)
    docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    result = extract(buf.getvalue(), docx_type, "x.docx")
    assert result.status == "ok" and "审管联动" in result.text and "联络员\t陈静" in result.text


def test_xlsx_cells():
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["事项", "数量"])
    wb.active.append(["双随机抽查", 12])
    buf = io.BytesIO()
    wb.save(buf)
    result = extract(buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "x.xlsx")
    assert result.status == "ok" and "双随机抽查\t12" in result.text


def test_pdf_text_layer():
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("UMingSearchTest", "/usr/share/fonts/truetype/arphic/uming.ttc", subfontIndex=0))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("UMingSearchTest", 14)
    c.drawString(72, 760, "石城县行政审批局关于加强档案管理工作的通知")
    c.save()
    result = extract(buf.getvalue(), "application/pdf", "n.pdf")
    assert result.status == "ok" and result.method == "pdf"
    assert "档案管理" in result.text.replace(" ", "")


def test_broken_and_unsupported_files_are_recorded_not_raised():
    broken = extract(b"%PDF-1.7 not really", "application/pdf", "x.pdf")
    assert broken.status == "failed" and broken.error
    unsupported = extract(b"\x00\x01", "application/octet-stream", "x.bin")
    assert unsupported.status == "unsupported" and "仅标题" in unsupported.error


def test_ocr_spaces_between_han_characters_are_removed():
    assert clean_ocr("行 政 审 批 ， 档 案\nABC DEF") == "行政审批，档案\nABC DEF"


def _scan(text: str) -> Image.Image:
    img = Image.new("L", (1400, 220), 255)
    ImageDraw.Draw(img).text((40, 60), text, font=ImageFont.truetype(FONT, 72), fill=0)
    return img


@needs_ocr
def test_scanned_image_and_scanned_pdf_go_through_ocr():
    img = _scan("行政审批档案管理")
    png, pdf = io.BytesIO(), io.BytesIO()
    img.save(png, "PNG")
    img.convert("RGB").save(pdf, "PDF", resolution=150)
    result = extract(png.getvalue(), "image/png", "scan.png")
    assert result.status == "ocr" and "审批档案" in result.text
    scanned = extract(pdf.getvalue(), "application/pdf", "scan.pdf")
    assert scanned.status == "ocr" and "审批档案" in scanned.text
