"""The render spec, line breaking (避头尾), document templates and the processing sheet — no database."""
import io

import pytest
from pypdf import PdfReader

from correspondence.doc_templates import fill, format_for, letter_templates, load_letter_template
from correspondence.linebreak import NO_START, break_lines
from correspondence.processing_sheet import render_processing_sheet
from correspondence.spec import SpecError, heading_level, parse_spec
from tests.render_support import spec

BASE = {"issuer": "石城县行政审批局", "title": "关于某事的函", "to": ["县市场监督管理局"], "body": ["正文。"],
        "date": "2026-03-05"}


def _error(**changes):
    data = {**BASE, **changes}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(SpecError) as exc:
        parse_spec(data)
    return exc.value


def test_fixture_specs_are_valid():
    for name in ("letter", "minutes", "standard"):
        parse_spec(spec(name))


def test_bad_specs_name_the_field():
    assert _error(number="石审批函[2026]7号").field == "number"
    assert _error(number="石审批函〔2026〕07号").field == "number"
    assert _error(date="2026/03/05").field == "date"
    assert _error(kind="notice").field == "kind"
    assert _error(body=[]).field == "body"
    assert _error(to=[]).field == "to"
    assert _error(title="").field == "title"
    assert _error(urgency="很急").field == "urgency"
    assert _error(colour="red").field == "colour"
    assert _error(issuer=None).field == "issuer"
    assert _error(body=["字" * 100_001]).field == "body"


def test_classified_content_is_refused_in_chinese():
    err = _error(secrecy="机密")
    assert err.field == "secrecy" and "涉密" in err.message and "不得进入本系统" in err.message
    assert parse_spec({**BASE, "secrecy": "非密"}).secrecy == "非密"


def test_minutes_attendance_uses_the_chinese_labels():
    s = parse_spec({"kind": "minutes", "issuer": "石城县行政审批局", "body": ["会议议定："], "date": "2026-03-13",
                    "attendance": {"出席": ["县行政审批局 张华"], "列席": ["县司法局 刘洋"]}})
    assert s.attendance.rows() == [("出席", ["县行政审批局 张华"]), ("列席", ["县司法局 刘洋"])]


def test_heading_levels():
    assert [heading_level(p) for p in ("一、总则", "（二）范围", "3.时限", "(4)例外", "正文")] == [1, 2, 3, 4, 0]


def test_line_breaking_never_starts_a_line_with_closing_punctuation():
    text = "甲" * 28 + "，乙丙。" + "丁" * 27 + "”。戊"
    lines = break_lines(text, len, 28)
    assert all(len(line) <= 28 for line in lines)
    assert not any(line[0] in NO_START for line in lines)
    assert "".join(lines) == text
    wrapped = break_lines("编号为" + "字" * 6 + "2026-0001" + "字" * 30, len, 12)
    assert wrapped[0] == "编号为" + "字" * 6 and wrapped[1].startswith("2026-0001")  # a number stays whole


def test_line_breaking_keeps_opening_brackets_with_what_follows():
    lines = break_lines("甲" * 27 + "《办法》", len, 28)
    assert not lines[0].endswith("《")


def test_format_variants_and_letter_templates_are_data():
    assert format_for("letter")["masthead_top_mm"] == 30 and format_for("minutes")["addressee"] is False
    ids = {t["id"] for t in letter_templates()}
    assert {"consultation", "policy_change", "change_revocation", "handling_result", "reply"} <= ids
    names = {t["name"] for t in letter_templates()}
    assert {"协商函", "政策变动告知函", "审批变更撤销建议函", "处理结果告知函", "复函"} <= names
    filled = fill(load_letter_template("reply"), subject="城东农贸市场许可", reference="关于商请协助的函",
                  reference_number="石市监函〔2026〕3号")
    assert filled["title"] == "关于城东农贸市场许可的复函" and "石市监函〔2026〕3号" in filled["body"][0]
    parse_spec({**BASE, "title": filled["title"], "body": filled["body"], "note": filled["note"]})
    with pytest.raises(KeyError):
        load_letter_template("nope")


def test_processing_sheet_lists_every_step():
    steps = [{"action": "拟稿", "actor": "张三", "at": "2026-03-01 09:00", "opinion": ""},
             {"action": "核稿", "actor": "李四", "at": "2026-03-02 10:00", "opinion": "退回：第二段表述不清。"},
             {"action": "签发", "actor": "王五", "at": "2026-03-03 16:30", "opinion": "同意印发。"}]
    content = render_processing_sheet("关于商请协助的函", "石审批函〔2026〕7号", steps)
    reader = PdfReader(io.BytesIO(content))
    text = "".join(p.extract_text() for p in reader.pages)
    for s in steps:
        for key in ("action", "actor", "opinion"):
            assert s[key] in text
    assert "公文处理单" in text and "石审批函〔2026〕7号" in text
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            assert "/FontFile2" in ref.get_object()["/FontDescriptor"].get_object()


def test_fonts_are_configurable_by_path():
    from correspondence.fonts import DEFAULT_FILES, FontConfig
    from correspondence.render_pdf import render_pdf
    from tests.render_support import pdf_pages

    config = FontConfig.from_env({"ARCHIVE_FONT_TITLE": "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc#0"})
    assert config.files["fangsong"] == DEFAULT_FILES["fangsong"] and config.fake_bold("title") == 0
    _pdf, pages = pdf_pages(render_pdf(spec("letter"), fonts=config))
    title_fonts = {c["fontname"] for c in pages[0].chars if 21.5 < c["size"] < 22.5}
    assert title_fonts and all("WenQuanYi" in f for f in title_fonts)
    missing = FontConfig.from_env({"ARCHIVE_FONT_FANGSONG": "/nonexistent/fangsong.ttf"})
    with pytest.raises(FileNotFoundError, match="ARCHIVE_FONT_FANGSONG"):
        render_pdf(spec("letter"), fonts=missing)
