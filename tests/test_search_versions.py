"""The versioning rule and the 255-character token rule, on the embedded engine (the Elasticsearch
engine's requests for the same rules are in test_es_contract.py)."""
from pathlib import Path

from search.analysis import analyze
from search.query import parse
from search.results import Viewer
from search.tantivy_engine import TantivyEngine
from search_support import record

ME = Viewer(1)


def titles(engine, q):
    return [h.record["title"] for h in engine.search(parse(q), ME).hits]


def test_a_version_not_above_the_indexed_one_is_ignored(tmp_path):
    engine = TantivyEngine(tmp_path / "ix")
    engine.upsert([record(1, "新的标题", "正文", version=5)])
    engine.upsert([record(1, "旧的标题", "正文", version=5)])  # an older read of the same revision
    assert titles(engine, "正文") == ["新的标题"]
    engine.upsert([record(1, "更新的标题", "正文", version=6)])
    assert titles(engine, "正文") == ["更新的标题"]
    engine.delete(["1"], [4])  # an old delete does not remove a newer copy
    assert titles(engine, "正文") == ["更新的标题"]
    engine.delete(["1"], [7])
    assert titles(engine, "正文") == []


def test_a_token_longer_than_255_characters_matches_whole(tmp_path):
    long = "a1" * 150  # 300 characters
    grams, _ = analyze(f"编号 {long} 结束")
    assert [len(t) for t in grams.split(" ")[2:4]] == [255, 45]  # split alike for every engine
    engine = TantivyEngine(tmp_path / "ix")
    engine.upsert([record(1, "长编号", f"编号 {long} 结束", version=1)])
    assert titles(engine, long) == ["长编号"]
    assert titles(engine, long.upper()) == ["长编号"]
    assert titles(engine, long[:-1]) == []  # a different token


def test_closing_an_engine_releases_the_index_writer_lock_for_another_process(tmp_path):
    """A worker and a reindex take turns writing one index: closing ends the writer at once (its lock file
    released), not whenever the garbage collector next runs."""
    import subprocess
    import sys

    engine = TantivyEngine(tmp_path / "search")
    engine.upsert([record(1, "审批", "审批局")])
    engine.close()
    script = ("import sys; from search.tantivy_engine import TantivyEngine; "
              "from search_support import record; e = TantivyEngine(sys.argv[1]); "
              "e.upsert([record(2, '监管', '监管局')]); print(e.count())")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "search")], capture_output=True, text=True,
                         timeout=120, env={"PYTHONPATH": str(Path(__file__).parent)}, cwd=Path(__file__).parents[1])
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "2"
