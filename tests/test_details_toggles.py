"""Clerk-facing pages keep digests and MIME types behind a 详情 toggle (<details>): a clerk sees the file's
format in words; the hashes are there for whoever opens the toggle."""
from __future__ import annotations

import io
from html.parser import HTMLParser

from letters_support import act, draft, signed_off


class _Outside(HTMLParser):
    """The page's visible text outside <details> elements (and outside <script>/<style> and attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth, self.skip, self.text = 0, 0, []

    def handle_starttag(self, tag, attrs):
        self.depth += tag == "details"
        self.skip += tag in {"script", "style"}

    def handle_endtag(self, tag):
        self.depth -= tag == "details"
        self.skip -= tag in {"script", "style"}

    def handle_data(self, data):
        if not self.depth and not self.skip:
            self.text.append(data)


def outside_details(html: str) -> str:
    p = _Outside()
    p.feed(html)
    return "".join(p.text)


def test_document_pages_hide_digests_and_mime_types_behind_details(make, rt):
    b = make.browser(make.user())
    resp = b.post("/documents/upload", content_type="multipart/form-data",
                  data={"title": "会议材料", "file": (io.BytesIO("联席会议材料".encode()), "会议材料.txt")})
    doc_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    with rt.factory() as s:
        from archive_service.models import Document
        blob = s.get(Document, doc_id).versions[-1].blob
        sha256, sm3 = blob.sha256, blob.sm3
    for url in (f"/documents/{doc_id}", "/documents", "/"):
        page = b.get(url).get_data(as_text=True)
        visible = outside_details(page)
        assert "会议材料" in visible and "文本文件" in visible, url  # the format in words
        for hidden in (sha256[:12], sm3[:12], "text/plain", "SHA-256"):
            assert hidden not in visible, (url, hidden)
        assert sha256 in page and "<summary>详情</summary>" in page, url  # one click away


def test_the_letter_page_keeps_version_digests_and_the_draft_json_behind_details(clients, make, county):
    letter = signed_off(clients, draft(clients))
    assert act(clients, "clerk", letter, "issue").status_code == 200
    page = make.browser(county["clerk"]).get(f"/letters/{letter['id']}").get_data(as_text=True)
    visible = outside_details(page)
    assert "处理过程" in visible and "文稿版本" in visible
    assert "SHA-256" not in visible and "JSON" not in visible
    assert "下载文稿数据（JSON）" in page and page.count("<summary>详情</summary>") >= 4
