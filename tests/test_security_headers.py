"""Issue 7 finding 13: security headers and a Content-Security-Policy without inline script; the
page's and the API's letter preview follow one rule."""
import re

from letters_support import act, draft, signed_off
from security_support import Client, department, make_app, user


def test_every_response_has_the_security_headers(rt):
    app = make_app(rt)
    c = Client(app)
    assert c.login(user(rt, department(rt), "drafter")).status_code == 302
    for url in ("/login", "/", "/documents", "/api/v1/me", "/healthz", "/static/js/meeting-new.js"):
        resp = c.get(url)
        assert resp.status_code == 200, url
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"]
    csp = c.get("/").headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    assert script_src.strip() == "'self'" and "unsafe-inline" not in script_src
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert c.get("/static/js/meeting-new.js").mimetype == "text/javascript"


def test_no_template_has_inline_script():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "templates"
    offenders = []
    for path in root.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text) \
                or "javascript:" in text:
            offenders.append(path.name)
    assert offenders == []


def test_page_and_api_preview_follow_one_rule(clients):
    letter = signed_off(clients, draft(clients))
    assert act(clients, "clerk", letter, "issue").status_code == 200
    client, drafter = clients("drafter")
    _, scjg = clients("scjg_staff")  # 主送: reads the issued letter, not its draft
    for url in (f"/api/v1/letters/{letter['id']}/preview", f"/letters/{letter['id']}/preview.pdf"):
        assert client.get(url, headers=drafter).status_code == 200, url
        assert client.get(url, headers=scjg).status_code == 404, url
    assert client.get(f"/api/v1/letters/{letter['id']}", headers=scjg).status_code == 200
