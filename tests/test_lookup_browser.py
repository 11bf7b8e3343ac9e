"""In headless Chromium against a real server: search → 申请调阅 → the holder approves → read the pages →
download the watermarked copy → return early; axe-core (WCAG 2.1 AA) on every lookup page on the way."""
from __future__ import annotations

import io
import time
import uuid
from pathlib import Path

import pytest
import requests
from pypdf import PdfReader

from archive_service.demo import DEMO_PASSWORD
from archive_support import make_pdf
from live_server import login as live_login
from test_accessibility import AXE, axe_violations

pytestmark = pytest.mark.browser


def token(base, username):
    resp = requests.post(base + "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
    resp.raise_for_status()
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def login(chromium, base, username):
    return live_login(chromium, base, username, accept_downloads=True)


def test_search_request_approve_read_copy_return(live_server, chromium):
    if not AXE.exists():
        pytest.skip("axe-core is not installed (cd tests/a11y && npm ci)")
    base = live_server
    tag = uuid.uuid4().hex[:6]
    title = f"调阅浏览器测试{tag}验收材料"
    holder = token(base, "zjj_staff")
    doc = requests.post(base + "/api/v1/documents", headers=holder, files={"file": (f"{tag}.pdf", make_pdf(title, 2))},
                        data={"title": title}).json()
    item = requests.post(base + "/api/v1/archive/items", headers=holder,
                         json={"document_id": doc["id"], "retention": "D30"}).json()
    assert requests.patch(f"{base}/api/v1/archive/items/{item['id']}", headers=holder,
                          json={"catalogue": True}).json()["catalogue"] is True
    problems: list[dict] = []

    def axe(page):
        problems.extend({"page": page.url, **v} for v in axe_violations(page))

    ctx, page = login(chromium, base, "scjg_staff")
    for _ in range(60):  # the server's worker indexes the shared item in the background
        page.goto(base + f"/search?q={title}")
        if page.locator("a.lookup-ask").count():
            break
        time.sleep(0.5)
    page.click("a.lookup-ask")
    page.wait_for_selector(f"text={item['archival_code']}")
    axe(page)
    page.check(f"#pick-{item['id']}")
    page.select_option(f"select[name=form_{item['id']}]", "copy")
    page.fill("#purpose", "核查许可条件")
    page.fill("#days", "5")
    page.fill("#contact", "0797-1234567")
    page.click("text=申请调阅 >> nth=-1")
    page.wait_for_selector("#lookup-state:has-text('已提交')")
    axe(page)
    detail = page.url

    hctx, hpage = login(chromium, base, "zjj_staff")
    assert "待审批的调阅申请" in hpage.content()
    hpage.goto(base + "/lookups/queue")
    axe(hpage)
    hpage.goto(detail)
    axe(hpage)
    hpage.click("button[value=approve]")
    hpage.wait_for_selector("#lookup-state:has-text('调阅中')")

    page.goto(detail)
    page.click("text=在线查阅")
    page.wait_for_selector("img[alt='第 2 页']")
    assert page.evaluate("() => Array.from(document.images).filter(i => i.alt.startsWith('第')).every("
                         "i => i.complete && i.naturalWidth > 0)") or page.wait_for_function(
        "() => Array.from(document.images).filter(i => i.alt.startsWith('第')).every(i => i.naturalWidth > 0)")
    axe(page)
    page.goto(detail)
    with page.expect_download() as dl:
        page.click("text=下载复制件")
    data = Path(dl.value.path()).read_bytes()
    pages = PdfReader(io.BytesIO(data)).pages
    assert len(pages) == 2 and all("县市场监督管理局" in p.extract_text() for p in pages)
    page.click("button[value=return]")
    page.wait_for_selector("#lookup-state:has-text('已归还')")
    reader = token(base, "scjg_staff")
    assert requests.get(f"{base}/api/v1/archive/items/{item['id']}/view", headers=reader).status_code == 403

    hpage.goto(detail)
    assert hpage.locator("text=lookup.copy").count() == 1 and hpage.locator("text=lookup.view").count() >= 2
    ctx.close()
    hctx.close()
    assert not problems, problems
