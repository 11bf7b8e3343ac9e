"""In headless Chromium against a real server: drafter drafts → reviewer returns → drafter edits →
signer signs → letter issued → the regulator signs for it and replies."""
import re

import pytest

from live_server import login as live_login

pytestmark = pytest.mark.browser

TITLE = "关于商请协助研究食品经营许可有关问题的函（浏览器测试）"


def login(chromium, base, username):
    return live_login(chromium, base, username, accept_downloads=True)


def act(page, action, opinion=None):
    form = page.locator(f"form:has(button[data-action={action}])")
    if opinion is not None:
        form.locator("input[name=opinion]").fill(opinion)
    form.locator("button").click()
    page.wait_for_load_state()


def test_letter_from_draft_to_reply(live_server, chromium):
    ctx, page = login(chromium, live_server, "drafter")
    page.click("nav >> text=公文收发")
    page.click("text=新建函")
    page.select_option("select[name=template]", "consultation")
    page.fill("input[name=subject]", "食品经营许可")
    page.click("button:has-text('套用模板')")
    page.fill("input[name=title]", TITLE)
    page.fill("fieldset.picker-to input[type=search]", "市场")  # the searchable picker
    page.check("fieldset.picker-to label[data-name='县市场监督管理局'] input")
    page.check("fieldset.picker-cc label[data-name='县卫生健康委员会'] input")
    page.click("button:has-text('保存草稿')")
    page.wait_for_selector("h1:has-text('浏览器测试')")
    letter_url = page.url
    assert re.search(r"/letters/\d+$", letter_url)
    act(page, "submit")
    assert page.locator(".letter-state").inner_text() == "核稿"

    rctx, reviewer = login(chromium, live_server, "reviewer")
    assert TITLE in reviewer.content()  # 待核稿 on the home page
    reviewer.goto(letter_url)
    act(reviewer, "return", "请补充法律依据")
    assert reviewer.locator(".letter-state").inner_text() == "拟稿"

    page.goto(letter_url)
    assert "请补充法律依据" in page.content()
    page.click("text=修改文稿")
    body = page.locator("textarea[name=body]")
    body.fill(body.input_value() + "\n依据《中华人民共和国行政许可法》。")
    page.click("button:has-text('保存')")
    page.wait_for_selector("text=已保存为新版本")
    act(page, "submit")
    reviewer.goto(letter_url)
    act(reviewer, "pass", "可以")

    sctx, signer = login(chromium, live_server, "signer")
    signer.goto(letter_url)
    act(signer, "sign", "同意印发")
    assert signer.locator(".letter-state").inner_text() == "复核"

    cctx, clerk = login(chromium, live_server, "clerk")  # the bureau's 办公室
    clerk.goto(letter_url)
    act(clerk, "recheck")
    act(clerk, "register")
    number = clerk.locator(".letter-number").inner_text()
    assert re.fullmatch(r"石审批函〔\d{4}〕[1-9]\d*号", number)
    clerk.once("dialog", lambda dialog: dialog.accept())  # 印发 asks for confirmation
    act(clerk, "issue")
    assert clerk.locator(".letter-state").inner_text() == "已印发"
    with clerk.expect_download() as info:
        clerk.click("text=下载 PDF（已签名）")
    assert info.value.suggested_filename == f"{number}.pdf"

    octx, office = login(chromium, live_server, "scjg_clerk")  # the regulator's 办公室
    office.goto(live_server + "/inbox")
    row = office.locator("tr.inbox-row", has_text=TITLE)
    row.locator("button:has-text('签收')").click()
    office.wait_for_load_state()
    assert "已签收" in office.locator("tr.inbox-row", has_text=TITLE).inner_text()
    office.locator("tr.inbox-row", has_text=TITLE).locator("button:has-text('登记')").click()
    office.wait_for_load_state()
    office.locator("tr.inbox-row", has_text=TITLE).locator("a", has_text=TITLE).click()
    office.click("button:has-text('初审通过')")
    office.wait_for_selector("text=初审通过，请拟办")
    office.fill("input[name=opinion][required][size='30']", "请市场经办人研究答复")
    office.click("button:has-text('拟办')")
    office.wait_for_selector("text=已拟办")
    item_url = office.url

    lctx, leader = login(chromium, live_server, "scjg_leader")
    leader.goto(item_url)
    leader.select_option("select[name=handler]", label="市场经办人（县市场监督管理局）")
    leader.click("button:has-text('批办（交办）')")
    leader.wait_for_selector("text=已交办")

    gctx, regulator = login(chromium, live_server, "scjg_staff")
    regulator.goto(item_url)
    assert regulator.locator(".inbox-state").inner_text() == "承办中"
    regulator.click("button:has-text('答复（起草复函）')")
    regulator.wait_for_selector("text=已起草复函")
    regulator.click("button:has-text('保存')")
    regulator.wait_for_selector("h1:has-text('复函')")
    assert number in regulator.content()  # the reply names and links the original
    regulator.click(f"a:has-text('{TITLE}')")
    assert regulator.locator(".letter-thread").count() == 1
    for context in (ctx, rctx, sctx, cctx, octx, lctx, gctx):
        context.close()
