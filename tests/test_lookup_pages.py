"""The lookup pages with the Flask client: 调阅 (catalogue search, new request), the request page with
per-item decisions, the reader, 调阅审批, and 我的工作 entries with the due date."""
from __future__ import annotations

from datetime import datetime

import pytest

from archive_service.clock import FixedClock
from archive_support import setup_archive
from letters_support import demo_clients  # noqa: F401  (fixture)
from lookup_support import shared_item


@pytest.fixture
def county(demo, demo_clients):  # noqa: F811
    demo.clock = FixedClock(datetime(2026, 2, 12, 2, 0))
    setup_archive(demo)
    return demo_clients


def test_pages_request_decide_read(county, browser, demo):
    item = shared_item(county, "zjj_staff", "园林绿化工程验收材料", pages=2)
    web = browser("scjg_staff")
    page = web.get("/lookups?q=园林绿化")
    assert page.status_code == 200 and item["archival_code"] in page.get_data(as_text=True)
    resp = web.post("/lookups", data={"item_id": item["id"],
                                       f"form_{item['id']}": "copy", "purpose": "核查", "days": "3",
                                       "contact": "0797-1"})
    assert resp.status_code == 302
    detail_url = resp.headers["Location"]
    html = web.get(detail_url).get_data(as_text=True)
    assert "已提交" in html and "2026-02-24" in html

    holder = browser("zjj_staff")
    home = holder.get("/").get_data(as_text=True)
    assert "待审批的调阅申请" in home and "2026-02-24" in home
    queue = holder.get("/lookups/queue").get_data(as_text=True)
    assert "县市场监督管理局" in queue
    assert "同意" in holder.get(detail_url).get_data(as_text=True)
    assert holder.post(detail_url + "/actions", data={"action": "approve"}).status_code == 302
    html = web.get(detail_url).get_data(as_text=True)
    assert "调阅中" in html and "下载复制件" in html
    reader = web.get(f"/lookups/read/{item['id']}")
    assert reader.status_code == 200 and reader.get_data(as_text=True).count("/view/") == 2
    assert web.get(f"/lookups/read/{item['id'] + 999}").status_code == 404
    log = holder.get(detail_url).get_data(as_text=True)
    assert "lookup.view" in log
