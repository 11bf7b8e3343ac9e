"""In headless Chromium against a real server: 住建局's archivist builds a manifest, her leader signs,
审批局's archivist receives it, sees the report and accepts, his leader signs, and the 交接文据 downloads."""
from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
import requests

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


def assert_accessible(page):
    if AXE.exists():  # axe-core from tests/a11y (npm ci); test_accessibility fails loudly when it is missing
        assert axe_violations(page) == [], page.url


def act(page, label, reason=None):
    if reason is not None:
        page.fill("input[name=reason] >> nth=0", reason)
    page.click(f"form.inline-form button:text-is('{label}')")
    page.wait_for_load_state()


def test_build_sign_receive_accept_download(live_server, chromium):
    tag = uuid.uuid4().hex[:6]
    h = token(live_server, "zjj_staff")
    ids = []
    for n in range(3):
        title = f"建设工程规划许可{tag}-{n}"
        doc = requests.post(live_server + "/api/v1/documents", headers=h, data={"title": title},
                            files={"file": (f"{title}.pdf", io.BytesIO(make_pdf(title)), "application/pdf")}).json()
        item = requests.post(live_server + "/api/v1/archive/items", headers=h,
                             json={"document_id": doc["id"], "retention": "D10"})
        assert item.status_code == 201, item.text
        ids.append(item.json()["id"])

    ctx, page = login(chromium, live_server, "zjj_staff")
    page.goto(live_server + "/handovers")
    page.fill("#hv-name", f"许可档案移交{tag}")
    page.fill("#hv-desc", "划转审批局的建设工程规划许可档案")
    page.select_option("#hv-to", "SPJ")
    page.fill("#hv-items", ",".join(map(str, ids)))
    page.click("text=生成清单草稿")
    page.wait_for_selector("#hv-state:has-text('草稿')")
    url = page.url
    act(page, "提交")
    assert "已提交" in page.inner_text("#hv-state")
    ctx.close()

    ctx, page = login(chromium, live_server, "zjj_leader")
    page.goto(url)
    act(page, "签署", "同意移交")
    assert "已签署" in page.inner_text("#hv-state")
    ctx.close()

    ctx, page = login(chromium, live_server, "archivist")
    page.goto(live_server + "/handovers/incoming")
    page.click(f"text=许可档案移交{tag}")
    act(page, "接收并检验")
    assert "检验通过" in page.inner_text("#hv-report-summary")
    assert_accessible(page)  # the manifest page with its report
    act(page, "同意接收")
    assert "待接收方签署" in page.inner_text("#hv-state")
    for path in ("/handovers", "/handovers/incoming"):
        page.goto(live_server + path)
        assert_accessible(page)
    ctx.close()

    ctx, page = login(chromium, live_server, "signer")
    page.goto(url)
    act(page, "签署", "同意接收")
    assert "已接收" in page.inner_text("#hv-state")
    with page.expect_download() as info:
        page.click("text=下载交接文据（PDF）")
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/ByteRange") >= 2
    ctx.close()
