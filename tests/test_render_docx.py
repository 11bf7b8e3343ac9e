"""The DOCX renderer: A4, GB/T 9704 margins, East-Asian fonts; LibreOffice opens it and converts it to
a PDF with the same page count and the same text as our own PDF."""
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pdfplumber
import pytest
from docx.shared import Mm

from correspondence.linebreak import NO_START
from correspondence.render_docx import render_docx
from correspondence.render_pdf import render_pdf
from tests.render_support import spec

ROOT = Path(__file__).resolve().parent.parent
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
NAMES = ("letter", "minutes", "standard")


def test_docx_page_setup_and_east_asian_fonts():
    d = docx.Document(io.BytesIO(render_docx(spec("letter"))))
    sec = d.sections[0]
    assert abs(sec.page_width - Mm(210)) < Mm(0.1) and abs(sec.page_height - Mm(297)) < Mm(0.1)
    margins = [sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin]
    assert all(abs(m - Mm(v)) < Mm(0.1) for m, v in zip(margins, (37, 35, 28, 26), strict=True))
    grid = sec._sectPr.find(f"{W}docGrid")
    assert grid.get(f"{W}linePitch") == "579"  # 22 lines in 225 mm
    normal = d.styles["Normal"].element.rPr.rFonts
    assert normal.get(f"{W}eastAsia") == "仿宋_GB2312"
    fonts = {r.get(f"{W}eastAsia") for r in d.element.body.iter(f"{W}rFonts")}
    assert {"仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312"} <= fonts
    text = "\n".join(p.text for p in d.paragraphs)
    assert "县市场监督管理局：" in text and "附件：1.城东农贸市场食品经营许可申请情况汇总表" in text
    assert d.core_properties.title.startswith("关于商请协助")
    # page numbers: odd pages right, even pages left, none on a letter's first page
    assert sec.different_first_page_header_footer and d.settings.odd_and_even_pages_header_footer
    assert sec.footer.paragraphs[0].alignment == 2 and sec.even_page_footer.paragraphs[0].alignment == 0
    assert "PAGE" in sec.footer._element.xml and not sec.first_page_footer.paragraphs[0].text
    minutes = docx.Document(io.BytesIO(render_docx(spec("minutes")))).sections[0]
    assert not minutes.different_first_page_header_footer


def test_docx_core_properties_normal_grid_and_date_anchored_right():
    from datetime import UTC, datetime

    d = docx.Document(io.BytesIO(render_docx(spec("letter"), created=datetime(2026, 3, 5, 2, 30))))
    core = d.core_properties
    assert core.author == core.last_modified_by == "石城县行政审批局"
    issued = datetime(2026, 3, 5, 2, 30, tzinfo=UTC)
    assert core.created == core.modified == issued and core.keywords == spec("letter")["number"]
    # the Normal style carries the 28-character spacing: newly typed text stays on the grid
    spacing = d.styles["Normal"].element.rPr.find(f"{W}spacing")
    assert spacing is not None and spacing.get(f"{W}val") == "-5"
    date = next(p for p in d.paragraphs if p.text == "2026年3月5日")
    assert date.alignment == 2                       # right-anchored: it cannot wrap
    preview = docx.Document(io.BytesIO(render_docx(spec("letter")))).core_properties
    assert preview.created == datetime(2026, 3, 4, 16, tzinfo=UTC)   # a preview: its 成文日期, China time


def _text(pdf_bytes: bytes):
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        pages = [re.sub(r"\s", "", p.extract_text()) for p in pdf.pages]
    # page numbers (— N —) compared by count; text compared across pages, as line wraps may differ
    numbers = [re.findall(r"—(\d+)—$", t) for t in pages]
    return len(pages), "".join(re.sub(r"—\d+—$", "", t) for t in pages), numbers


def _colophon(pdf) -> list[float]:
    """Tops (mm) of the last page's 抄送/分送 and 印发 lines and of its full-width rules (the 版记's separators)."""
    with pdfplumber.open(pdf) as doc:
        page = doc.pages[-1]
        printed = [w["top"] for w in page.extract_words() if w["text"].endswith("印发")
                   or w["text"].startswith(("抄送", "分送"))]
        rules = sorted({round(r["top"], 1) for r in page.lines + page.rects + page.curves if r["width"] > 300})
    return [round(v * 25.4 / 72, 1) for v in (*printed, *rules)]


def test_the_docx_colophon_is_a_frame_at_the_page_foot_not_pushed_by_blank_lines():
    from correspondence.compose import compose
    from correspondence.spec import parse_spec

    for name, rows in (("letter", 1), ("minutes", 2), ("standard", 2)):
        body = docx.Document(io.BytesIO(render_docx(spec(name)))).element.body
        paras = body.findall(f"{W}p")
        framed = [i for i, p in enumerate(paras) if p.find(f"{W}pPr/{W}framePr") is not None]
        assert len(framed) == rows, name  # 抄送/分送 (and 印发机关), in one frame
        frame = paras[framed[0]].find(f"{W}pPr/{W}framePr")
        assert frame.get(f"{W}vAnchor") == "page" and int(frame.get(f"{W}y")) > 12000  # low on the page
        texts = ["".join(t.text or "" for t in p.iter(f"{W}t")) for p in paras[:framed[0]]]
        trailing_blank = len(texts) - len("".join("x" if t else " " for t in texts).rstrip())
        plan = compose(parse_spec(spec(name)))
        fills = sum(p.fill for p in plan.paras)
        assert fills >= 1 and trailing_blank < fills, name  # the PDF's filler lines are not in the DOCX


def _lacks_only_hanging_punctuation(ours: str, theirs: str) -> bool:
    """LibreOffice hangs a line-start punctuation mark into the margin (and its PDF export drops it)
    where we move the last character down instead: allow exactly those differences."""
    it = iter(theirs)
    pending = next(it, None)
    for ch in ours:
        if ch == pending:
            pending = next(it, None)
        elif ch not in NO_START:
            return False
    return pending is None


def fontconfig_file(tmp_path) -> Path:
    """The system's fonts plus the substitutions the project ships (fontconfig/archive-fonts.conf, which
    the Makefile also installs into /etc/fonts/conf.d): LibreOffice sees what a deployment sees."""
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
                    f'<include>{ROOT / "fontconfig" / "archive-fonts.conf"}</include></fontconfig>',
                    encoding="utf-8")
    return conf


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (libreoffice-writer-nogui) not installed")
def test_libreoffice_converts_the_docx_to_the_same_pages_and_text(tmp_path):
    for name in NAMES:
        (tmp_path / f"{name}.docx").write_bytes(render_docx(spec(name)))
    env = dict(os.environ, FONTCONFIG_FILE=str(fontconfig_file(tmp_path)), HOME=str(tmp_path))
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path / "out"),
                    *[str(tmp_path / f"{n}.docx") for n in NAMES]],
                   check=True, env=env, capture_output=True, timeout=180)
    for name in NAMES:
        ours_pages, ours, our_numbers = _text(render_pdf(spec(name)))
        lo_pages, theirs, lo_numbers = _text((tmp_path / "out" / f"{name}.pdf").read_bytes())
        assert lo_pages == ours_pages, name
        assert lo_numbers == our_numbers, name
        assert ours == theirs or _lacks_only_hanging_punctuation(ours, theirs), name
        with pdfplumber.open(tmp_path / "out" / f"{name}.pdf") as lo:
            lines = [line for page in lo.pages for line in page.extract_text().split("\n")]
            if "印发" in ours[-40:]:   # the 版记 is on the last page (no trailing blank page after it)
                assert any("印发" in w["text"] for w in lo.pages[-1].extract_words()), name
        # the 版记 at the foot of the last page, where our PDF puts it (a 函: its 抄送, without rules)
        assert _colophon(tmp_path / "out" / f"{name}.pdf") == pytest.approx(
            _colophon(io.BytesIO(render_pdf(spec(name)))), abs=1.0), name
        y, m, d = (int(x) for x in spec(name)["date"].split("-"))
        date = f"{y}年{m}月{d}日"
        assert any(date in re.sub(r"\s", "", line) for line in lines), (name, date)   # the date never wraps


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (libreoffice-writer-nogui) not installed")
def test_a_joint_letters_signature_rows_convert_where_our_pdf_puts_them(tmp_path):
    joint = {**spec("letter"), "sealed": True, "co_issuers": ["石城县市场监督管理局", "石城县卫生健康委员会"]}
    (tmp_path / "joint.docx").write_bytes(render_docx(joint))
    env = dict(os.environ, FONTCONFIG_FILE=str(fontconfig_file(tmp_path)), HOME=str(tmp_path))
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path / "out"), str(tmp_path / "joint.docx")],
                   check=True, env=env, capture_output=True, timeout=180)

    def names(pdf):
        with pdfplumber.open(pdf) as doc:
            words = doc.pages[-1].extract_words()
            return len(doc.pages), [(round(w["x0"] * 25.4 / 72), round(w["top"] * 25.4 / 72)) for w in words
                                    if w["text"].startswith("石城县")]

    ours, theirs = names(io.BytesIO(render_pdf(joint))), names(tmp_path / "out" / "joint.pdf")
    assert ours[0] == theirs[0] and len(ours[1]) == len(theirs[1]) == 3
    for (x1, y1), (x2, y2) in zip(ours[1], theirs[1], strict=True):
        assert abs(x1 - x2) <= 1 and abs(y1 - y2) <= 1  # two to a row, in order, within a millimetre
