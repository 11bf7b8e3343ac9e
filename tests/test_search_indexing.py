"""Search through the real parts: document core → outbox → worker → index → API and pages."""
from __future__ import annotations

import io
import shutil
import time
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from archive_service import outbox
from archive_service.clock import FixedClock
from archive_service.indexing_models import IndexFailure, TextExtraction
from archive_service.models import Department, Document, DocumentGrant, OutboxEntry, User


@pytest.fixture
def people(make):
    """The users these tests search as: a section of the bureau and three other departments."""
    bureau = make.department("bureau", name="县行政审批局")
    sczr = make.department("section", name="市场准入审批股", code="SCZR", parent=bureau)
    scjg = make.department("regulator", name="县市场监督管理局")
    wjw = make.department("regulator", name="县卫生健康委员会")
    sfj = make.department("other", name="县司法局")
    return {name: make.user(dept, "drafter", username=name) for name, dept in [
        ("drafter", sczr), ("scjg_staff", scjg), ("wjw_staff", wjw), ("sfj_staff", sfj)]}


def _upload(rt, username, title, text, filename="a.txt"):
    with rt.transaction() as s:
        user = s.scalar(select(User).where(User.username == username))
        return rt.documents(s).upload(user, io.BytesIO(text if isinstance(text, bytes) else text.encode()),
                                      filename, title).id


def _drain(rt):
    rt.worker().drain()  # search outbox and extraction queue


def _pending(rt):
    with rt.factory() as s:
        return s.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.processed_at.is_(None)))


def _search(make, username, **params):
    with make.rt.factory() as s:
        client, headers = make.api(s.scalar(select(User).where(User.username == username)))
    return client.get("/api/v1/search", query_string=params, headers=headers)


def test_committed_upload_is_found_through_the_api(rt, make, people):
    doc_id = _upload(rt, "drafter", "石城县食品经营许可审查要点", "食品经营许可证核发前，须现场核查经营场所。")
    _drain(rt)
    resp = _search(make, "drafter", q="现场核查")
    body = resp.get_json()
    assert resp.status_code == 200 and body["total"] == 1
    hit = body["hits"][0]
    assert hit["id"] == doc_id and hit["access"] == "full" and "<mark>现场核查</mark>" in hit["snippet_html"]
    assert hit["department"] == "市场准入审批股" and hit["kind"] == "file" and hit["url"] == f"/documents/{doc_id}"
    assert body["facets"]["dept"] == [{"value": "市场准入审批股", "count": 1}]
    empty = _search(make, "drafter", q="不存在的词语组合").get_json()
    assert empty["total"] == 0 and empty["message"] == "没有找到符合条件的文档"


def test_api_rejects_bad_queries_with_400_and_requires_login(rt, make, people):
    for params, fragment in [({"q": '"审批'}, "引号"), ({"q": "审批", "sort": "x"}, "sort"),
                             ({"q": "审批", "size": "500"}, "size"),
                             ({"q": "审批", "page": "101", "size": "100"}, "前 10000 条"), ({}, "请输入"),
                             ({"q": "year:99"}, "年度")]:
        resp = _search(make, "drafter", **params)
        assert resp.status_code == 400, params
        assert fragment in resp.get_json()["error"]["message"]
    assert make.client().get("/api/v1/search?q=审批").status_code == 401


def test_acl_matrix_own_department_grant_and_catalogue(rt, make, people):
    own = _upload(rt, "drafter", "准入股内部审批记录", "审批记录：内部讨论意见甲。")
    other = _upload(rt, "scjg_staff", "监管局内部审批台账", "审批台账：内部讨论意见乙。")
    granted = _upload(rt, "scjg_staff", "监管局致准入股审批协查函", "审批协查：内部讨论意见丙。")
    catalogue = _upload(rt, "wjw_staff", "卫健委审批目录条目", "审批目录正文：内部讨论意见丁。")
    with rt.factory() as s:
        sczr = s.scalar(select(Department).where(Department.code == "SCZR"))
        s.add(DocumentGrant(document_id=granted, department_id=sczr.id, reason="recipient", granted_at=rt.clock.now()))
        s.get(Document, catalogue).catalogue = True
        outbox.enqueue(s, rt.clock, granted, 1)
        outbox.enqueue(s, rt.clock, catalogue, 1)
        s.commit()
    _drain(rt)

    def view(username, q="审批"):
        body = _search(make, username, q=q, size=50).get_json()
        return {h["id"]: h for h in body["hits"]}, body

    hits, body = view("drafter")
    assert set(hits) >= {own, granted, catalogue} and other not in hits
    assert hits[granted]["access"] == "full" and "内部讨论意见丙" in hits[granted]["snippet_html"]
    assert hits[catalogue]["access"] == "catalogue" and hits[catalogue]["snippet_html"] is None
    assert hits[catalogue]["url"] is None
    assert "县市场监督管理局" in {f["value"] for f in body["facets"]["dept"]}
    assert sum(f["count"] for f in body["facets"]["dept"]) == body["total"]
    # the body of a catalogue document is not searchable for outsiders …
    assert catalogue not in view("drafter", "内部讨论意见丁")[0]
    # … but is for its own department
    assert catalogue in view("wjw_staff", "内部讨论意见丁")[0]
    hits, body = view("scjg_staff")
    assert {other, granted} <= set(hits) and own not in hits
    hits, body = view("sfj_staff")
    assert set(hits) == {catalogue} and body["total"] == 1
    assert {f["value"] for f in body["facets"]["dept"]} == {"县卫生健康委员会"}


def test_a_time_limited_grant_leaves_the_index_when_it_ends(rt, make, people):
    clock = FixedClock(rt.clock.now())
    rt.clock = clock
    doc = _upload(rt, "scjg_staff", "限时查阅的档案", "限时查阅档案正文。")
    with rt.factory() as s:
        sczr = s.scalar(select(Department).where(Department.code == "SCZR"))
        s.add(DocumentGrant(document_id=doc, department_id=sczr.id, reason="lookup", granted_at=clock.now(),
                            until=clock.now() + timedelta(hours=1)))
        outbox.enqueue(s, clock, doc, 1)
        s.commit()
    _drain(rt)
    assert _search(make, "drafter", q="限时查阅").get_json()["total"] == 1
    clock.advance(hours=2)
    _drain(rt)
    assert _search(make, "drafter", q="限时查阅").get_json()["total"] == 0


class Killed(BaseException):
    """Stands in for the worker process dying (not an Exception: nothing catches it)."""


def test_worker_killed_mid_drain_loses_nothing(rt, make, people):
    ids = [_upload(rt, "drafter", f"批量文件{i}", f"崩溃恢复测试内容{i}号") for i in range(6)]
    real = rt.worker().search

    class DiesAfterIndexing:
        def apply(self, session, entries):
            real.apply(session, entries[: len(entries) // 2])  # half reaches the index, then the crash
            raise Killed()

    with pytest.raises(Killed):
        rt.worker(search=DiesAfterIndexing()).drain_outbox()
    assert _pending(rt) >= len(ids)  # nothing was marked done
    _drain(rt)  # the restarted worker
    assert _pending(rt) == 0
    body = _search(make, "drafter", q="崩溃恢复测试", size=50).get_json()
    assert sorted(h["id"] for h in body["hits"]) == sorted(ids)


def test_delete_the_index_and_reindex_gives_identical_results(rt, make, people, monkeypatch, tmp_path):
    for i in range(5):
        _upload(rt, "drafter", f"重建测试{i}", f"档案重建内容，编号{i}，审批。")
    _drain(rt)
    queries = ["审批", "重建", "档", "编号3", "重建 -编号1"]
    before = [_search(make, "drafter", q=q, size=50).get_json() for q in queries]
    root = rt.settings.instance / "search"
    shutil.rmtree(root)
    rt.close()  # as a restarted process, it opens the (now empty) folder
    assert rt.search_engine.count() == 0
    monkeypatch.setenv("ARCHIVE_INSTANCE", str(rt.settings.instance))
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", rt.settings.database_url)
    result = CliRunner().invoke(__import__("archive_service.cli", fromlist=["main"]).main, ["reindex"],
                                catch_exceptions=False)
    assert result.exit_code == 0 and "indexed 5 documents" in result.output
    rt.search_engine.refresh(force=True)
    after = [_search(make, "drafter", q=q, size=50).get_json() for q in queries]
    for b, a in zip(before, after, strict=True):
        for body in (a, b):  # equal scores come in index order, which a rebuild may change
            body["hits"].sort(key=lambda h: (-round(h["score"], 4), h["id"]))
            for h in body["hits"]:
                h.pop("score")
        assert a == b


def test_extraction_failure_is_recorded_and_shown_on_the_document_page(rt, make, people):
    doc = _upload(rt, "drafter", "损坏的扫描件", b"%PDF-1.4\n%broken file\n", filename="broken.pdf")
    _drain(rt)
    with rt.factory() as s:
        row = s.scalar(select(TextExtraction).where(TextExtraction.document_id == doc))
        assert row.status == "failed" and row.error
    page = make.browser(people["drafter"]).get(f"/documents/{doc}").get_data(as_text=True)
    assert "全文提取失败" in page
    # the title is still searchable
    assert "损坏的<mark>扫描件</mark>" in make.browser(people["drafter"]).get("/search?q=扫描件").get_data(as_text=True)


def test_results_page_filters_paging_and_search_box_on_every_page(rt, make, people):
    for i in range(23):
        _upload(rt, "drafter", f"分页测试文件{i:02d}", "分页检索的正文内容。")
    _drain(rt)
    b = make.browser(people["drafter"])
    home = b.get("/").get_data(as_text=True)
    assert 'action="/search"' in home and 'name="q"' in home
    page = b.get("/search?q=分页检索").get_data(as_text=True)
    assert "共找到 23 件" in page and "下一页" in page and "<mark>分页检索</mark>" in page
    assert "市场准入审批股" in page and "(23)" in page
    page2 = b.get("/search?q=分页检索&page=2").get_data(as_text=True)
    assert "第 2 / 2 页" in page2
    none = b.get("/search?q=分页检索&year=1999").get_data(as_text=True)
    assert "没有找到符合条件的文档" in none
    bad = b.get('/search?q="分页')
    assert bad.status_code == 400 and "引号" in bad.get_data(as_text=True)


def test_in_process_worker_makes_a_commit_searchable_quickly(rt, make, people):
    worker = rt.worker()
    thread = worker.start_thread(rt.settings.worker_interval)
    try:
        doc = _upload(rt, "drafter", "即时可检索", "提交后应当很快可以检索到的内容。")
        deadline = time.monotonic() + 15
        found = False
        while time.monotonic() < deadline and not found:
            found = any(h["id"] == doc for h in _search(make, "drafter", q="很快可以检索").get_json()["hits"])
            time.sleep(0.1)
        assert found
    finally:
        worker.stop()
        thread.join(5)


def test_cli_import_corpus_and_search_status(rt, make, tmp_path, monkeypatch):
    import gzip
    import json

    from archive_service.cli import main

    drafter = make.user(username="drafter")
    make.document(drafter)
    make.document(drafter)
    path = tmp_path / "c.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for i in range(12):
            fh.write(json.dumps({"id": f"x-{i}", "title": f"条例 第{i}条", "body": f"导入的条文内容{i}。"},
                                ensure_ascii=False) + "\n")
        fh.write(json.dumps({"id": "bad", "title": "空", "body": ""}) + "\n")
    monkeypatch.setenv("ARCHIVE_INSTANCE", str(rt.settings.instance))
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", rt.settings.database_url)
    runner = CliRunner()
    out = runner.invoke(main, ["import-corpus", str(path), "--user", "drafter", "--batch", "5"], catch_exceptions=False)
    assert out.exit_code == 0 and "imported 12 documents" in out.output and "skipped 1" in out.output
    with rt.factory() as s:
        assert s.scalar(select(func.count()).select_from(TextExtraction)) == 12
        docs = s.scalars(select(Document).where(Document.title.like("条例%"))).all()
        assert len(docs) == 12 and all(d.versions for d in docs)
    status = runner.invoke(main, ["search", "status"], catch_exceptions=False).output
    assert "outbox pending: 14" in status and "engine: tantivy" in status
    _drain(rt)
    status = runner.invoke(main, ["search", "status"], catch_exceptions=False).output
    assert "indexed: 14 / documents in database: 14" in status and "outbox pending: 0" in status
    with rt.factory() as s:
        assert s.scalar(select(func.count()).select_from(IndexFailure)) == 0


def test_a_document_that_cannot_be_indexed_is_recorded_retried_and_cleared(rt, make, people, monkeypatch):
    from archive_service import indexing

    clock = FixedClock(rt.clock.now())
    rt.clock = clock
    good = _upload(rt, "drafter", "正常文件", "可以索引的正文。")
    bad = _upload(rt, "drafter", "有问题的文件", "无法索引的正文。")

    def broken(session, doc, record):
        if record["title"] == "有问题的文件":
            raise RuntimeError("字段转换出错")

    def drain(extenders) -> None:
        rt.worker(search=indexing.SearchIndexer(rt.search_engine, rt.store, rt.clock, extenders)).drain()

    drain({"file": [broken]})
    with rt.factory() as s:
        failure = s.get(IndexFailure, bad)
        assert failure is not None and failure.attempts == 1 and "字段转换出错" in failure.error
        assert s.get(IndexFailure, good) is None
    assert _search(make, "drafter", q="可以索引").get_json()["total"] == 1
    assert _search(make, "drafter", q="无法索引").get_json()["total"] == 0
    assert _pending(rt) == 1  # the retry, due after the backoff
    clock.advance(minutes=5)
    drain({})
    with rt.factory() as s:
        assert s.get(IndexFailure, bad) is None
    assert _search(make, "drafter", q="无法索引").get_json()["total"] == 1


def test_an_unreachable_search_backend_answers_503_and_the_worker_keeps_the_rows(rt, make, people):
    rt.settings.search_url = "http://127.0.0.1:9/?timeout=2"  # nothing listens on the discard port
    rt.close()  # reopened with the new URL
    _upload(rt, "drafter", "待索引文件", "正文。")
    assert rt.worker().drain_outbox() == 0
    with rt.factory() as s:
        row = s.scalars(select(OutboxEntry).where(OutboxEntry.processed_at.is_(None))).first()
        assert row.attempts == 1 and row.last_error
    resp = _search(make, "drafter", q="待索引")
    assert resp.status_code == 503 and resp.get_json()["error"]["message"] == "检索服务暂不可用，请稍后重试"
