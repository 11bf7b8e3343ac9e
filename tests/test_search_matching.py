"""Highlight matching (search/matching.py) finds exactly what the plain regex alternation finds.

The regex with a separator class is the reference (what highlighting compiled before); the matcher
avoids compiling it per query, so the two are compared on tricky texts and on random corpus-like
strings."""
from __future__ import annotations

import random
import re

import pytest

from search.analysis import CJK_CLASS
from search.matching import Pattern, pattern_of
from search.query import parse
from search.results import _pattern, highlight_title, snippet

SEP = f"[^{CJK_CLASS}a-z0-9]+"


def reference(texts: tuple[str, ...]) -> re.Pattern | None:
    parts = []
    for text in texts:
        pieces = re.findall(f"[{CJK_CLASS}]+|[a-z0-9]+", text)
        if pieces:
            parts.append(SEP.join(map(re.escape, pieces)))
    parts.sort(key=len, reverse=True)
    return re.compile("|".join(parts)) if parts else None


def spans(pat, text):
    return [m.span() for m in pat.finditer(text)]


CASES = [
    (("审批，批准",), "行政审批，批准文件；审批 批准；审批批准；审批、、批准。"),
    (("审批，批准", "审批"), "审批，批准 与 审批，以及 审批——批准"),
    (("批准", "审批，批准"), "审批，批准，批准"),
    (("石审〔2026〕3号",), "石审〔2026〕3号 与 石审[2026]3号 和 石审2026 3号，石审〔2026〕31号"),
    (("a b", "b c"), "a b c, a  b, b\tc"),
    (("审批，批准", "备案"), "备案" + "。" * 50 + "审批：批准" + "备案"),
    (("的，是",), "的的，，是是"),
    (("x",), ""),
]


@pytest.mark.parametrize(("texts", "text"), CASES)
def test_matcher_finds_what_the_regex_alternation_finds(texts, text):
    ref, got = reference(texts), pattern_of(texts)
    assert spans(got, text) == spans(ref, text)
    ref_first, got_first = ref.search(text), got.search(text)
    assert (got_first.span() if got_first else None) == (ref_first.span() if ref_first else None)


def test_matcher_agrees_with_the_regex_on_random_text():
    rng = random.Random(7)
    alphabet = "审批准文件备案行政，。；、 \n()〔〕-2026号ab"
    for _ in range(400):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        units = tuple("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(rng.randint(1, 3)))
        ref, got = reference(units), pattern_of(units)
        if ref is None:
            assert got is None
            continue
        assert spans(got, text) == spans(ref, text), (units, text)


def test_a_phrase_query_is_not_compiled_as_a_regex_and_still_highlights():
    pq = parse('"审批，批准"')
    assert isinstance(_pattern(pq), Pattern)
    assert highlight_title("关于审批；批准的通知", pq) == "关于<mark>审批；批准</mark>的通知"
    assert snippet("前文。" * 10 + "经审批、批准后实施。", pq).endswith("经<mark>审批、批准</mark>后实施。")
