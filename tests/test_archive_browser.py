"""In headless Chromium against a real server: the archivist files three issued letters in one go,
opens an item (metadata, parts, 归档章 copy, check report) and downloads the catalogue."""
from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
import requests
from openpyxl import load_workbook

from archive_service.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def token(base, username):
    resp = requests.post(base + "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
    resp.raise_for_status()
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def issued_letter(base, title):
    who = {u: token(base, u) for u in ("drafter", "reviewer", "signer", "clerk")}
    letter = requests.post(base + "/api/v1/letters", headers=who["drafter"], json={
        "title": title, "to": ["县市场监督管理局"], "body": ["特此函告。"],
        "note": "联系人：张伟，电话：0797-1234567"}).json()
    for user, action, opinion in (("drafter", "submit", ""), ("reviewer", "pass", ""), ("signer", "sign", "同意"),
                                  ("clerk", "recheck", ""), ("clerk", "register", ""), ("clerk", "issue", "")):
        resp = requests.post(f"{base}/api/v1/letters/{letter['id']}/actions", headers=who[user],
                             json={"action": action, "version_sha256": letter["version_sha256"], "opinion": opinion})
        assert resp.status_code == 200, (action, resp.text)
    return letter["id"]


def test_file_three_letters_open_the_item_download_the_catalogue(live_server, chromium):
    tag = uuid.uuid4().hex[:6]
    titles = [f"关于档案浏览器测试{tag}的函{n}" for n in "一二三"]
    for t in titles:
        issued_letter(live_server, t)

    context = chromium.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("input[name=username]", "archivist")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/")
    assert "待归档" in page.content()

    page.click("nav >> text=档案")
    page.click(".archive-nav >> text=归档")
    for t in titles:
        page.check(f"tr:has-text('{t}') input[name=ref]")
    page.select_option("select[name=retention]", "D10")
    page.select_option("select[name=unit]", "SCZR")
    page.click("#file-selected")
    page.wait_for_selector("text=已归档 3 件")
    codes = page.locator(".archive-filed td.mono").all_inner_texts()
    assert len(codes) == 3 and all("-WS·" in c and "-D10-SCZR-" in c for c in codes)
    numbers = sorted(int(c[-4:]) for c in codes)
    assert numbers == list(range(numbers[0], numbers[0] + 3))  # consecutive 件号

    page.click(f".archive-filed >> text={codes[0]}")
    page.wait_for_selector("#archival-code")
    assert page.locator("#archival-code").inner_text() == codes[0]
    assert page.locator(".archive-parts tr").count() == 5  # header + PDF, DOCX, 公文处理单, 归档章副本
    assert "通过" in page.locator(".archive-checks").inner_text()
    with page.expect_download() as dl:
        page.click("#stamped-copy")
    assert dl.value.suggested_filename.endswith(".pdf")

    year = codes[0].split("·")[1][:4]
    page.click(".archive-nav >> text=归档文件目录")
    page.select_option("select[name=year]", year)
    page.select_option("select[name=retention]", "D10")
    page.select_option("select[name=unit]", "SCZR")
    with page.expect_download() as dl:
        page.click("#export-catalogue")
    wb = load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[1][:3] == ("序号", "档号", "文号")
    listed = [r[1] for r in rows[2:]]
    assert [c for c in listed if c in codes] == sorted(codes)
    titles_listed = [r[4] for r in rows[2:] if r[1] in codes]
    assert set(titles_listed) == set(titles)
    context.close()
