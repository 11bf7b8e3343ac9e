"""In headless Chromium against a real server (the demo county): the bureau pushes an approval result →
the regulator claims it → attaches its penalty decision (反馈) → the bureau sees it on its record → the
county leader's 督办 page counts the claim; axe-core (WCAG 2.1 AA) on every page on the way."""
from __future__ import annotations

import uuid

import pytest

from live_server import login
from test_accessibility import AXE, axe_violations

pytestmark = pytest.mark.browser


def test_push_claim_feedback_dashboard(live_server, chromium):
    if not AXE.exists():
        pytest.skip("axe-core is not installed (cd tests/a11y && npm ci)")
    base = live_server
    applicant = f"石城县浏览器测试{uuid.uuid4().hex[:6]}餐饮店"
    problems: list = []

    def check(page):
        problems.extend({"page": page.url, **v} for v in axe_violations(page))

    # the bureau's section pushes a 小餐饮经营许可; the register sends it to 县市场监督管理局
    ctx, page = login(chromium, base, "drafter")
    page.goto(base + "/exchange/pushes")
    check(page)
    value = page.locator("select[name=matter_id] option", has_text="SC-005").get_attribute("value")
    page.select_option("select[name=matter_id]", value)
    page.fill("input[name=applicant]", applicant)
    page.fill("input[name=credit_code]", "91360735MA3ABCDE1X")
    page.fill("input[name=licence_no]", "JY13607350099999")
    page.click("form.card button[type=submit]")
    page.wait_for_url(base + "/exchange/pushes")
    assert "已推送至县市场监督管理局" in page.content()
    ctx.close()

    # the regulator's archivist claims it and feeds back its penalty decision
    ctx, page = login(chromium, base, "scjg_staff")
    assert applicant in page.content()  # 我的工作: the push to claim (no liaison filed for this pair)
    page.goto(base + "/exchange/claims")
    check(page)
    row = page.locator("tr", has_text=applicant)
    row.locator("input[name=note]").fill("已纳入日常监管")
    row.locator("button", has_text="认领").click()
    page.wait_for_url(base + "/exchange/claims")
    row = page.locator("tr", has_text=applicant)
    assert "已认领" in row.inner_text()
    row.locator("a").first.click()
    page.wait_for_selector("text=反馈监管信息")
    check(page)
    page.select_option("select[name=kind]", "penalty")
    page.fill("input[name=title]", "石市监罚〔2026〕88号 行政处罚决定书")
    page.fill("textarea[name=summary]", "警告并罚款人民币三千元。")
    page.click("text=提交反馈")
    page.wait_for_selector("text=已反馈，审批局可见")
    ctx.close()

    # the bureau sees the feedback on its record
    ctx, page = login(chromium, base, "drafter")
    assert "县市场监督管理局反馈行政处罚" in page.content()
    page.goto(base + "/exchange/pushes")
    page.locator("tr", has_text=applicant).locator("a").first.click()
    page.wait_for_selector("text=监管反馈")
    assert "警告并罚款人民币三千元。" in page.content()
    check(page)
    ctx.close()

    # the county leader's 督办 page: the claim counted for 县市场监督管理局, a chart and its table
    ctx, page = login(chromium, base, "signer")
    page.click("nav >> text=督办")
    page.wait_for_selector("svg[role=img]")
    check(page)
    # the first chart's table (the 逾期事项 table comes before the charts)
    row = page.locator("table", has_text="按部门合计").first.locator("tr", has_text="县市场监督管理局")
    cells = row.locator("td").all_inner_texts()
    assert int(cells[0]) >= 1 and int(cells[1]) >= 1  # 推送数, 按期认领
    with page.expect_download() as dl:
        page.click("text=导出 CSV")
    assert dl.value.suggested_filename.endswith(".csv")
    ctx.close()
    assert problems == [], problems
