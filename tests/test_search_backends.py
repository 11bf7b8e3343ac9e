"""Choosing the backend from ARCHIVE_SEARCH_URL, and the embedded index's folder handling (no database)."""
import tantivy

from search.engine import open_engine
from search.es_engine import ElasticsearchEngine
from search.query import parse
from search.results import Viewer
from search.tantivy_engine import TantivyEngine
from search_support import record


def test_backend_from_url(tmp_path):
    default = open_engine(None, tmp_path / "inst")
    assert isinstance(default, TantivyEngine) and default.root == (tmp_path / "inst" / "search").resolve()
    explicit = open_engine(f"tantivy://{tmp_path}/elsewhere", tmp_path / "inst")
    assert explicit.root == (tmp_path / "elsewhere").resolve()
    es = open_engine("https://user:pw@es.example:9200/?index=county&analyzer=ik_max_word", tmp_path)
    assert isinstance(es, ElasticsearchEngine) and es.alias == "county" and es.native_analyzer == "ik_max_word"


def test_a_second_reader_sees_the_writers_commits_and_rebuilds(tmp_path):
    writer = TantivyEngine(tmp_path / "ix")
    reader = TantivyEngine(tmp_path / "ix")  # as a web process would open it
    writer.upsert([record(1, "标题", "第一次提交的内容")])
    reader.refresh(force=True)
    assert reader.search(parse("第一次"), Viewer(1)).total == 1
    writer.rebuild(iter([record(2, "标题", "重建之后的内容")]))
    reader.refresh(force=True)
    assert reader.search(parse("重建之后"), Viewer(1)).total == 1
    assert reader.search(parse("第一次"), Viewer(1)).total == 0
    writer.upsert([record(3, "标题", "重建后增量写入")])  # the writer follows the new generation
    reader.refresh(force=True)
    assert reader.search(parse("增量写入"), Viewer(1)).total == 1


def test_an_index_with_an_old_schema_is_replaced_by_an_empty_one(tmp_path):
    root = tmp_path / "ix"
    (root / "gen-1").mkdir(parents=True)
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("old")
    tantivy.Index(sb.build(), str(root / "gen-1"))
    (root / "CURRENT").write_text("gen-1")
    engine = TantivyEngine(root)
    assert engine.count() == 0
    engine.upsert([record(1, "标题", "内容")])
    assert engine.count() == 1
