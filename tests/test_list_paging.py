"""Long lists at county scale: keyset paging (after/before/from), counts kept without scanning the
table, a fixed number of queries per page, and plans that use the list indexes."""
from __future__ import annotations

import io
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from archive_service.db import pg_connect_options
from archive_service.listing import parse_instant, round_estimate
from archive_service.models import Document, DocumentCount, DocumentGrant, User


def _user(s, name):
    return s.scalar(select(User).where(User.username == name))


def _make_docs(rt, username, n, start=datetime(2025, 1, 1, 0, 0)):
    """n documents of the user's department, one per day from ``start`` (UTC)."""
    ids = []
    with rt.factory() as s:
        user = _user(s, username)
        for i in range(n):
            doc = rt.documents(s).upload(user, io.BytesIO(f"文档 {username} {i}".encode()), f"第{i}号.txt")
            ids.append(doc.id)
        for i, doc_id in enumerate(ids):
            s.execute(update(Document).where(Document.id == doc_id).values(updated_at=start + timedelta(days=i)))
        s.commit()
    return ids


@contextmanager
def statements(engine):
    seen: list[tuple[str, object]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _walk(client, headers, url, key="after"):
    ids, cursor, pages = [], None, 0
    while True:
        body = client.get(url + (f"&{key}={cursor}" if cursor else ""), headers=headers).get_json()
        ids += [d["id"] for d in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return ids, body, pages


def test_documents_page_by_cursor_newest_first_back_and_forth_and_by_date(rt, clients):
    own = _make_docs(rt, "scjg_staff", 23)
    client, h = clients("scjg_staff")
    with rt.factory() as s:
        expected = [d.id for d in s.scalars(select(Document).where(
            Document.department_id == _user(s, "scjg_staff").department_id)
            .order_by(Document.updated_at.desc(), Document.id.desc()))]
    assert set(own) <= set(expected)
    ids, last, pages = _walk(client, h, "/api/v1/documents?size=5")
    assert ids == expected and pages == -(-len(expected) // 5)
    assert last["total"] == len(expected) and last["total_estimated"] is False

    first = client.get("/api/v1/documents?size=5", headers=h).get_json()
    second = client.get(f"/api/v1/documents?size=5&after={first['next_cursor']}", headers=h).get_json()
    assert first["prev_cursor"] is None and second["prev_cursor"]
    back = client.get(f"/api/v1/documents?size=5&before={second['prev_cursor']}", headers=h).get_json()
    assert [d["id"] for d in back["items"]] == [d["id"] for d in first["items"]] and back["prev_cursor"] is None

    # 跳转到日期: the 11th document is dated 2025-01-11 00:00 UTC = 08:00 Beijing time
    jumped = client.get("/api/v1/documents?size=3&from=2025-01-11", headers=h).get_json()
    assert [d["id"] for d in jumped["items"]] == [own[10], own[9], own[8]]
    assert jumped["from"] == "2025-01-12T00:00:00+08:00" and jumped["prev_cursor"]
    offset = client.get("/api/v1/documents?size=1&from=2025-01-11T07:59:59%2B08:00", headers=h).get_json()
    assert offset["items"][0]["id"] == own[9]  # the 11th is at 08:00 Beijing, after the given moment
    assert client.get("/api/v1/documents?after=garbage", headers=h).status_code == 400
    assert client.get("/api/v1/documents?from=yesterday", headers=h).status_code == 400
    assert client.get("/api/v1/documents?page=2&size=5", headers=h).get_json()["page"] == 2  # still works


def test_granted_documents_are_listed_and_counted(rt, clients):
    [mine] = _make_docs(rt, "zjj_staff", 1, start=datetime(2025, 6, 1))
    with rt.factory() as s:
        scjg = _user(s, "scjg_staff").department_id
        s.add(DocumentGrant(document_id=mine, department_id=scjg, reason="recipient", granted_at=datetime(2025, 6, 1)))
        s.commit()
        own_count = s.scalar(select(DocumentCount.n).where(DocumentCount.department_id == scjg)) or 0
    client, h = clients("scjg_staff")
    ids, last, _ = _walk(client, h, "/api/v1/documents?size=4")
    assert mine in ids and last["total"] == own_count + 1 == len(ids)
    other, oh = clients("wjw_staff")
    assert mine not in _walk(other, oh, "/api/v1/documents?size=50")[0]


def test_trigger_kept_counts_follow_inserts_moves_and_deletes(rt, county):
    ids = _make_docs(rt, "wjw_staff", 3)
    with rt.factory() as s:
        wjw = _user(s, "wjw_staff").department_id
        zjj = _user(s, "zjj_staff").department_id

        def counts():
            s.expire_all()
            return {d: s.scalar(select(DocumentCount.n).where(DocumentCount.department_id == d)) or 0
                    for d in (wjw, zjj)}

        def actual(d):
            return len(s.scalars(select(Document.id).where(Document.department_id == d)).all())

        assert counts() == {wjw: actual(wjw), zjj: actual(zjj)}
        s.execute(update(Document).where(Document.id == ids[0]).values(department_id=zjj))
        s.execute(update(Document).where(Document.id == ids[1]).values(title="只改标题"))
        s.execute(Document.__table__.delete().where(Document.id == ids[2]))
        s.flush()
        assert counts() == {wjw: actual(wjw), zjj: actual(zjj)}


def test_list_pages_issue_a_fixed_number_of_queries(rt, make, county, clients):
    """No query whose number grows with the list: the same statements for 3 or 30 documents."""
    client, h = clients("wjw_staff")
    page = make.browser(county["wjw_staff"])
    auditor = make.browser(county["auditor"])

    def count(fn):
        with statements(rt.engine) as seen:
            assert fn().status_code == 200
        return len(seen)

    _make_docs(rt, "wjw_staff", 3)
    client.get("/api/v1/documents?size=1", headers=h)  # a token's first use in the hour is recorded (one write)
    small = [count(lambda: client.get("/api/v1/documents?size=20", headers=h)),
             count(lambda: page.get("/documents")), count(lambda: page.get("/")),
             count(lambda: auditor.get("/audit/")),
             count(lambda: client.get("/api/v1/documents?size=20&from=2025-01-02", headers=h))]
    _make_docs(rt, "wjw_staff", 30, start=datetime(2024, 1, 1))
    large = [count(lambda: client.get("/api/v1/documents?size=20", headers=h)),
             count(lambda: page.get("/documents")), count(lambda: page.get("/")),
             count(lambda: auditor.get("/audit/")),
             count(lambda: client.get("/api/v1/documents?size=20&from=2025-01-02", headers=h))]
    assert small == large


def _plan(engine, statement, parameters) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")  # tiny test tables: ask whether an index serves it
            rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).fetchall()
        else:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
    return "\n".join(str(r[-1]) for r in rows)


@pytest.mark.parametrize("url, table, index", [
    ("/api/v1/documents?size=20", "FROM documents", "ix_documents_department_updated"),
    ("/api/v1/audit?size=20&actor=admin", "FROM audit_events", "ix_audit_events_actor_name_id"),
    ("/api/v1/audit?size=20&target=1", "FROM audit_events", "ix_audit_events_target_id_id"),
])
def test_list_queries_use_their_index_without_sorting(rt, clients, url, table, index):
    _make_docs(rt, "auditor", 3)
    client, h = clients("auditor")
    with statements(rt.engine) as seen:
        assert client.get(url, headers=h).status_code == 200
    [(statement, parameters)] = [(st, p) for st, p in seen if table in st and "LIMIT" in st and "count" not in st
                                 and "ORDER BY" in st][:1]
    plan = _plan(rt.engine, statement, parameters)
    assert index in plan, plan
    if rt.engine.dialect.name == "postgresql":
        assert "Index" in plan and "Seq Scan" not in plan and "Sort" not in plan, plan
    else:
        assert "TEMP B-TREE" not in plan and "SCAN audit_events\n" not in plan, plan


def test_estimates_are_rounded_and_times_read_as_beijing():
    assert round_estimate(147_288) == 147_000 and round_estimate(999) == 999 and round_estimate(12_345) == 12_300
    assert parse_instant("2026-03-05T09:30") == datetime(2026, 3, 5, 1, 30)
    assert parse_instant("2026-03-05T09:30:00+08:00") == parse_instant("2026-03-05T01:30:00Z")
    assert parse_instant("2026-03-05") == datetime(2026, 3, 4, 16, 0)


def _issued_letters(rt, make, county, n, start=datetime(2025, 3, 1)):
    """n letters from the bureau to 县市场监督管理局, marked issued (the inbox lists issued letters)."""
    from correspondence.models import Letter

    letters = [make.letter(county["drafter"], to=["县市场监督管理局"], title=f"关于第{i}项工作的函")
               for i in range(n)]
    with rt.factory() as s:
        for i, letter in enumerate(letters):
            s.execute(update(Letter).where(Letter.id == letter.id).values(issued_at=start + timedelta(days=i)))
        s.commit()
    return [letter.id for letter in letters]


def test_letter_inbox_and_meeting_lists_issue_a_fixed_number_of_queries(rt, make, county, clients):
    client, scjg = clients("scjg_staff")
    _, drafter = clients("drafter")
    scjg_page, drafter_page = make.browser(county["scjg_staff"]), make.browser(county["drafter"])

    def count(fn):
        with statements(rt.engine) as seen:
            resp = fn()
            assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        return len(seen)

    def all_counts():
        return [count(lambda: client.get("/api/v1/inbox", headers=scjg)), count(lambda: scjg_page.get("/inbox")),
                count(lambda: client.get("/api/v1/letters", headers=drafter)),
                count(lambda: drafter_page.get("/letters")), count(lambda: drafter_page.get("/")),
                count(lambda: scjg_page.get("/")),
                count(lambda: client.get("/api/v1/meetings", headers=drafter)),
                count(lambda: drafter_page.get("/meetings"))]

    def meetings(n):
        for i in range(n):
            make.meeting(county["drafter"], date.today() + timedelta(days=30 + i),
                         participants=[{"department": "SCJG"}], title=f"第{i}次审管衔接会议")

    _issued_letters(rt, make, county, 2)
    meetings(1)
    all_counts()  # a token's first use in the hour is recorded (one write, not counted)
    small = all_counts()
    _issued_letters(rt, make, county, 9, start=datetime(2024, 3, 1))
    meetings(4)
    assert all_counts() == small


def test_inbox_pages_by_cursor(rt, make, county, clients):
    ids = _issued_letters(rt, make, county, 7)
    client, scjg = clients("scjg_staff")
    seen, cursor = [], None
    while True:
        body = client.get("/api/v1/inbox?size=3" + (f"&after={cursor}" if cursor else ""), headers=scjg).get_json()
        seen += [i["letter_id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == ids[::-1]
    jumped = client.get("/api/v1/inbox?size=2&from=2025-03-03", headers=scjg).get_json()
    assert [i["letter_id"] for i in jumped["items"]] == [ids[2], ids[1]]


def test_document_list_page_counts_pages_and_jumps_to_a_date(rt, make, county):
    import re

    _make_docs(rt, "zjj_staff", 25)
    page = make.browser(county["zjj_staff"])
    first = page.get("/documents").get_data(as_text=True)
    assert "共 25 件" in first and "跳转到日期" in first and 'name="from"' in first
    older = re.search(r'href="(/documents\?after=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = page.get(older).get_data(as_text=True)
    assert "← 较新" in second and "第24号.txt" not in second and "第4号.txt" in second
    jumped = page.get("/documents?from=2025-01-03").get_data(as_text=True)
    assert "自 2025-01-03 起" in jumped and "第2号.txt" in jumped and "第3号.txt" not in jumped
    assert "回到最新" in jumped


def test_letters_and_meetings_page_by_cursor_with_next_links(rt, make, county, clients):
    """The letters work lists and the meetings list page with after= (the next link carries the cursor);
    walking every page gives the whole list once, in order; a bad cursor is 400."""
    from correspondence.models import Letter

    ids = _issued_letters(rt, make, county, 5)
    for i in range(5):
        make.meeting(county["drafter"], date.today() + timedelta(days=30 + i),
                     participants=[{"department": "SCJG"}], title=f"第{i}次审管衔接会议")
    client, drafter = clients("drafter")
    whole = client.get("/api/v1/letters", headers=drafter).get_json()
    assert whole["next_cursor"] is None and whole["next"] is None

    def letter_ids(body):
        return [x["id"] for key, rows in body.items() if key not in ("next_cursor", "next") for x in rows]

    with rt.factory() as s:
        expected = list(s.scalars(select(Letter.id).where(Letter.id.in_(letter_ids(whole)))
                                  .order_by(Letter.updated_at.desc(), Letter.id.desc())))
    assert set(ids) <= set(expected)
    seen, url, pages = [], "/api/v1/letters?size=2", 0
    while url:
        body = client.get(url, headers=drafter).get_json()
        page_ids = letter_ids(body)
        assert len(page_ids) <= 2
        seen += sorted(page_ids, key=expected.index)
        pages += 1
        url = body["next"]
        assert (url is None) == (body["next_cursor"] is None)
        assert url is None or ("size=2" in url and f"after={body['next_cursor']}" in url)
    assert seen == expected and pages == -(-len(expected) // 2)

    everything = [m["id"] for m in client.get("/api/v1/meetings", headers=drafter).get_json()["items"]]
    assert len(everything) == 5
    seen, url = [], "/api/v1/meetings?size=2"
    while url:
        body = client.get(url, headers=drafter).get_json()
        seen += [m["id"] for m in body["items"]]
        url = body["next"]
    assert seen == everything
    for bad in ("/api/v1/letters?after=xyz", "/api/v1/meetings?after=xyz"):
        resp = client.get(bad, headers=drafter)
        assert resp.status_code == 400 and "游标" in resp.get_json()["error"]["message"]


def test_letter_list_query_uses_its_index(rt, make, county, clients):
    """The letters page walks ix_letters_updated_at_id (the meetings page: the test below, with a
    table large enough for the planners to choose)."""
    url, table, index = "/api/v1/letters?size=2", "FROM letters", "ix_letters_updated_at_id"
    _issued_letters(rt, make, county, 3)
    client, drafter = clients("drafter")
    with statements(rt.engine) as seen:
        assert client.get(url, headers=drafter).status_code == 200
    [(statement, parameters)] = [(st, p) for st, p in seen if table in st and "LIMIT" in st
                                 and "ORDER BY" in st][:1]
    plan = _plan(rt.engine, statement, parameters)
    assert index in plan, plan


def test_meeting_list_walks_its_date_index_and_checks_participation_by_index(rt, make, county, clients):
    """With thousands of meetings (most of other departments), a page of the meetings list reads
    ix_meetings_date_id newest first and checks each meeting's participants through their index: no
    scan of every participant row per request, no sort of every visible meeting."""
    from sqlalchemy import insert, text

    from archive_service.models import Department
    from correspondence.meeting_models import Meeting, MeetingParticipant

    make.meeting(county["drafter"], date.today() + timedelta(days=30), participants=[{"department": "SCJG"}])
    n, start = 3000, date(2017, 1, 1)
    with rt.factory() as s:
        depts = s.scalars(select(Department.id).order_by(Department.id)).all()
        chair = county["admin"].id
        first = (s.scalar(select(Meeting.id).order_by(Meeting.id.desc()).limit(1)) or 0) + 1
        rows = [{"id": first + k, "kind": "joint", "title": f"第{k}次会议", "convener_id": depts[k % len(depts)],
                 "chair_id": chair, "meeting_date": start + timedelta(days=k), "materials_deadline": start,
                 "deadline_rule": "", "status": "held", "created_by": chair, "created_at": datetime(2017, 1, 1),
                 "updated_at": datetime(2017, 1, 1)} for k in range(n)]
        s.execute(insert(Meeting), rows)
        s.execute(insert(MeetingParticipant), [{"meeting_id": r["id"], "department_id": depts[(k * 7) % len(depts)],
                                                "capacity": "member"} for k, r in enumerate(rows)])
        s.commit()
    with rt.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    client, drafter = clients("drafter")
    with statements(rt.engine) as seen:
        assert client.get("/api/v1/meetings?size=20", headers=drafter).status_code == 200
    [(statement, parameters)] = [(st, p) for st, p in seen if "FROM meetings" in st and "LIMIT" in st][:1]
    with rt.engine.connect() as conn:  # the planner's own choice (tables analysed), nothing forced
        explain = "EXPLAIN " if rt.engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
        plan = "\n".join(str(r[-1]) for r in conn.exec_driver_sql(explain + statement, parameters))
    assert "ix_meetings_date_id" in plan, plan
    if rt.engine.dialect.name == "postgresql":
        # (the few departments and users joined for the names may be read whole)
        assert "Sort" not in plan and "Seq Scan on meeting" not in plan, plan
    else:
        assert "TEMP B-TREE" not in plan and "SCAN meeting_participants" not in plan, plan


def test_archive_candidates_read_each_departments_documents_oldest_first_by_index(rt, clients):
    """待归档: one ordered range of ix_documents_department_created per department of the organisation,
    not every document of the organisation read and sorted on each request (the archivist's home page)."""
    ids = _make_docs(rt, "drafter", 3)  # 审批局's archivist holds its sections' records (SCZR among them)
    client, h = clients("archivist")
    with statements(rt.engine) as seen:
        body = client.get("/api/v1/archive/candidates", headers=h).get_json()
    assert set(ids) <= {b["ref"].get("document_id") for b in body["items"]}
    [(statement, parameters)] = [(st, p) for st, p in seen if "FROM documents" in st and "LIMIT" in st
                                 and "created_at" in st.split("ORDER BY")[-1]][:1]
    plan = _plan(rt.engine, statement, parameters)
    assert "ix_documents_department_created" in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def test_home_page_activity_reads_the_users_and_departments_events_by_their_index(rt, make, county):
    """最近动态 on the home page: when the user has many events but all old, and 20,000 newer ones are
    other people's, each scan is a range of its (column, id) index, not the primary key walked backwards
    (which reads every newer event: 173 ms at 490,000 events on PostgreSQL)."""
    from sqlalchemy import insert, text

    from archive_service.models import AuditEvent

    page = make.browser(county["drafter"])
    with rt.factory() as s:
        for who, n, start in (("drafter", 10_000, datetime(2025, 1, 1)), ("wjw_staff", 20_000, datetime(2026, 1, 1))):
            user = _user(s, who)
            s.execute(insert(AuditEvent), [
                {"at": start + timedelta(seconds=k), "actor_id": user.id, "actor_name": user.username,
                 "department_id": user.department_id, "action": "document.download", "target_type": "document",
                 "target_id": str(k), "details": "{}", "prev_hash": "0" * 64, "hash": "0" * 64} for k in range(n)])
        s.commit()
    with rt.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    with statements(rt.engine) as seen:
        assert page.get("/").status_code == 200
    scans = [(st, p) for st, p in seen if "FROM audit_events" in st and "LIMIT" in st]
    assert len(scans) == 2
    for statement, parameters in scans:
        with rt.engine.connect() as conn:  # the planner's own choice, nothing forced
            explain = "EXPLAIN " if rt.engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
            plan = "\n".join(str(r[-1]) for r in conn.exec_driver_sql(explain + statement, parameters))
        if rt.engine.dialect.name == "postgresql":
            assert "_id_id" in plan and "pk_audit_events" not in plan and "Sort" not in plan, plan
        else:
            assert "USING" in plan and "INDEX ix_audit_events_" in plan and "TEMP B-TREE" not in plan, plan


def test_postgresql_plans_every_statement_for_its_parameters(rt):
    """psycopg prepares a statement after five runs; PostgreSQL must still plan each run for its values
    (a generic plan of the granted-documents count read all 147,000 documents at county scale)."""
    if rt.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite plans each statement as it runs")
    with rt.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_custom_plan"


@pytest.mark.dbless
def test_the_urls_own_connection_options_are_kept():
    options = pg_connect_options("postgresql+psycopg://root@127.0.0.1/test?options=-csearch_path%3Dbench_1")
    assert options == "-csearch_path=bench_1 -c plan_cache_mode=force_custom_plan"
    assert pg_connect_options("postgresql+psycopg://root@127.0.0.1/test") == "-c plan_cache_mode=force_custom_plan"
