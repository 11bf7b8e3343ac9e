"""The rendered PDF read back: GB/T 9704-2012 geometry (STANDARDS.md §1) within ±1 mm."""
import itertools
import re

import pytest
from pypdf import PdfReader

from correspondence.linebreak import NO_START
from correspondence.render_pdf import render_pdf
from correspondence.spec import NUMBER_RE
from tests.render_support import MM, lines, pdf_pages, spec, text_of

LINE_PITCH = 225 / 22


@pytest.fixture(scope="module")
def letter():
    return render_pdf(spec("letter"))


@pytest.fixture(scope="module")
def minutes():
    return render_pdf(spec("minutes"))


def _mm(v):
    return v / MM


def test_a4_pages(letter):
    _pdf, pages = pdf_pages(letter)
    assert len(pages) >= 2
    for p in pages:
        assert abs(_mm(p.width) - 210) < 0.5 and abs(_mm(p.height) - 297) < 0.5


def test_body_text_inside_the_text_block(letter, minutes):
    for content in (letter, minutes):
        _pdf, pages = pdf_pages(content)
        for page in pages:
            for ch in page.chars:
                if ch["size"] > 23 or not ch["text"].strip():
                    continue  # the masthead may sit above the 版心 (信函格式: 30 mm from the page top)
                if _mm(ch["top"]) > 262:
                    continue  # page numbers, 7 mm below the 版心
                assert _mm(ch["x0"]) >= 28 - 0.3 and _mm(ch["x1"]) <= 184 + 0.3, ch["text"]
                assert _mm(ch["top"]) >= 37 - 0.3 and _mm(ch["bottom"]) <= 262 + 0.3, ch["text"]


def test_full_page_has_22_lines_of_at_most_28_characters(letter):
    _pdf, pages = pdf_pages(letter)
    body = [ln for ln in lines(pages[1], 15.5, 16.5) if ln[0] < 262]
    assert len(body) == 22
    tops = [top for top, _ in body]
    steps = [b - a for a, b in itertools.pairwise(tops)]
    assert all(abs(s - LINE_PITCH) < 0.2 for s in steps)
    for page in pages:
        for _top, chs in lines(page, 15.5, 16.5):
            assert _units(chs) <= 28  # half-width digits count half
    assert any(_units(chs) == 28 for _t, chs in lines(pages[1], 15.5, 16.5))


def _units(chs):
    return sum(1 if c["width"] > 12 else 0.5 for c in chs)


def test_no_line_starts_with_closing_punctuation(letter, minutes):
    for content in (letter, minutes):
        _pdf, pages = pdf_pages(content)
        for page in pages:
            for top, chs in lines(page):
                if top < 262:  # page numbers "— N —" begin with a dash by design
                    assert chs[0]["text"] not in NO_START, text_of(chs)


def test_letter_masthead_and_double_rules(letter):
    _pdf, pages = pdf_pages(letter)
    first = pages[0]
    mast = [c for c in first.chars if c["size"] > 23]
    assert text_of(sorted(mast, key=lambda c: c["x0"])) == "石城县行政审批局"
    top = min(_mm(c["top"]) for c in mast)
    bottom = max(_mm(c["bottom"]) for c in mast)
    assert abs(top - 30) <= 1  # 信函格式: 30 mm from the top of the page
    red = sorted((r for r in first.rects if r["non_stroking_color"] in ((1, 0, 0), [1, 0, 0], (1.0, 0.0, 0.0))),
                 key=lambda r: r["top"])
    assert len(red) == 4
    assert abs(_mm(red[0]["top"]) - (bottom + 4)) <= 1  # double rule 4 mm below the masthead
    assert red[0]["height"] > red[1]["height"]  # thick above, thin below
    assert abs(_mm(red[-1]["bottom"]) - (297 - 20)) <= 1  # second double rule 20 mm above the page bottom
    assert red[-1]["height"] > red[-2]["height"]  # thin above, thick below
    for r in red:
        assert abs(_mm(r["width"]) - 170) < 0.5 and abs(_mm(r["x0"]) - 20) < 0.5


def test_letter_number_flush_right_and_matches_the_regex(letter):
    _pdf, pages = pdf_pages(letter)
    number_lines = [chs for _t, chs in lines(pages[0], 15.5, 16.5) if "〔" in text_of(chs)]
    chs = [c for c in number_lines[0] if _mm(c["x0"]) > 100]
    number = text_of(chs)
    assert NUMBER_RE.match(number) and number == "石审批函〔2026〕7号"
    assert abs(_mm(chs[-1]["x1"]) - 184) <= 1


def test_minutes_masthead_red_rule_and_attendance(minutes):
    _pdf, pages = pdf_pages(minutes)
    first = pages[0]
    mast = sorted((c for c in first.chars if c["size"] > 23), key=lambda c: c["x0"])
    assert text_of(mast) == "石城县审管协调联动联席会议纪要"
    top, bottom = min(_mm(c["top"]) for c in mast), max(_mm(c["bottom"]) for c in mast)
    assert abs(top - (37 + 35)) <= 1  # 35 mm below the top of the 版心
    number = next(chs for _t, chs in lines(first, 15.5, 16.5) if "〔" in text_of(chs))
    assert NUMBER_RE.match(text_of(number))
    # 发文字号 two blank lines below the masthead; then the issuer/date line; red rule 4 mm below it
    expected_number_top = bottom + 2 * LINE_PITCH + (LINE_PITCH - 16 / MM) / 2
    assert abs(_mm(number[0]["top"]) - expected_number_top) <= 1
    red = [r for r in first.rects if tuple(r["non_stroking_color"]) == (1, 0, 0)]
    assert len(red) == 1
    assert abs(_mm(red[0]["top"]) - (expected_number_top + LINE_PITCH + 16 / MM + 4)) <= 1
    assert abs(_mm(red[0]["width"]) - 156) < 0.5
    text = "\n".join(p.extract_text() for p in pages)
    assert "出席：" in text and "请假：" in text and "列席：" in text
    assert "主送" not in text and "县市场监督管理局：" not in text


def test_page_numbers_alternate_sides_and_none_on_a_letters_first_page(letter, minutes):
    _pdf, pages = pdf_pages(letter)
    for page in pages:
        nums = [chs for top, chs in lines(page, 13.5, 14.5) if 262 + 5 < top < 262 + 10]
        if page.page_number == 1:
            assert not nums
            continue
        assert len(nums) == 1
        text = text_of(nums[0])
        assert re.fullmatch(rf"—{page.page_number}—", text)
        assert abs(_mm(nums[0][0]["top"]) - 269) <= 1
        if page.page_number % 2:
            assert abs(_mm(nums[0][-1]["x1"]) - (184 - 14 / MM)) <= 1
        else:
            assert abs(_mm(nums[0][0]["x0"]) - (28 + 14 / MM)) <= 1
    _pdf, pages = pdf_pages(minutes)
    assert any(text_of(chs) == "—1—" for _t, chs in lines(pages[0], 13.5, 14.5))


def test_colophon_rules_and_rows(minutes):
    _pdf, pages = pdf_pages(minutes)
    last = pages[-1]
    black = sorted((r for r in last.rects if tuple(r["non_stroking_color"]) in ((0,), (0, 0, 0))),
                   key=lambda r: r["top"])
    assert len(black) == 3
    assert abs(_mm(black[-1]["bottom"]) - 262) <= 0.5  # the last rule lies on the 版心's bottom edge
    assert black[0]["height"] > black[1]["height"] < black[2]["height"]
    text = last.extract_text()
    assert "分送：县人民政府办公室。" in text and "2026年3月13日印发" in text


def test_every_font_is_an_embedded_subset(letter, minutes):
    for content in (letter, minutes):
        import io

        reader = PdfReader(io.BytesIO(content))
        seen = 0
        for page in reader.pages:
            fonts = page["/Resources"]["/Font"]
            for ref in fonts.values():
                font = ref.get_object()
                assert font["/Subtype"] == "/TrueType", font["/BaseFont"]
                assert re.match(r"^/[A-Z]{6}\+", font["/BaseFont"]), font["/BaseFont"]
                assert "/FontFile2" in font["/FontDescriptor"].get_object()
                seen += 1
        assert seen


def test_title_is_centred_and_broken_into_balanced_lines(letter):
    _pdf, pages = pdf_pages(letter)
    title = [chs for _t, chs in lines(pages[0], 21.5, 22.5)]
    assert len(title) == 2
    assert len(title[0]) >= len(title[1])
    for chs in title:
        centre = (_mm(chs[0]["x0"]) + _mm(chs[-1]["x1"])) / 2
        assert abs(centre - 106) <= 1


def test_punctuation_heavy_text_stays_in_the_block_and_never_starts_a_line_with_punctuation():
    import random

    rnd = random.Random(7)
    chars, marks = "审批监管协调联动工作办法规定事项单位部门", "，。、；：？！）》」”（《“0123456789ab "
    body = ["审" + "".join(rnd.choice(chars) if rnd.random() > 0.25 else rnd.choice(marks)
                           for _ in range(rnd.randint(20, 160))) for _ in range(30)]
    body.append("网址：https://zwfw.shicheng.gov.cn/" + "x" * 90)
    content = render_pdf({**spec("letter"), "body": body, "cc": ["县司法局"] * 25})
    _pdf, pages = pdf_pages(content)
    assert len(pages) >= 4
    for page in pages:
        for top, chs in lines(page):
            if top < 262:
                assert chs[0]["text"] not in NO_START, text_of(chs)
        for ch in page.chars:
            if ch["size"] < 23 and _mm(ch["top"]) < 262 and ch["text"].strip():
                assert _mm(ch["x0"]) >= 27.7 and _mm(ch["x1"]) <= 184.3, ch["text"]


def test_masthead_is_red_and_everything_else_black(letter, minutes):
    for content in (letter, minutes):
        _pdf, pages = pdf_pages(content)
        for page in pages:
            for ch in page.chars:
                colour = tuple(ch["non_stroking_color"])
                if ch["size"] > 23:
                    assert colour == (1, 0, 0), ch["text"]
                else:
                    assert colour in ((0,), (0, 0, 0)), ch["text"]


def test_standard_format_number_and_signer_share_a_line_under_the_masthead():
    _pdf, pages = pdf_pages(render_pdf(spec("standard")))
    first = pages[0]
    mast = sorted((c for c in first.chars if c["size"] > 23), key=lambda c: c["x0"])
    assert text_of(mast) == "石城县行政审批局文件"
    assert abs(_mm(mast[0]["top"]) - 72) <= 1
    bottom = max(_mm(c["bottom"]) for c in mast)
    line = next(chs for _t, chs in lines(first, 15.5, 16.5) if "〔" in text_of(chs))
    text = text_of(line)
    number, signer = text.split("签发人：")
    assert NUMBER_RE.match(number) and signer == "张华"
    assert abs(_mm(line[0]["x0"]) - (28 + 156 / 28)) <= 1  # number one character in from the left
    assert abs(_mm(line[-1]["x1"]) - (184 - 156 / 28)) <= 1  # signer one character in from the right
    assert abs(_mm(line[0]["top"]) - (bottom + 2 * LINE_PITCH + (LINE_PITCH - 16 / MM) / 2)) <= 1
    red = [r for r in first.rects if tuple(r["non_stroking_color"]) == (1, 0, 0)]
    assert len(red) == 1 and abs(_mm(red[0]["top"]) - (_mm(line[0]["bottom"]) + 4)) <= 1
    urgency = lines(first, 15.5, 16.5)[0]
    assert text_of(urgency[1]) == "特急" and abs(urgency[0] - 37) < 3  # top left of the 版心
