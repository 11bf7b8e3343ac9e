"""The behavioural search suite, identical for every engine (tantivy always; Elasticsearch when
ARCHIVE_TEST_ELASTICSEARCH_URL is set). Engine-level: plain records, no database."""
from __future__ import annotations

import random
import re
from datetime import datetime

import pytest

from search.analysis import fold
from search.query import parse
from search.results import Viewer
from search_support import CORPUS_SAMPLE, ENGINES, corpus_articles, make_engine, record

OWN, OTHER, THIRD = 1, 2, 3
ME = Viewer(OWN)

DOCS = [
    record(1, "关于加强行政审批工作的通知", "各股室：为落实审批与监管协调联动，请确定联络员。"),
    record(2, "市场监管情况汇总", "本月开展“双随机、一公开”抽查12次，发现问题3项，已函告审批局。"),
    record(3, "档案管理办法", "档案员负责档案的收集、整理、保管和利用。审批，批准后归档。"),
    record(4, "年度工作总结", "2026年度工作报告：行政审批提速，监管到位。GB/T 9704 公文格式。"),
    record(5, "撤销决定", "决定撤销该审批事项，监管部门跟进。", date=datetime(2024, 5, 1)),
    record(6, "其他部门的审批材料", "审批材料（保密）：仅本部门可见的审批内容。", dept=OTHER),
    record(7, "授权查阅的监管函", "监管函：请审批局协助核查。", dept=OTHER, grants=[OWN]),
    record(8, "全县目录公开文件", "正文含有机密词语：审批秘钥。", dept=THIRD, catalogue=True),
]


@pytest.fixture(params=ENGINES)
def engine(request, tmp_path):
    eng, cleanup = make_engine(request.param, tmp_path)
    eng.upsert(DOCS)
    yield eng
    cleanup()


def ids(result):
    return sorted(int(h.id) for h in result.hits)


def search(engine, q, viewer=ME, **kw):
    return engine.search(parse(q), viewer, size=kw.pop("size", 50), **kw)


def test_single_character_query_finds_every_document_containing_it(engine):
    assert ids(search(engine, "档")) == [3]
    assert ids(search(engine, "批")) == [1, 2, 3, 4, 5, 7]


def test_two_and_longer_strings(engine):
    assert ids(search(engine, "审批")) == [1, 2, 3, 4, 5, 7]
    assert ids(search(engine, "联络员")) == [1]
    assert ids(search(engine, "双随机")) == [2]
    assert ids(search(engine, "行政审批提速")) == [4]


def test_no_match_across_punctuation(engine):
    # document 3 has "审批，批准": the string "审批批准" does not occur
    assert ids(search(engine, "审批批准")) == []
    assert ids(search(engine, "批准")) == [3]


def test_and_or_exclude_phrase(engine):
    assert ids(search(engine, "审批 监管")) == [1, 2, 4, 5, 7]  # 2: 监管 in the title, 审批 in the body
    assert ids(search(engine, "档案 OR 联络员")) == [1, 3]
    assert ids(search(engine, "审批 -监管")) == [3]
    assert ids(search(engine, '"审批 批准"')) == [3]  # the phrase allows punctuation between its words
    assert ids(search(engine, '"审批与监管"')) == [1]


def test_latin_digits_and_full_width_are_normalised(engine):
    assert ids(search(engine, "ＧＢ")) == [4]  # full-width letters fold to "gb"
    assert ids(search(engine, "2026年")) == [4]  # digits followed by a CJK character inside a bigram
    assert ids(search(engine, "12次")) == [2]


def test_filters(engine):
    assert ids(search(engine, "审批 year:2024")) == [5]
    assert ids(search(engine, "审批 year:2025-2026")) == [1, 2, 3, 4, 7]
    assert ids(search(engine, "审批 dept:D2")) == [7]
    assert ids(search(engine, "审批 dept:部门1 type:文件")) == [1, 2, 3, 4, 5]
    assert ids(search(engine, "type:letter")) == []
    assert ids(engine.search(parse("", depts=["D1"]), ME, size=50)) == [1, 2, 3, 4, 5]


def test_paging_total_and_sort_by_date(engine):
    first = search(engine, "审批", size=4, sort="date")
    second = engine.search(parse("审批"), ME, page=2, size=4, sort="date")
    assert first.total == second.total == 6
    assert len(first.hits) == 4 and len(second.hits) == 2
    dates = [h.record["date"] for h in first.hits + second.hits]
    assert dates == sorted(dates, reverse=True)
    assert not {h.id for h in first.hits} & {h.id for h in second.hits}
    beyond = engine.search(parse("审批"), ME, page=9, size=4)
    assert beyond.total == 6 and beyond.hits == []


def test_highlights_are_marked_and_escaped(engine):
    engine.upsert([record(9, "<script>警告</script>", "正文<b>粗体</b>与审批事项")])
    hit = next(h for h in search(engine, "审批 粗体").hits if h.id == "9")
    assert "<mark>审批</mark>" in hit.snippet_html and "<mark>粗体</mark>" in hit.snippet_html
    assert "&lt;b&gt;" in hit.snippet_html and "<b>" not in hit.snippet_html
    title = next(h for h in search(engine, "警告").hits if h.id == "9").title_html
    assert title == "&lt;script&gt;<mark>警告</mark>&lt;/script&gt;"


def test_acl_matrix_no_hit_snippet_or_facet_leaks(engine):
    mine = search(engine, "审批")
    assert 6 not in ids(mine)  # another department's document
    assert 7 in ids(mine)  # granted to my department
    assert sum(c for _v, c in mine.facets["dept"]) == mine.total
    assert "部门2" in dict(mine.facets["dept"]) and dict(mine.facets["dept"])["部门2"] == 1
    # catalogue: the title is findable and shown, the body is neither searched nor shown
    assert ids(search(engine, "秘钥")) == []
    cat = search(engine, "目录公开")
    assert ids(cat) == [8]
    assert cat.hits[0].full_access is False and cat.hits[0].snippet_html is None
    assert "body" not in cat.hits[0].record
    # the other department sees its own document, not mine
    other = search(engine, "审批", viewer=Viewer(OTHER))
    assert ids(other) == [6, 7]
    assert all(h.full_access for h in other.hits)
    # a department with nothing sees nothing, not even facet counts
    nobody = search(engine, "审批", viewer=Viewer(99))
    assert nobody.total == 0 and all(not v for v in nobody.facets.values())


def test_upsert_replaces_and_delete_removes(engine):
    engine.upsert([record(1, "关于加强行政审批工作的通知", "内容已修改为备案事项。", revision=2)])
    assert ids(search(engine, "联络员")) == []
    assert ids(search(engine, "备案事项")) == [1]
    engine.delete(["1"])
    assert ids(search(engine, "备案事项")) == []
    assert engine.count() == len(DOCS) - 1


def test_rebuild_gives_identical_results(engine):
    queries = ["审批", "批", "档案 OR 联络员", "审批 -监管", "目录公开"]
    before = [(ids(search(engine, q)), search(engine, q).facets) for q in queries]
    assert engine.rebuild(iter(DOCS)) == len(DOCS)
    after = [(ids(search(engine, q)), search(engine, q).facets) for q in queries]
    assert before == after


CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def test_recall_equals_a_plain_substring_scan_on_corpus_articles(engine):
    """Every hit list equals the set of articles whose folded title or body contains the query."""
    _recall_equals_substring_scan(engine, corpus_articles(3000))


def test_recall_equals_a_plain_substring_scan_on_the_shipped_sample(engine):
    """The same on the 401 articles in tests/data, which are always there."""
    _recall_equals_substring_scan(engine, corpus_articles(1000, CORPUS_SAMPLE))


def _recall_equals_substring_scan(engine, arts):
    recs = [record(i, a["title"], a["body"]) for i, a in enumerate(arts, 100)]
    engine.rebuild(iter(recs))
    texts = {r["id"]: fold(r["title"]) + "\n" + fold(r["body"]) for r in recs}
    rng = random.Random(20261127)
    checked = 0
    for length in (1, 2, 3, 4, 5):
        for _ in range(12):
            runs = [r for r in CJK_RUN.findall(fold(rng.choice(recs)["body"])) if len(r) >= length]
            if not runs:
                continue
            run = rng.choice(runs)
            start = rng.randrange(len(run) - length + 1)
            q = run[start:start + length]
            expected = {i for i, t in texts.items() if q in t}
            res = engine.search(parse(q), ME, size=1, facets=False)
            assert res.total == len(expected), q
            assert engine.matching_ids(parse(q), ME) == expected, q
            checked += 1
    assert checked >= 50


@pytest.mark.parametrize("q", ["批", "审批", "审批 监管", "审批 -监管", '"审批，批准"', "zz", "type:文件",
                               "审批 year:2024"])
def test_facets_counted_beside_the_search_equal_those_counted_after_it(tmp_path, q):
    """Many estimated hits: the tantivy engine counts facets in another thread; few: after the search."""
    from search.tantivy_engine import TantivyEngine

    eng = TantivyEngine(tmp_path / "search")
    eng.upsert(DOCS)
    answers = []
    for threshold in (0, 10**9):  # every query in the thread, then none
        eng.parallel_facets_from = threshold
        res = eng.search(parse(q), ME, size=50)
        answers.append((res.total, [h.id for h in res.hits], res.facets))
    assert answers[0] == answers[1]
    if answers[0][0]:
        assert sum(c for _v, c in answers[0][2]["dept"]) == answers[0][0]
