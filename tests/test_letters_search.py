"""Issued letters are found by their 发文字号 and text — by the issuer and the addressees only."""
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
