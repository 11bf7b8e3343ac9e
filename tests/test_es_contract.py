"""Contract tests of the Elasticsearch engine: the exact requests it sends, without a cluster.

These tests check REQUESTS, NOT A CLUSTER. They run the real engine and the real elasticsearch-py
client against ``es_recorder``, a loopback HTTP server that answers like Elasticsearch 8 (with the
``X-Elastic-Product`` header) and records every request. Whether a real cluster accepts and answers
those requests the same way is what the behavioural suite checks against a real 8.x cluster:
    ARCHIVE_TEST_ELASTICSEARCH_URL=http://localhost:9200 .venv/bin/python -m pytest -q tests/test_search_engines.py
"""
from __future__ import annotations

import logging
import threading

import pytest

from es_recorder import Recorder
from search import es_engine
from search.engine import QueryRejected
from search.es_engine import ElasticsearchEngine, client_options
from search.query import parse
from search.results import Viewer
from search_support import record

ALIAS = "archive-test"


@pytest.fixture
def es():
    rec = Recorder()
    yield rec
    rec.close()


def engine_for(es: Recorder) -> ElasticsearchEngine:
    return ElasticsearchEngine.from_url(f"{es.url}/?index={ALIAS}&timeout=5")


def bulk_items(es: Recorder) -> list[dict]:
    return [line for r in es.sent(path_contains="_bulk") for line in r.ndjson() if "_id" in next(iter(line.values()))]


def test_eight_concurrent_first_writes_create_one_index_with_its_write_alias(es):
    es.create_delay = 0.05
    engines = [engine_for(es) for _ in range(8)]  # as if eight workers/threads started at once
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def first_write(n: int):
        barrier.wait()
        try:
            engines[n].upsert([record(n, f"标题{n}", "正文", version=10 + n)])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    creates = es.sent("PUT", f"/{ALIAS}-v")
    assert [r.path for r in creates] == [f"/{ALIAS}-v1"]
    assert creates[0].json()["aliases"] == {ALIAS: {"is_write_index": True}}
    assert es.aliased(ALIAS) == [f"{ALIAS}-v1"]
    assert not es.sent(path_contains="_index_template") and not es.sent("POST", "/_aliases")
    assert len(es.indices[f"{ALIAS}-v1"].docs) == 8


def test_an_index_created_by_another_process_meanwhile_is_success(es):
    other = engine_for(es)
    other.init()
    es.fail_next.append((f"/_alias/{ALIAS}", 404, {"error": "alias missing", "status": 404}))  # stale answer
    mine = engine_for(es)
    assert mine.init() is False
    assert mine.upsert([record(1, "标题", "正文", version=5)]) == {}


def test_settings_and_mappings_go_in_the_create_request(es):
    engine_for(es).init()
    body = es.sent("PUT", f"/{ALIAS}-v1")[0].json()
    mappings = body["mappings"]
    assert set(mappings["_source"]["excludes"]) == {"title_g", "title_c", "body_g", "body_c", "num_g", "num_c"}
    assert mappings["dynamic"] is False
    assert mappings["properties"]["body_g"]["index_prefixes"] == {"min_chars": 1, "max_chars": 1}
    analysis = body["settings"]["analysis"]
    assert analysis["tokenizer"]["archive_ws"] == {"type": "whitespace", "max_token_length": 255}
    assert analysis["analyzer"]["archive_terms"]["tokenizer"] == "archive_ws"
    assert not es.sent(path_contains="_index_template")


def test_every_bulk_requires_the_alias_and_versions_strictly(es):
    engine = engine_for(es)
    engine.upsert([record(1, "标题", "正文", version=7), record(2, "标题", "正文", revision=3)])
    engine.delete(["1"], [8])
    engine.rebuild(iter([record(3, "标题", "正文", version=9)]))
    bulks = es.sent(path_contains="_bulk")
    assert len(bulks) == 3 and all(r.params.get("require_alias") == "true" for r in bulks)
    metas = [next(iter(line.items())) for line in bulk_items(es)]
    assert metas[0] == ("index", {"_index": ALIAS, "_id": "1", "version": 7, "version_type": "external"})
    assert metas[1][1]["version"] == 3 and metas[1][1]["version_type"] == "external"  # no version: the revision
    assert metas[2] == ("delete", {"_index": ALIAS, "_id": "1", "version": 8, "version_type": "external"})
    assert metas[3][1]["version_type"] == "external"


def test_an_equal_version_never_overwrites(es):
    engine = engine_for(es)
    engine.upsert([record(1, "新", "正文", version=5)])
    assert engine.upsert([record(1, "旧", "正文", version=5)]) == {}  # 409: ignored, not an error
    assert es.indices[f"{ALIAS}-v1"].docs["1"][1]["title"] == "新"


def test_a_missing_alias_fails_the_batch_and_creates_nothing(es):
    engine = engine_for(es)
    engine.init()
    del es.indices[f"{ALIAS}-v1"]  # an operator deleted the index (and with it the alias)
    with pytest.raises(es_engine.BulkItemsFailed, match="index_not_found"):
        engine.upsert([record(1, "标题", "正文", version=5)])
    assert list(es.indices) == []  # no concrete index named like the alias was auto-created
    with pytest.raises(es_engine.BulkItemsFailed):
        engine.delete(["1"], [6])  # a delete is not "already gone" when the alias is missing


def test_deleting_a_missing_document_is_fine(es):
    engine = engine_for(es)
    engine.init()
    engine.delete(["404"], [3])
    assert bulk_items(es)[0]["delete"]["_id"] == "404"


def test_one_refused_document_does_not_hold_its_batch(es):
    engine = engine_for(es)
    es.refuse["2"] = (400, "mapper_parsing_exception")
    failed = engine.upsert([record(i, "标题", "正文", version=i) for i in (1, 2, 3)])
    assert list(failed) == ["2"] and "mapper_parsing_exception" in failed["2"]
    assert sorted(es.indices[f"{ALIAS}-v1"].docs) == ["1", "3"]
    es.refuse["3"] = (429, "es_rejected_execution_exception")  # overload: the worker retries the batch
    with pytest.raises(es_engine.BulkItemsFailed):
        engine.upsert([record(3, "标题", "正文", version=9)])


def test_large_batches_are_split_and_an_oversized_body_is_capped(es, monkeypatch, caplog):
    monkeypatch.setattr(es_engine, "CHUNK_BYTES", 4000)
    monkeypatch.setattr(es_engine, "MAX_DOC_BYTES", 20_000)
    engine = engine_for(es)
    with caplog.at_level(logging.WARNING, logger="search.es_engine"):
        engine.upsert([record(i, "标题", "审批" * 30, version=i) for i in range(1, 6)] +
                      [record(6, "大文件", "监管" * 50_000, version=6)])
    bulks = es.sent(path_contains="_bulk")
    assert len(bulks) >= 3 and all(len(r.body) <= 4000 for r in bulks[:-1])  # the last: document 6 alone
    assert sorted(es.indices[f"{ALIAS}-v1"].docs, key=int) == ["1", "2", "3", "4", "5", "6"]
    assert "document 6" in caplog.text and "capped" in caplog.text
    assert len(es.indices[f"{ALIAS}-v1"].docs["6"][1]["src"]["body"]) < 100_000


def test_a_bulk_timeout_or_overload_is_retried(es, monkeypatch):
    monkeypatch.setattr(es_engine.time, "sleep", lambda s: None)  # no waiting between the retries
    engine = engine_for(es)
    engine.init()
    es.fail_next.append(("/_bulk", 503, {"error": {"type": "unavailable_shards_exception", "reason": "busy"},
                                         "status": 503}))
    assert engine.upsert([record(1, "标题", "正文", version=2)]) == {}
    assert len(es.sent(path_contains="_bulk")) == 2


def test_a_search_writes_nothing_and_bounds_the_regexp(es):
    engine_for(es).init()  # `archive-service search init` (or the worker)
    es.requests.clear()
    web = engine_for(es)  # a web process: read privileges only
    web.search(parse("2026年 年2026 审批"), Viewer(1))
    web.count()
    assert es.writes() == [] and len(es.requests) == 2  # no template, index or alias writes
    query = str(es.sent("POST", "/_search")[0].json())
    assert "'prefix': {'body_g': {'value': '年'}}" in query  # "2026年": index_prefixes, no regexp
    assert "'regexp': {'body_g': {'value': '.?年', 'rewrite': 'top_terms_1000'}}" in query


def test_a_search_before_init_is_an_error_not_an_index(es):
    from elasticsearch import NotFoundError

    with pytest.raises(NotFoundError):
        engine_for(es).search(parse("审批"), Viewer(1))
    assert es.writes() == [] and es.indices == {}


@pytest.mark.parametrize("cause", [
    {"type": "query_shard_exception", "reason": "[regexp] queries cannot be executed when "
                                                "'search.allow_expensive_queries' is set to false."},
    {"type": "too_many_nested_clauses",
     "reason": "Query contains too many nested clauses; maxClauseCount is set to 1024"},
])
def test_a_query_the_cluster_refuses_is_rejected_with_the_reason(es, cause):
    engine = engine_for(es)
    engine.init()
    es.search_error = (400, {"error": {"root_cause": [cause], "type": "search_phase_execution_exception",
                                       "reason": "all shards failed"}, "status": 400})
    with pytest.raises(QueryRejected) as info:
        engine.search(parse("年2026"), Viewer(1))
    assert cause["reason"] in info.value.reason


def test_a_failing_rebuild_removes_its_index_and_keeps_the_live_one(es):
    engine = engine_for(es)
    engine.upsert([record(1, "标题", "正文", version=1)])
    es.fail_next.append(("/_bulk", 400, {"error": {"type": "illegal_argument_exception", "reason": "bad"},
                                         "status": 400}))
    from elasticsearch import BadRequestError

    with pytest.raises(BadRequestError):
        engine.rebuild(iter([record(2, "标题", "正文", version=2)]))
    assert list(es.indices) == [f"{ALIAS}-v1"] and es.aliased(ALIAS) == [f"{ALIAS}-v1"]


def test_rebuild_swaps_the_alias_and_keeps_one_previous_generation(es):
    engine = engine_for(es)
    engine.upsert([record(1, "标题", "正文", version=1)])
    es.indices[f"{ALIAS}-v5"] = es_recorder_index()  # an orphan of a crashed rebuild
    engine.rebuild(iter([record(1, "标题", "正文", version=2)]))
    first = es.aliased(ALIAS)
    assert len(first) == 1 and first != [f"{ALIAS}-v1"]
    created = es.sent("PUT", first[0])[0].json()
    assert created["settings"]["refresh_interval"] == "-1" and "mappings" in created
    assert es.indices[first[0]].settings == {"refresh_interval": "1s"}
    assert f"{ALIAS}-v1" in es.indices  # the previous generation stays for searches still on it
    assert f"{ALIAS}-v5" not in es.indices  # the orphan is gone
    engine.rebuild(iter([record(1, "标题", "正文", version=3)]))
    assert f"{ALIAS}-v1" not in es.indices and first[0] in es.indices and len(es.indices) == 2
    swap = es.sent("POST", "/_aliases")[-1].json()["actions"]
    assert swap[0] == {"remove": {"index": first[0], "alias": ALIAS}}
    assert swap[1]["remove"]["alias"].startswith(f"{ALIAS}-building-")  # the rebuild's own write alias
    assert swap[2]["add"]["is_write_index"] is True


def es_recorder_index():
    from es_recorder import Index

    return Index(body={})


def test_url_options_tls_and_default_port(tmp_path, caplog):
    node, kw, params = client_options("https://es.example/?index=county&ca_certs=/etc/es/ca.crt&timeout=7")
    assert node == "https://es.example:9200" and params["index"] == "county"
    assert kw == {"request_timeout": 7.0, "verify_certs": True, "ca_certs": "/etc/es/ca.crt"}
    fp = "AB:CD:" + "EF:" * 29 + "01"
    _node, kw, _ = client_options(f"https://u:p%40ss@10.0.0.5:9243/?ssl_assert_fingerprint={fp}")
    assert _node == "https://10.0.0.5:9243" and kw["ssl_assert_fingerprint"] == fp
    assert kw["basic_auth"] == ("u", "p@ss")
    with caplog.at_level(logging.WARNING, logger="search.es_engine"):
        client_options("https://u:p@es.example/?verify_certs=false")
    assert "without certificate verification" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="search.es_engine"):
        client_options("http://u:p@es.example/")
    assert "plain HTTP" in caplog.text
    ca = "/etc/ssl/certs/ca-certificates.crt"
    engine = ElasticsearchEngine.from_url(f"https://es.example/?ca_certs={ca}")
    config = engine.es.transport.node_pool.all()[0].config
    assert (config.port, config.ca_certs, config.verify_certs) == (9200, ca, True)
