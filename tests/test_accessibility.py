"""WCAG 2.1 AA in headless Chromium: axe-core on every page each demo role reaches, reflow at 320 px,
a skip link, and form errors that move focus to the first invalid field.

axe-core comes from npm (tests/a11y/package.json, installed by `make test` with `npm ci`). It is
evaluated in the page through the DevTools protocol, so the Content-Security-Policy (no inline script)
stays on.

The pages are found by walking the links each role sees (navigation and in-page links, one page per
URL pattern: /documents/7 and /documents/8 are one pattern) from ``START`` plus ``KNOWN_PAGES``.
A feature that adds a page reachable from the navigation is covered automatically; add a page that no
link reaches (or that needs a query string) to ``KNOWN_PAGES``.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from live_server import login

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

#: demo accounts whose pages are walked (together they hold every role)
ROLES = ["drafter", "reviewer", "signer", "archivist", "admin", "auditor", "liaison_sczr", "scjg_staff",
         "scjg_leader"]
START = ["/"]
#: pages no link leads to, or worth checking in a particular state; extend when adding such a page
KNOWN_PAGES = [
    "/documents", "/documents/upload", "/search?q=审批", "/search?q=", "/letters", "/inbox", "/meetings",
    "/meetings/new", "/render/preview", "/signatures/verify", "/audit/", "/audit/?verify=1",
    "/letters/agency-codes", "/meetings/1/minutes", "/admin/", "/account/tokens",
    "/lookups", "/lookups?q=材料", "/lookups/queue",
    "/exchange/matters", "/exchange/pushes", "/exchange/claims", "/exchange/revocations", "/exchange/notices",
    "/exchange/dashboard", "/liaisons", "/admin/calendar?year=2027",
    "/handovers", "/handovers/incoming",
    "/no-such-page",  # the error page
]
#: never followed: downloads, files, exports, logout, and query variants of lists
SKIP = re.compile(r"/(download|content|files|export\.csv|logout)\b|\.(pdf|docx|csv|json)(\?|$)|preview\.pdf"
                  r"|[?&](after|before|version)=|^/api/|^/static/|^/healthz|^/readyz")
MAX_PAGES_PER_ROLE = 60
PATTERN_QUERY_KEYS = {"q", "verify"}


def pattern(url: str) -> str:
    parts = urlsplit(url)
    path = re.sub(r"/\d+(?=/|$)", "/<id>", parts.path)
    keys = {k.split("=")[0] for k in parts.query.split("&") if k}
    query = "&".join(sorted(keys & PATTERN_QUERY_KEYS))  # facet/filter variants of a page count once
    return path + ("?" + query if query else "")


WIDEST = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > 321
               && !(e.parentElement && e.parentElement.getBoundingClientRect().right > 321))
  .slice(0, 6).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                   + (e.name ? '[name=' + e.name + ']' : '')
                   + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')"""


def axe_violations(page) -> list[dict]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    return [{"rule": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5], "count": len(v["nodes"])}
            for v in result["violations"]]


def same_site_links(page, base) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    out = []
    for href in hrefs:
        url = urljoin(page.url, href)
        if not url.startswith(base):
            continue
        path = url[len(base):].split("#")[0] or "/"
        if not SKIP.search(path):
            out.append(path)
    return out


def role_pages(page, base) -> list[str]:
    """Pages that depend on the data a role sees: a stored PDF's signature report, a draft letter's edit form."""
    found = []
    docs = page.request.get(base + "/api/v1/documents?size=100").json().get("items", [])
    found += [f"/signatures/documents/{d['id']}" for d in docs if d["media_type"] == "application/pdf"][:1]
    drafts = page.request.get(base + "/api/v1/letters").json().get("drafts", [])
    found += [f"/letters/{x['id']}/edit" for x in drafts][:1]
    return found


def check_page(page, base, path, problems, seen_widths):
    resp = page.goto(base + path)
    assert resp is not None
    for v in axe_violations(page):
        problems.append({"page": path, **v})
    page.set_viewport_size({"width": 320, "height": 640})
    width = page.evaluate("() => document.documentElement.scrollWidth")
    seen_widths[path] = width
    if width > 320:  # name the elements that stick out, for the failure message
        seen_widths[path + " (too wide)"] = page.evaluate(WIDEST)
    page.set_viewport_size({"width": 1280, "height": 800})


@pytest.fixture(scope="module")
def axe_ready():
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci --prefix tests/a11y` (make test does)")


def test_every_page_has_no_axe_violations_and_reflows_at_320px(live_server, chromium, axe_ready):
    checked: dict[str, str] = {}  # pattern -> first path checked
    problems: list[dict] = []
    widths: dict[str, int] = {}
    for role in ROLES:
        ctx, page = login(chromium, live_server, role, viewport={"width": 1280, "height": 800})
        queue: list[str] = []
        for path in START:  # this role's navigation, even where its pages were checked for another role
            page.goto(live_server + path)
            queue += same_site_links(page, live_server)
        queue += KNOWN_PAGES + role_pages(page, live_server)
        visited = 0
        while queue and visited < MAX_PAGES_PER_ROLE:
            path = queue.pop(0)
            key = pattern(path)
            if key in checked:
                continue
            checked[key] = path
            visited += 1
            check_page(page, live_server, path, problems, widths)
            queue += [p for p in same_site_links(page, live_server) if pattern(p) not in checked]
        ctx.close()
    anonymous = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = anonymous.new_page()
    for path in ("/login",):
        checked[path] = path
        check_page(page, live_server, path, problems, widths)
    anonymous.close()

    report = Path(__file__).parent / "a11y" / "last-report.json"  # the whole list, when the message is cut
    report.write_text(json.dumps({"checked": checked, "problems": problems, "widths": widths},
                                 ensure_ascii=False, indent=1), encoding="utf-8")
    # the walk reached the pages the issue names (a draft's edit form too, when a role has a draft)
    for must in ("/", "/documents", "/documents/<id>", "/documents/upload", "/search?q", "/letters",
                 "/letters/<id>", "/inbox", "/meetings", "/meetings/<id>", "/render/preview",
                 "/signatures/verify", "/audit/", "/admin/departments", "/admin/users", "/admin/calendar",
                 "/admin/liaisons", "/letters/agency-codes", "/meetings/<id>/minutes", "/no-such-page", "/login",
                 "/signatures/documents/<id>"):
        assert must in checked, (must, sorted(checked))
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
    too_wide = {p: w for p, w in widths.items() if not isinstance(w, int) or w > 320}
    assert not too_wide, f"sideways scrolling at 320 px: {too_wide}"


def test_skip_link_moves_to_the_main_content(live_server, chromium):
    ctx, page = login(chromium, live_server, "drafter")
    page.goto(live_server + "/documents")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.textContent, document.activeElement.getAttribute('href')]")
    assert focused == ["跳到主要内容", "#main"]
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    ctx.close()


def test_form_errors_focus_the_first_invalid_field(live_server, chromium):
    ctx = chromium.new_context()
    page = ctx.new_page()
    page.goto(live_server + "/login")
    page.fill("input[name=username]", "drafter")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    page.wait_for_selector("[role=alert]")
    active = page.evaluate("() => [document.activeElement.name, document.activeElement.getAttribute('aria-invalid'),"
                           " document.activeElement.getAttribute('aria-describedby')]")
    assert active[:2] == ["username", "true"] and active[2]
    assert page.locator(f"#{active[2]}").inner_text() == "用户名或密码错误"
    ctx.close()

    ctx, page = login(chromium, live_server, "drafter")
    page.goto(live_server + "/documents/upload")
    page.fill("input[name=title]", "可执行文件")
    page.set_input_files("input[name=file]", files=[{"name": "a.exe", "mimeType": "application/octet-stream",
                                                      "buffer": b"MZ\x90\x00" + bytes(512)}])
    page.click("main button[type=submit]")
    page.wait_for_selector("input[name=file][aria-invalid=true]")
    assert _focused_invalid_field(page) == ["file", "true"]

    # a letter without 主送: the service names the field, the page focuses it (not the template form above)
    page.goto(live_server + "/letters/new")
    page.fill("form.letter-form input[name=title]", "关于无主送机关的函")
    page.fill("form.letter-form textarea[name=body]", "正文。")
    page.click("form.letter-form button[type=submit]")
    page.wait_for_selector("[role=alert][data-field=to]")
    assert _focused_invalid_field(page) == ["to", "true"]
    ctx.close()


def _focused_invalid_field(page) -> list:
    """[name, aria-invalid] of the focused element, once the page's script has moved the focus (it runs
    after the error page's markup is there: reading at once raced it)."""
    page.wait_for_function("() => document.activeElement && document.activeElement.hasAttribute('aria-invalid')",
                           timeout=5000)
    return page.evaluate("() => [document.activeElement.name, document.activeElement.getAttribute('aria-invalid')]")


def test_calendar_marks_holidays_in_text(live_server, chromium):
    ctx, page = login(chromium, live_server, "admin")
    page.goto(live_server + "/admin/calendar?year=2026")
    text = page.locator("main").inner_text()
    assert "休" in text and "班" in text  # holidays and make-up working days are named, not only coloured
    ctx.close()
