"""Extraction bombs (issue 7 finding 2): hostile files are refused or stopped by the sandbox's limits,
recorded as 未提取 with the reason and shown on the document page, while other documents keep
becoming searchable."""
from __future__ import annotations

import io
import os
import time

import pytest
from sqlalchemy import select

from archive_service.extract import DOCX, Limits
from archive_service.indexing_models import ExtractionJob, TextExtraction
from archive_service.models import Document, User
from archive_service.sandbox import Sandbox
from bombs import docx_bomb, huge_page_pdf, long_docx, png

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="the sandbox needs POSIX process groups")


@pytest.fixture
def sandbox():
    boxes = []

    def make(**limits):
        box = Sandbox(Limits(**limits))
        boxes.append(box)
        return box

    yield make
    for box in boxes:
        box.close()


def _text_of(rt, doc_id):
    with rt.factory() as s:
        return s.scalar(select(TextExtraction).where(TextExtraction.document_id == doc_id))


def _search_ids(client, headers, q):
    resp = client.get("/api/v1/search", query_string={"q": q, "size": 50}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return {h["id"] for h in resp.get_json()["hits"]}


def test_bombs_are_reported_while_another_document_becomes_searchable(rt, make):
    user = make.user(make.department(), "drafter")
    bombs = {
        make.document(user, docx_bomb(60), "炸弹.docx", "压缩炸弹文稿").id: "压缩比异常",
        make.document(user, huge_page_pdf(7200), "巨幅.pdf", "巨幅页面扫描件").id: "第 1 页幅面过大（2540×2540 mm",
        make.document(user, png(20000, 20000), "巨图.png", "巨幅图像扫描件").id: "图像过大（20000×20000 像素",
    }
    ordinary = make.document(user, "城东农贸市场食品经营许可现场核查纪要。".encode(), "纪要.txt", "现场核查纪要").id
    client, headers = make.api(user)
    worker = rt.worker()
    thread = worker.start_thread(0.1)
    try:
        deadline = time.monotonic() + 300  # a safety net for a stuck worker, not a performance limit
        while time.monotonic() < deadline:
            done = all(_text_of(rt, d) is not None for d in [*bombs, ordinary])
            if done and ordinary in _search_ids(client, headers, "食品经营许可现场核查"):
                break
            time.sleep(0.2)
    finally:
        worker.stop()
        thread.join(10)
    assert ordinary in _search_ids(client, headers, "食品经营许可现场核查")
    assert _text_of(rt, ordinary).status == "ok"
    browser = make.browser(user)
    for doc_id, reason in bombs.items():
        row = _text_of(rt, doc_id)
        assert row.status == "limited" and reason in row.error and row.text == "", (row.status, row.error)
        page = browser.get(f"/documents/{doc_id}").get_data(as_text=True)
        assert "未提取：" in page and reason in page
    # the bombs are still found by their titles, and nothing is left in the queue
    assert set(bombs) <= _search_ids(client, headers, "扫描件") | _search_ids(client, headers, "压缩炸弹")
    with rt.factory() as s:
        assert s.scalars(select(ExtractionJob)).all() == []


def test_docx_bomb_is_refused_before_parsing(sandbox):
    box = sandbox()
    result = box.extract(docx_bomb(60), DOCX, "bomb.docx")
    assert result.status == "limited" and "压缩比异常" in result.error and "上限 100:1" in result.error
    total = sandbox(max_unzipped=10 * 1024 * 1024, max_zip_ratio=100_000).extract(docx_bomb(20), DOCX, "b.docx")
    assert total.status == "limited" and "超过上限 10 MB" in total.error
    assert box.spawned == 1  # refused by a check, not by killing the child


def test_memory_limit_stops_a_decode_and_the_next_file_gets_a_fresh_child(sandbox):
    box = sandbox(memory_mb=300)
    result = box.extract(png(10000, 10000, color_type=2, bit_depth=8), "image/png", "big.png")  # 300 MB of RGB
    assert result.status == "limited" and "内存超过上限（300 MB）" in result.error
    after = box.extract("行政审批".encode(), "text/plain", "a.txt")
    assert after.status == "ok" and after.text == "行政审批" and box.spawned == 2


def test_cpu_limit_and_wall_clock_stop_a_slow_file(sandbox):
    slow = long_docx(100_000)  # honest compression, within every size limit, seconds of parsing
    cpu = sandbox(cpu_seconds=1, wall_seconds=600)
    result = cpu.extract(slow, DOCX, "long.docx")
    assert result.status == "limited" and "CPU 时间超过上限（1 秒）" in result.error
    wall = sandbox(cpu_seconds=600, wall_seconds=1)
    result = wall.extract(slow, DOCX, "long.docx")
    assert result.status == "limited" and "处理超时（超过 1 秒）" in result.error
    assert wall.extract("正文".encode(), "text/plain", "a.txt").text == "正文" and wall.spawned == 2


def test_stored_text_is_capped(sandbox):
    result = sandbox(max_chars=1000).extract(("审批" * 5000).encode(), "text/plain", "a.txt")
    assert result.status == "ok" and len(result.text) == 1000 and "仅保存前 1000 字" in result.error


def test_a_superseded_version_is_not_extracted(rt, make):
    user = make.user(make.department(), "drafter")
    doc = make.document(user, "第一版的正文内容".encode(), "a.txt", "两版文件")
    with rt.factory() as s:
        rt.documents(s).add_version(s.get(User, user.id), s.get(Document, doc.id),
                                    io.BytesIO("第二版的正文内容".encode()), "a.txt")
        s.commit()
    rt.worker().drain()
    with rt.factory() as s:
        rows = s.scalars(select(TextExtraction)).all()
        current = s.get(Document, doc.id).versions[-1]
        assert [(r.version_id, r.text) for r in rows] == [(current.id, "第二版的正文内容")]
        assert s.scalars(select(ExtractionJob)).all() == []
