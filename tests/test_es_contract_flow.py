"""The Elasticsearch engine inside the application, against the recording server of es_recorder.

Like test_es_contract.py this checks REQUESTS, NOT A CLUSTER: the worker's versions and per-item
failures, the `search init` command, and the API's answer to a query the cluster refuses."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive_service.clock import FixedClock
from archive_service.indexing_models import IndexFailure
from archive_service.models import DocumentGrant, OutboxEntry, User
from es_recorder import Recorder

ALIAS = "archive-flow"


@pytest.fixture
def es_rt(rt):
    es = Recorder()
    rt.settings.search_url = f"{es.url}/?index={ALIAS}&timeout=5"
    rt.close()  # reopened with the new URL
    rt.clock = FixedClock(rt.clock.now())
    yield rt, es
    rt.close()
    es.close()


def _upload(rt, user_id, title, text):
    with rt.transaction() as s:
        user = s.get(User, user_id)
        return rt.documents(s).upload(user, io.BytesIO(text.encode()), "a.txt", title).id


def _items(es):
    return [line for r in es.sent(path_contains="_bulk") for line in r.ndjson() if "_id" in next(iter(line.values()))]


def test_versions_are_outbox_ids_and_a_grant_end_is_indexed_at_a_higher_one(es_rt, make):
    rt, es = es_rt
    dept = make.department("regulator", name="县市场监督管理局")
    other = make.department("other", name="县司法局")
    owner = make.user(dept, "drafter", username="owner")
    doc = _upload(rt, owner.id, "限时查阅的档案", "限时查阅档案正文。")
    with rt.factory() as s:
        s.add(DocumentGrant(document_id=doc, department_id=other.id, reason="lookup", granted_at=rt.clock.now(),
                            until=rt.clock.now() + timedelta(hours=1)))
        s.commit()
    rt.worker().drain()
    with rt.factory() as s:
        newest = max(e.id for e in s.scalars(select(OutboxEntry).where(OutboxEntry.document_id == doc)))
    first = [i["index"] for i in _items(es) if i["index"]["_id"] == str(doc)]
    assert first and first[-1]["version_type"] == "external" and first[-1]["version"] <= newest
    assert es.indices[f"{ALIAS}-v1"].docs[str(doc)][1]["grants"] == [other.id]
    rt.clock.advance(hours=2)
    rt.worker().drain()
    last = [i["index"] for i in _items(es) if i["index"]["_id"] == str(doc)][-1]
    assert last["version"] > newest  # the scheduled end was replaced by a fresh (higher) outbox entry
    assert es.indices[f"{ALIAS}-v1"].docs[str(doc)][1]["grants"] == []
    assert all(r.params.get("require_alias") == "true" for r in es.sent(path_contains="_bulk"))


def test_a_document_the_cluster_refuses_is_recorded_and_the_rest_indexed(es_rt, make):
    rt, es = es_rt
    dept = make.department("regulator", name="县市场监督管理局")
    owner = make.user(dept, "drafter", username="owner")
    good = _upload(rt, owner.id, "正常文件", "可以索引的正文。")
    bad = _upload(rt, owner.id, "被拒绝的文件", "集群拒绝的正文。")
    es.refuse[str(bad)] = (400, "document_parsing_exception")
    rt.worker().drain_outbox()
    with rt.factory() as s:
        failure = s.get(IndexFailure, bad)
        assert failure is not None and "document_parsing_exception" in failure.error
        assert s.get(IndexFailure, good) is None
        assert s.scalars(select(OutboxEntry).where(OutboxEntry.processed_at.is_(None),
                                                   OutboxEntry.document_id == good)).first() is None
    assert str(good) in es.indices[f"{ALIAS}-v1"].docs and str(bad) not in es.indices[f"{ALIAS}-v1"].docs


def test_search_init_creates_the_index_and_a_refused_query_is_a_400(es_rt, make, monkeypatch):
    rt, es = es_rt
    from archive_service.cli import main

    monkeypatch.setenv("ARCHIVE_SEARCH_URL", rt.settings.search_url)
    monkeypatch.setenv("ARCHIVE_INSTANCE", str(rt.settings.instance))
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", rt.settings.database_url)
    dept = make.department("regulator", name="县市场监督管理局")
    user = make.user(dept, "drafter", username="searcher")
    with rt.factory() as s:
        client, headers = make.api(s.get(User, user.id))
    assert client.get("/api/v1/search", query_string={"q": "审批"}, headers=headers).status_code == 503
    assert es.writes() == []  # the web process did not create anything
    result = CliRunner().invoke(main, ["search", "init"], catch_exceptions=False)
    assert "index created" in result.output and es.aliased(ALIAS) == [f"{ALIAS}-v1"]
    assert "already set up" in CliRunner().invoke(main, ["search", "init"]).output
    assert client.get("/api/v1/search", query_string={"q": "审批"}, headers=headers).status_code == 200
    reason = "[regexp] queries cannot be executed when 'search.allow_expensive_queries' is set to false."
    es.search_error = (400, {"error": {"root_cause": [{"type": "query_shard_exception", "reason": reason}],
                                       "type": "search_phase_execution_exception", "reason": "all shards failed"},
                             "status": 400})
    resp = client.get("/api/v1/search", query_string={"q": "年2026"}, headers=headers)
    assert resp.status_code == 400 and "allow_expensive_queries" in resp.get_json()["error"]["message"]
