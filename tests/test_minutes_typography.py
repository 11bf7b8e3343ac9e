"""纪要 typography (issue 12 part 7): run-in headings of decisions, 分送, the red rule without a 期号,
no repeated title, topics joined with 、 in the opening."""
from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pdfplumber

from correspondence.compose import compose
from correspondence.minutes import MinutesService
from correspondence.render_pdf import render_pdf
from correspondence.spec import parse_spec

DATA = Path(__file__).parent / "data"
MM = 72 / 25.4


def minutes(**changes) -> dict:
    data = json.loads((DATA / "render_minutes.json").read_text(encoding="utf-8"))
    data.update(changes)
    return data


def test_decisions_run_in_heading_up_to_the_first_full_stop_or_colon():
    body = ["现将会议议定事项纪要如下：",
            "一、关于建设工程消防验收衔接。会议明确，县住房和城乡建设局在2个工作日内推送验收结果。",
            "二、会议要求：各单位按照职责分工抓好落实。",
            "三、会议同意对经营场所与住所不一致的申请人实行告知承诺制。",
            "四、关于会议议定事项的落实"]
    paras = {p.text: p for p in compose(parse_spec(minutes(body=body))).paras}
    one = paras[body[1]]
    assert (one.role, one.label_role, one.text[:one.label]) == ("fangsong", "heiti", "一、关于建设工程消防验收衔接。")
    two = paras[body[2]]
    assert two.text[:two.label] == "二、会议要求：" and two.label_role == "heiti"
    three = paras[body[3]]                     # one sentence: all 仿宋
    assert three.role == "fangsong" and three.label == 0
    four = paras[body[4]]                      # marked as a heading (no sentence): 黑体
    assert four.role == "heiti" and four.label == 0
    # in the PDF: the run-in heading in 黑体, the rest of the decision and the one-sentence decision in 仿宋
    with pdfplumber.open(io.BytesIO(render_pdf(minutes(body=body)))) as doc:
        chars = [c for p in doc.pages for c in p.chars if 15.5 < c["size"] < 16.5]
    fonts = {}
    for c in chars:
        fonts.setdefault(c["text"], set()).add(c["fontname"])
    heiti = next(iter(fonts["衔"]))
    assert fonts["衔"] == {heiti} and heiti not in fonts["告"] and heiti not in fonts["推"]


def test_participants_are_distributed_not_copied():
    plan = compose(parse_spec(minutes()))
    rows = [p.text for page in plan.pages for _s, pl in page.slots.items() for p in [pl.para] if p.kind == "cc"]
    assert rows and all(r.startswith("分送：") for r in rows)


def _red_rule_and_issuer_line(data: dict) -> tuple[float, float]:
    with pdfplumber.open(io.BytesIO(render_pdf(data))) as doc:
        page = doc.pages[0]
        red = [r for r in page.rects if tuple(r["non_stroking_color"]) == (1, 0, 0)]
        assert len(red) == 1
        issuer = [c for c in page.chars if c["text"] == "石" and 15.5 < c["size"] < 16.5]
        line = min(issuer, key=lambda c: c["top"])
        return red[0]["top"] / MM, line


def test_without_a_number_the_red_rule_is_4_mm_under_the_issuer_and_date_line():
    rule_numbered, _ = _red_rule_and_issuer_line(minutes())
    rule, line = _red_rule_and_issuer_line(minutes(number=None))
    em_bottom = line["top"] / MM + 16 / MM     # the em box of the 3号 line
    assert abs(rule - em_bottom - 4) < 0.6, (rule, em_bottom)
    assert rule < rule_numbered - 5            # the issuer/date line took the number's place


def test_a_title_repeating_the_masthead_is_not_printed():
    data = minutes(title="石城县审管协调联动联席会议纪要")
    assert not any(p.kind == "title" for p in compose(parse_spec(data)).paras)
    assert any(p.kind == "title" for p in compose(parse_spec(minutes(title="关于城东农贸市场的专题会议纪要"))).paras)


def test_auto_drafted_opening_joins_topics_with_dunhao():
    topics = [SimpleNamespace(title="食品经营许可现场核查分工"), SimpleNamespace(title="消防验收结果推送。")]
    meeting = SimpleNamespace(topics=topics, location="局三楼会议室", meeting_date=date(2026, 3, 12),
                              chair=SimpleNamespace(full_name="张华"), kind_label="联席会议", kind="joint",
                              convener=SimpleNamespace(official_name="石城县行政审批局"), participants=[])
    spec = MinutesService.spec_for(SimpleNamespace(clock=SimpleNamespace(today=lambda: date(2026, 3, 13))),
                                   meeting, ["会议同意。"])
    assert "研究食品经营许可现场核查分工、消防验收结果推送等议题" in spec["body"][0]
