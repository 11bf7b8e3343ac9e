"""Issued letters are found by their 发文字号 and text — by the issuer and the addressees only."""
import itertools

from letters_support import draft, signed_off
from test_letters_inbox import issue


def _drain(rt):
    rt.worker().drain()  # search outbox and extraction queue


def _search(clients, who, q):
    client, headers = clients(who)
    resp = client.get("/api/v1/search", query_string={"q": q}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_issued_letter_is_searchable_by_number_for_its_recipients(clients, rt):
    drafted = draft(clients, body=["关于城东农贸市场食品经营许可集中审批的有关问题。"])
    letter = issue(clients, signed_off(clients, drafted))
    number = letter["number"]
    _drain(rt)
    for who in ("drafter", "scjg_staff", "wjw_staff"):   # issuer, 主送, 抄送
        found = _search(clients, who, f"文号:{number}")
        hits = [h for h in found["hits"] if number in h.get("numbers", [])]
        assert hits, (who, found)
        assert any(h["kind"] == "letter" for h in hits)
        if who != "drafter":  # addressees see the issued letter, never the internal drafts or 处理单
            assert {h["kind"] for h in hits} == {"letter"}
    assert _search(clients, "scjg_staff", "城东农贸市场")["total"] >= 1
    outsider = _search(clients, "zjj_staff", "城东农贸市场")
    assert outsider["total"] == 0 and outsider["hits"] == []


LONG_BODY = ["根据《石城县行政审批与监管协调联动管理办法（试行）》第二十二条规定，"
             "我局在办理城东农贸市场食品经营许可集中审批过程中，"
             "发现经营场所与营业执照载明的住所不一致的情形较多，摊位调整较为频繁，申请人难以及时办理住所变更登记，"
             "请贵局就此类情形的监管要求提出意见，并于十个工作日内函复我局审批二股。",
             "另有部分申请人提交的布局流程图与现场核查情况不符，从业人员健康证明已过有效期，需要双方共同研究处理办法。",
             "特此函商。"]


def _pdf_lines(clients, who, doc_id) -> list[str]:
    """The PDF's lines as pypdf reads them (before the extractor joins wrapped lines)."""
    import io

    from pypdf import PdfReader

    client, headers = clients(who)
    resp = client.get(f"/api/v1/documents/{doc_id}/content", headers=headers)
    assert resp.status_code == 200 and resp.data[:5] == b"%PDF-"
    return [line for page in PdfReader(io.BytesIO(resp.data)).pages for line in page.extract_text().split("\n")]


def test_every_phrase_across_a_line_break_of_an_issued_letter_is_found(clients, rt):
    import re

    from search.analysis import CJK_CLASS

    letter = issue(clients, signed_off(clients, draft(clients, body=LONG_BODY)))
    _drain(rt)
    lines = _pdf_lines(clients, "scjg_staff", letter["final_document_id"])
    token = re.compile(f"[{CJK_CLASS}0-9A-Za-z]")
    windows = set()
    for before, after in itertools.pairwise(lines):
        joined, at = before + after, len(before)
        for k in range(1, 6):   # k characters before the break, 6 - k after it
            a, b = at - k, at + 6 - k
            w = joined[a:b]
            # a window that cuts a number or Latin word in two is no phrase anyone searches
            cuts = any(joined[i - 1:i + 1].isascii() and joined[i - 1:i + 1].isalnum()
                       for i in (a, b) if 0 < i < len(joined))
            if len(w) == 6 and all(token.match(c) for c in w) and not cuts:
                windows.add(w)
    assert len(windows) >= 20, windows     # the title and body wrap over many lines
    missed = [w for w in sorted(windows)
              if not any(h.get("group") == f"letter:{letter['id']}" for h in _search(clients, "scjg_staff", w)["hits"])]
    assert missed == [], f"{len(missed)}/{len(windows)} phrases across a line break not found: {missed[:10]}"


def test_a_letter_appears_once_with_its_matching_parts_named(clients, rt):
    drafted = draft(clients, body=["关于城西物流园区危险化学品经营许可的有关问题。", "特此函商。"])
    letter = issue(clients, signed_off(clients, drafted))
    _drain(rt)
    found = _search(clients, "drafter", "城西物流园区")          # the issuer sees draft, final and sheet
    mine = [h for h in found["hits"] if h.get("group") == f"letter:{letter['id']}"]
    assert len(mine) == 1, found["hits"]
    parts = {p["part"] for p in mine[0]["parts"]}
    assert {"文稿", "正式文件"} <= parts, mine[0]["parts"]
    assert mine[0]["part"] in parts
    # the draft is indexed as its text fields, never its JSON
    client, headers = clients("drafter")
    assert _search(clients, "drafter", "\"body\"")["total"] == 0
    assert _search(clients, "drafter", "urgency")["total"] == 0
    # the 文号 ranks the letter first, also as a plain query
    for q in (letter["number"], f"文号:{letter['number']}"):
        assert _search(clients, "scjg_staff", q)["hits"][0]["group"] == f"letter:{letter['id']}"
    page = client.get("/search", query_string={"q": "城西物流园区"}, headers=headers)
    assert page.status_code in (200, 302)
