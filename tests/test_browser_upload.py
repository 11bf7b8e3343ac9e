"""In headless Chromium: log in as a demo user, upload a Chinese-named PDF, see it listed, download it.

The live server is shared by the session's browser tests (the README test uploads the shipped 审批档案-测试.pdf):
this file's name is its own."""
import pytest

from archive_service.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n" + bytes(range(256)) * 64)


def test_upload_and_download_byte_identical(live_server, chromium, tmp_path):
    source = tmp_path / "浏览器上传-审批档案.pdf"
    source.write_bytes(PDF)
    context = chromium.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("input[name=username]", "drafter")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/")
    page.click("text=上传")
    page.set_input_files("input[name=file]", str(source))
    page.click("button:has-text('上传')")
    page.wait_for_selector("h1:has-text('浏览器上传-审批档案')")
    assert "application/pdf" in page.content()
    page.click("nav >> text=文档")
    row = page.locator("tr", has_text="浏览器上传-审批档案.pdf")
    assert row.count() == 1
    row.locator("a").first.click()
    with page.expect_download() as info:
        page.click("text=下载当前版本")
    download = info.value
    assert download.suggested_filename == "浏览器上传-审批档案.pdf"
    target = tmp_path / "downloaded.pdf"
    download.save_as(target)
    assert target.read_bytes() == PDF
    page.goto(page.url)
    assert "下载文档" in page.content()
    context.close()


def test_wrong_password_shows_a_generic_chinese_message(live_server, chromium):
    page = chromium.new_page()
    page.goto(live_server + "/login")
    page.fill("input[name=username]", "drafter")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "用户名或密码错误"
    page.close()
