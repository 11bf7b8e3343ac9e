"""发文字号: 机关代字 per organisation and kind, format, per-year gapless sequence, concurrency."""
import threading

import pytest
from sqlalchemy import select

from archive_service.errors import Forbidden, Unprocessable
from archive_service.models import Department, User
from correspondence.issuing import Issuing
from correspondence.letters import LetterService
from correspondence.numbering import NUMBER_RE, Numbering, format_number
from letters_support import LETTER
from tests_support import PG_ONLY


def test_format_has_hexagonal_brackets_and_no_leading_zeros():
    assert format_number("石审批函", 2026, 7) == "石审批函〔2026〕7号"
    m = NUMBER_RE.match(format_number("石市监函", 2026, 10))
    assert m and (m["prefix"], m["year"], m["seq"]) == ("石市监函", "2026", "10")
    assert not NUMBER_RE.match("石审批函[2026]07号")


def test_prefixes_sequences_and_the_admin_table(rt, county):
    with rt.factory() as s:
        dept = {d.code: d for d in s.scalars(select(Department))}
        users = {u.username: u for u in s.scalars(select(User))}
        n = Numbering(s, rt.clock)
        assert n.prefix_for(dept["SCZR"], "letter") == n.prefix_for(dept["SPJ"], "letter") == "石审批函"
        assert n.prefix_for(dept["SCJG"], "letter") == "石市监函"
        assert [n.next_number("石审批函", 2026)[0] for _ in range(3)] == [
            "石审批函〔2026〕1号", "石审批函〔2026〕2号", "石审批函〔2026〕3号"]
        assert n.next_number("石审批函", 2027)[0] == "石审批函〔2027〕1号"  # a new year starts at 1
        with pytest.raises(Forbidden):
            n.set_prefix(users["drafter"], dept["SPJ"], "letter", "石审函")
        with pytest.raises(Unprocessable, match="审批局"):
            n.set_prefix(users["admin"], dept["SCZR"], "letter", "石准入函")
        with pytest.raises(Unprocessable):
            n.set_prefix(users["admin"], dept["SPJ"], "letter", "石审〔函")
        n.set_prefix(users["admin"], dept["SPJ"], "letter", "石审管函")
        assert n.prefix_for(dept["SCZR"], "letter") == "石审管函"
        new = Department(name="县应急管理局", code="YJJ", kind="regulator", created_at=rt.clock.now())
        s.add(new)
        s.flush()
        with pytest.raises(Unprocessable, match="机关代字"):
            n.prefix_for(new, "letter")
        s.commit()


def test_admin_edits_the_table_over_the_api(clients):
    client, admin = clients("admin")
    rows = client.get("/api/v1/agency-codes", headers=admin).get_json()["items"]
    spj = next(r for r in rows if r["department"] == "县行政审批局" and r["kind"] == "letter")
    assert spj["prefix"] == "石审批函"
    resp = client.put("/api/v1/agency-codes", headers=admin,
                      json={"department_id": spj["department_id"], "kind": "letter", "prefix": "石审管函"})
    assert resp.status_code == 200
    _, drafter = clients("drafter")
    assert client.put("/api/v1/agency-codes", headers=drafter, json=resp.get_json()).status_code == 403


@PG_ONLY
def test_32_parallel_registrations_get_exactly_1_to_32(rt, county):
    with rt.transaction() as s:
        users = {u.username: u for u in s.scalars(select(User))}
        svc = LetterService(s, rt.documents(s), rt.clock)
        ids = []
        for i in range(32):
            letter = svc.create_draft(users["drafter"], **{**LETTER, "title": f"并发登记测试函{i}"})
            for who, action, op in [("drafter", "submit", ""), ("reviewer", "pass", ""), ("signer", "sign", "同意"),
                                    ("clerk", "recheck", "")]:
                svc.act(users[who], letter, action, letter.content_sha256, op)
            ids.append(letter.id)
    barrier = threading.Barrier(32)
    numbers, errors = [], []

    def register(letter_id):
        barrier.wait()  # before taking a connection: the pool holds fewer than 32
        try:
            with rt.transaction() as s:  # each registration is one unit of work
                user = s.scalar(select(User).where(User.username == "clerk"))
                issuing = Issuing(s, rt.documents(s), rt.clock)
                letter = issuing.letters.get(user, letter_id)
                numbers.append(issuing.register(user, letter, letter.content_sha256))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(int(NUMBER_RE.match(n)["seq"]) for n in numbers) == list(range(1, 33))
