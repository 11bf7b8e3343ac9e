"""Word-aware line breaks (issue 12 part 5): titles break between words (梯形/菱形), names in 主送/抄送
and 出席/列席 lists are never split, 避头尾 still holds."""
import itertools
import json
import random
from pathlib import Path

from correspondence import segment
from correspondence.compose import _title_lines, compose
from correspondence.fonts import faces
from correspondence.linebreak import NO_END, NO_START
from correspondence.spec import parse_spec

DATA = Path(__file__).parent / "data"
DEPARTMENTS = ["石城县行政审批局", "县市场监督管理局", "县住房和城乡建设局", "县卫生健康委员会", "县消防救援大队",
               "县人民政府办公室", "县自然资源局", "县交通运输局", "县生态环境局", "县应急管理局"]
MATTERS = ["食品经营许可", "建设工程消防验收", "药品零售企业许可", "公共场所卫生许可", "道路货物运输经营许可",
           "建设工程规划许可", "危险化学品经营许可", "特种设备使用登记"]
PHRASES = ["商请协助研究", "进一步加强", "建立健全", "印发", "做好", "开展联合检查", "推进审管衔接", "规范"]
SUBJECTS = ["城东农贸市场", "全县市场主体", "城西物流园区", "县城老旧小区改造项目", "乡镇卫生院"]
ENDS = ["有关问题的函", "工作的通知", "实施方案的请示", "衔接机制的意见", "集中审批事项的函", "监管工作的报告"]


def titles(n: int = 50) -> list[str]:
    rng = random.Random(12)
    out = []
    while len(out) < n:
        t = (rng.choice(["", rng.choice(DEPARTMENTS)]) + "关于" + rng.choice(PHRASES) + rng.choice(SUBJECTS)
             + rng.choice(MATTERS) + rng.choice(["", "和" + rng.choice(MATTERS)]) + rng.choice(ENDS))
        if len(t) > 20 and t not in out:
            out.append(t)
    return out


def test_fifty_titles_break_only_between_words():
    segment.learn(DEPARTMENTS + MATTERS)
    face = faces()["title"]
    multi = 0
    for title in titles():
        lines = _title_lines(title, face)
        assert "".join(lines) == title
        assert all(len(x) <= 20 for x in lines), lines
        words = segment.words(title)
        bounds = {0}
        for w in words:
            bounds.add(max(bounds) + len(w))
        at = 0
        for line in lines[:-1]:
            at += len(line)
            assert at in bounds, f"{title}: break inside a word after {title[:at]!r} ({words})"
        for a, b in itertools.pairwise(lines):
            assert b[0] not in NO_START and a[-1] not in NO_END
        for name in DEPARTMENTS + MATTERS + ["市场", "建立"]:
            if name in title:
                assert any(name in line for line in lines), (name, lines)
        lens = [len(x) for x in lines]
        assert max(lens) - min(lens) <= max(6, len(title) // 3), lines   # balanced, not one long + a stub
        multi += len(lines) > 1
    assert multi == 50


def test_names_in_recipient_and_attendance_lists_are_never_split():
    letter = json.loads((DATA / "render_letter.json").read_text(encoding="utf-8"))
    letter["to"] = DEPARTMENTS[1:7]
    letter["cc"] = [*DEPARTMENTS[2:], "县发展和改革委员会", "县农业农村局", "县文化广电新闻出版旅游局"]
    minutes = json.loads((DATA / "render_minutes.json").read_text(encoding="utf-8"))
    minutes["attendance"]["出席"] = [f"{d} 张华、李明、王强" for d in DEPARTMENTS[:8]]
    checked = 0
    for data in (letter, minutes):
        plan = compose(parse_spec(data))
        for p in plan.paras:
            if p.names:
                for name in p.names:
                    # the name is whole on one line of the paragraph
                    assert any(name in line for line in p.lines), (name, p.lines)
                assert "".join(p.lines).replace(" ", "") == p.text.replace(" ", "")
                assert all(not line or line[0] not in NO_START for line in p.lines[1:])
                checked += len(p.lines) > 1
    assert checked >= 2   # 主送 and 抄送 or 出席 wrapped onto several lines
