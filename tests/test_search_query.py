"""Analysis and the query language (no engine, no database)."""
import pytest

from search.analysis import GAP, analyze, fold
from search.query import QuerySyntaxError, parse


def test_analysis_bigrams_unigrams_gaps_and_folding():
    grams, chars = analyze("行政审批，ＡＢＣ 2026年")
    assert grams.split() == ["行政", "政审", "审批", GAP, "abc", GAP, "2026", "年"]
    assert chars.split() == ["行", "政", "审", "批", "年"]
    assert fold("Ｑ（試行）") == "q(試行)"


def test_query_structure():
    pq = parse('审批 "行政 许可" 档案 OR 文书 -撤销 type:文件 dept:SCJG year:2020-2023 文号:石审〔2026〕3号')
    assert [[u.text for u in g] for g in pq.groups] == [["审批"], ["行政 许可"], ["档案", "文书"]]
    assert [u.text for u in pq.excludes] == ["撤销"]
    assert pq.kinds == ["文件"] and pq.depts == ["SCJG"] and pq.years == (2020, 2023)
    assert pq.numbers[0].words[:2] == ("石审", GAP)
    single = parse("审").groups[0][0]
    assert single.mode == "chars" and single.words == ("审",)
    edge = parse("2026年").groups[0][0]
    assert edge.regex and edge.words == ("2026", "年.?")
    assert parse("year：2026").years == (2026, 2026)  # full-width colon
    assert parse("http://example").groups  # an unknown prefix is plain text


@pytest.mark.parametrize("q, message", [
    ('"审批', "引号"), ("OR 审批", "OR"), ("审批 OR", "OR"), ("-撤销", "排除"), ("year:26", "年度"),
    ("year:2026-2020", "年度"), ("type:", "缺少取值"), ("审批 -", "排除"), ("x" * 501, "过长"),
])
def test_malformed_queries_raise_a_clear_chinese_message(q, message):
    with pytest.raises(QuerySyntaxError) as err:
        parse(q)
    assert message in err.value.message


def test_punctuation_only_query_is_empty():
    assert parse("，。！").is_empty
