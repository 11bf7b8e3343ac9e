"""Catalogue search (GET /api/v1/catalogue) through the trigram indexes of migration custody_0001: substring
matches on 题名 / 档号 / 文号 of shared items only, keyset paging, metadata kept in step when an item
changes, and queries shorter than a trigram answered from a bounded window with a cursor to go on."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import insert, select, update

from archive_service.archive.models import ArchiveItem, Fonds, ItemPart
from archive_service.lookup import service as lookup_service
from archive_service.models import Document

NOW = datetime(2026, 2, 12, 2, 0)


@pytest.fixture
def catalogue(make):
    """A holder with 30 filed items (ids ascending); every third one is not shared."""
    holder = make.department(name="县住房和城乡建设局", code="ZJJ")
    archivist = make.user(holder, "archivist")
    reader = make.user(make.department(name="县市场监督管理局", code="SCJG"))
    s = make.s
    fonds = Fonds(department_id=holder.id, code="J012", name=holder.name)
    s.add(fonds)
    s.flush()
    first_doc = (s.scalar(select(Document.id).order_by(Document.id.desc()).limit(1)) or 0) + 1
    ids = []
    for i in range(30):
        title = ["关于施工许可事项的批复", "竣工验收备案_50%完成情况", "规划条件核实\"意见\""][i % 3] + f"（第{i}号）"
        s.execute(insert(Document), [{
            "id": first_doc + i, "title": title, "kind": "archive", "department_id": holder.id,
            "created_by": archivist.id, "created_at": NOW, "updated_at": NOW, "current_version": 1, "revision": 1,
            "catalogue": i % 3 != 2 or i == 29}])
        item_id = s.execute(insert(ArchiveItem).values(
            archival_code=f"J012-WS·2025-D30-BGS-{i + 1:04d}", fonds_id=fonds.id, department_id=holder.id,
            fonds="J012", category="WS", year=2025, retention="D30", unit="BGS", item_number=i + 1, title=title,
            doc_number=f"石建批〔2025〕{100 + i}号", responsible=holder.name, doc_date=date(2025, 1, 1),
            doc_type="批复", secrecy="非密", pages=1, remarks="", source_type="import", source_id=str(i),
            part_count=1, filed_by=archivist.id, filed_at=NOW)).inserted_primary_key[0]
        s.execute(insert(ItemPart), [{
            "item_id": item_id, "document_id": first_doc + i, "version": 1, "role": "main", "position": 0,
            "filename": f"{i}.pdf", "size": 1, "media_type": "application/pdf", "sha256": "0" * 64,
            "sm3": "0" * 64}])
        ids.append(item_id)
    s.commit()
    client, h = make.api(reader)

    def search(q: str, **kw) -> dict:
        resp = client.get("/api/v1/catalogue", query_string={"q": q, **kw}, headers=h)
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    search.browser = lambda: make.browser(reader)  # type: ignore[attr-defined]
    return search, ids, s


def titles(page: dict) -> list[str]:
    return [i["title"] for i in page["items"]]


@pytest.fixture(params=["scan", "index"])
def through(request, monkeypatch):
    """SQLite scans the newest FTS_HEAD items before asking its FTS5 table: "index" makes it ask at once
    (in small chunks); PostgreSQL's planner chooses by itself."""
    if request.param == "index":
        monkeypatch.setattr(lookup_service, "FTS_HEAD", 2)
        monkeypatch.setattr(lookup_service, "FTS_CHUNK", 3)


def test_substring_on_title_code_and_number_of_shared_items_only(catalogue, through):
    search, ids, _ = catalogue
    shared = [i for n, i in enumerate(ids) if n % 3 != 2 or n == 29]
    found = search("施工许可")["items"]
    assert [i["id"] for i in found] == [i for n, i in reversed(list(enumerate(ids))) if n % 3 == 0]
    assert all("施工许可" in i["title"] and "body" not in i for i in found)
    assert [i["id"] for i in search("BGS-0007")["items"]] == [ids[6]]  # 档号
    assert [i["id"] for i in search("〔2025〕104号")["items"]] == [ids[4]]  # 文号
    assert [i["id"] for i in search("条件核实")["items"]] == [ids[29]]  # the only shared one of its kind
    # wildcards and quotes are literal text, not patterns
    assert [i["id"] for i in search("_50%完成")["items"]] == [i for i in reversed(shared) if ids.index(i) % 3 == 1]
    assert search("50%x")["items"] == [] and search("验收_备案")["items"] == []
    assert [i["id"] for i in search('实"意见"')["items"]] == [ids[29]]
    assert search("无此题名")["items"] == [] and search("无此题名")["next_after"] is None


def test_keyset_pages_cover_every_hit_once(catalogue, through):
    search, ids, _ = catalogue
    seen, after = [], None
    while True:
        page = search("J012-WS", size=4, **({"after": after} if after else {}))
        seen += [i["id"] for i in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    expected = [i for n, i in enumerate(ids) if n % 3 != 2 or n == 29]
    assert seen == sorted(expected, reverse=True)


def test_changed_metadata_is_found_by_its_new_title(catalogue, through):
    search, ids, s = catalogue
    s.execute(update(ArchiveItem).where(ArchiveItem.id == ids[0]).values(title="关于燃气经营许可的批复"))
    s.commit()
    assert [i["id"] for i in search("燃气经营")["items"]] == [ids[0]]
    assert ids[0] not in [i["id"] for i in search("施工许可")["items"]]


def test_short_query_scans_a_bounded_window_and_gives_a_cursor(catalogue, monkeypatch):
    search, ids, _ = catalogue
    monkeypatch.setattr(lookup_service, "SHORT_WINDOW", 10)
    first = search("批复")  # 2 characters: no trigram; the newest 10 items are scanned
    assert [i["id"] for i in first["items"]] == [ids[n] for n in (27, 24, 21)]
    assert first["next_after"] == ids[20]
    second = search("批复", after=first["next_after"])
    assert [i["id"] for i in second["items"]] == [ids[n] for n in (18, 15, 12)]
    third = search("批复", after=second["next_after"])
    assert [i["id"] for i in third["items"]] == [ids[n] for n in (9, 6, 3, 0)] and third["next_after"] is None
    empty = search("无")  # a window with no match still says where to go on
    assert empty["items"] == [] and empty["next_after"] == ids[20]


def test_the_page_says_a_short_query_is_windowed_and_links_the_next_page(catalogue, monkeypatch):
    search, ids, _ = catalogue
    monkeypatch.setattr(lookup_service, "SHORT_WINDOW", 10)
    page = search.browser().get("/lookups", query_string={"q": "批复"}).get_data(as_text=True)
    assert "每页只检索最新的一段目录" in page and f"after={ids[20]}" in page and "下一页" in page
    assert "J012-WS·2025-D30-BGS-0028" in page and "J012-WS·2025-D30-BGS-0019" not in page
