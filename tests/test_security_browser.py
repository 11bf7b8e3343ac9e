"""Issue 7 finding 13 in Chromium: the pages' scripts run under the Content-Security-Policy (served
from /static, no inline script) and no page triggers a CSP violation."""
import pytest

from archive_service.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_scripts_work_under_the_csp(live_server, chromium):
    context = chromium.new_context()
    page = context.new_page()
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(live_server + "/login")
    page.fill("input[name=username]", "drafter")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/meetings/new")
    page.fill("#meeting_date", "2025-10-09")
    page.dispatch_event("#meeting_date", "change")
    page.wait_for_function("document.getElementById('deadline-info').textContent.includes('2025-09-28')")
    # the minutes page's 预览 (static/js/meeting-minutes.js) opens the preview with what was typed
    page.goto(live_server + "/meetings")
    href = page.locator("a[href^='/meetings/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href')).filter(h => /^\\/meetings\\/\\d+$/.test(h))")[0]
    page.goto(live_server + href + "/minutes")
    page.fill("textarea[name=decisions]", "由县市场监督管理局牵头核查")
    with context.expect_page() as popup:
        page.click("#preview")
    assert "/minutes/preview.pdf?title=" in popup.value.url and "decisions=" in popup.value.url
    for url in ("/", "/letters", "/meetings", "/documents", "/letters/999999"):
        page.goto(live_server + url)
    assert violations == []
    context.close()
