"""Snippets on long bodies: the first match is found wherever it is (the body is folded a chunk at a
time), full-width text still matches, and marks inside the window are kept."""
from search.query import parse
from search.results import highlight_title, snippet


def test_a_match_far_into_a_long_body_and_across_a_chunk_boundary():
    body = "甲" * 4090 + "行政审批" + "乙" * 9000 + "行政审批"
    out = snippet(body, parse("行政审批"))
    assert out.count("<mark>行政审批</mark>") == 1 and out.startswith("…")
    far = "丙" * 20000 + "监管函" + "丁" * 50
    assert "<mark>监管函</mark>" in snippet(far, parse("监管函"))


def test_full_width_and_several_marks_in_the_window():
    body = "前言。" * 10 + "\uff27\uff22/\uff34 9704 规定审批，审批完成。"  # full-width "GB/T"
    out = snippet(body, parse("gb 审批"))
    assert "<mark>\uff27\uff22</mark>" in out and out.count("<mark>审批</mark>") == 2
    assert snippet("没有匹配的正文", parse("审批")) == "没有匹配的正文"


def test_short_body_snippet_marks_every_match_in_the_window_after_the_first():
    """A short body is folded and searched once (the fast path): the window still starts before the
    first match and marks each later match, full-width letters matching their folded query."""
    from search.query import parse
    from search.results import snippet

    body = "前言" * 40 + "\uff21\uff22 审批事项，" + "审批" + "。" * 10 + "末尾"
    out = snippet(body, parse("ab"))
    assert out.startswith("…") and "<mark>\uff21\uff22</mark> 审批事项" in out
    out = snippet(body, parse("审批"))
    assert out.startswith("…") and out.count("<mark>审批</mark>") == 2


def test_marks_land_on_characters_that_fold_into_the_query():
    # a PDF's Kangxi radical "⼀" (U+2F00) folds to "一"; a ligature "ﬁ" changes the text's length before a match
    assert "<mark>⼀</mark>" in snippet("第⼀条 适用范围", parse("一"))
    assert highlight_title("第⼀条", parse("一")) == "第<mark>⼀</mark>条"
    assert snippet("ﬁle 审批事项", parse("审批")) == "ﬁle <mark>审批</mark>事项"
    assert snippet("普通的审批事项", parse("审批")) == "普通的<mark>审批</mark>事项"
