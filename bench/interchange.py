"""Benchmark of 审管互动 (issue 13), on SQLite and on PostgreSQL.

(a) the worker's automatic-claim pass over 100,000 pushes of which 1,000 are past their due day
    (target ≤ 2 s): one ``job()`` of the worker (the feature's housekeeping job), which claims, grants,
    notifies both sides and audits each due push;
(b) the 督办 page (GET /exchange/dashboard, the SVG charts and tables) with 100,000 pushes and 20,000
    revocation requests (target p95 ≤ 150 ms), and GET /api/v1/dashboard, through the Flask app;
(c) POST /api/v1/pushes to 3 regulators (target ≤ 50 ms; p50/p95 over ``--pushes`` requests).

Rows are bulk-inserted (spread over the year, states mixed) into the small county of the tests.
Reports wall and CPU time (time.process_time) and the load average: the machine is shared.

    .venv/bin/python bench/interchange.py [--db sqlite|pg|both] [--pushes-total 100000] [--revocations 20000]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# bench/search.py would shadow the search package: this folder leaves the path, the tests' helpers join it
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, (time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def database(kind: str, tmp: Path):
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'bench.sqlite3'}", None
    from sqlalchemy import create_engine, text

    name = f"bench_interchange_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name, drop


def run(kind: str, n_pushes: int, n_due: int, n_revocations: int, n_requests: int, n_pages: int) -> dict:
    from sqlalchemy import insert, select

    from archive_service.clock import FixedClock
    from archive_service.runtime import Runtime
    from archive_service.settings import Settings
    from archive_service.wiring import FEATURES
    from correspondence.exchange import counts
    from correspondence.exchange.feature import FEATURE
    from correspondence.exchange.models import ApprovalRecord, Push, Revocation
    from correspondence.exchange.service import ExchangeService
    from factories import Make, small_county

    tmp = Path(tempfile.mkdtemp(prefix="bench-interchange-"))
    url, drop = database(kind, tmp)
    out: dict = {"db": kind}
    rt = Runtime.build(Settings.from_env(env={"ARCHIVE_INSTANCE": str(tmp / "instance"),
                                              "ARCHIVE_DATABASE_URL": url}, testing=True), features=FEATURES)
    try:
        rt.migrate()
        rt.clock = FixedClock(datetime(2026, 11, 30, 2, 0))  # Monday 2026-11-30, 10:00 in China
        make = Make(rt)
        county = small_county(make)
        depts = {u.department.code: u.department for u in county.values()}
        with rt.transaction() as s:
            svc = ExchangeService(s, rt.clock)
            admin = s.get(type(county["admin"]), county["admin"].id)
            m = svc.save_matter(admin, code="SC-001", name="食品经营许可", section="SCZR", regulators=["SCJG"])
            matter_id = m.id
        regs = [depts["SCJG"].id, depts["ZJJ"].id, depts["WJW"].id]
        section, creator = depts["SCZR"].id, county["drafter"].id
        today = rt.clock.today()
        rnd = random.Random(13)
        t0 = time.perf_counter()
        with rt.transaction() as s:
            batch = 10_000
            for start in range(0, n_pushes, batch):
                recs = [{"matter_id": matter_id, "department_id": section, "applicant": f"申请人{i}",
                         "credit_code": "91360735MA3ABCDE1X", "licence_no": f"JY{i:012d}", "decision": "grant",
                         "decided_on": date(2026, 1, 1), "created_by": creator,
                         "created_at": datetime(2026, 1, 1)} for i in range(start, min(n_pushes, start + batch))]
                ids = list(s.scalars(insert(ApprovalRecord).returning(ApprovalRecord.id), recs))
                rows = []
                for i, rid in zip(range(start, start + len(ids)), ids, strict=True):
                    if i < n_due:  # unclaimed, due day passed
                        pushed = today - timedelta(days=10)
                        rows.append({"record_id": rid, "regulator_id": regs[i % 3], "pushed_at": datetime(
                            pushed.year, pushed.month, pushed.day, 2), "pushed_on": pushed,
                            "due_on": today - timedelta(days=3), "state": "unclaimed", "note": "",
                            "claim_late": False})
                        continue
                    pushed = date(2026, 1, 1) + timedelta(days=rnd.randrange(0, 330))
                    state = "unclaimed" if pushed >= today - timedelta(days=5) else rnd.choice(
                        ["claimed", "claimed", "claimed", "auto_claimed"])
                    rows.append({"record_id": rid, "regulator_id": regs[i % 3], "pushed_at": datetime(
                        pushed.year, pushed.month, pushed.day, 2), "pushed_on": pushed,
                        "due_on": pushed + timedelta(days=7), "state": state, "note": "",
                        "claimed_at": None if state == "unclaimed" else datetime(
                            pushed.year, pushed.month, pushed.day, 3),
                        "claim_late": state == "claimed" and rnd.random() < 0.05})
                s.execute(insert(Push), rows)
            revs = []
            for i in range(n_revocations):
                found = date(2026, 1, 1) + timedelta(days=rnd.randrange(0, 330))
                revs.append({"regulator_id": regs[i % 3], "matter_id": matter_id, "section_id": section,
                             "licensee": f"被许可人{i}", "discovered_on": found, "action": "revoke", "facts": "x",
                             "pushed_at": datetime(found.year, found.month, found.day, 2), "pushed_on": found,
                             "due_on": found + timedelta(days=2), "late": rnd.random() < 0.1, "late_days": 0,
                             "state": rnd.choice(["pushed", "verifying", "done", "not_done"]), "result": "",
                             "outcome": "", "verify_note": "", "created_by": county["scjg_staff"].id})
            for start in range(0, len(revs), 10_000):
                s.execute(insert(Revocation), revs[start:start + 10_000])
            counts.rebuild(s)  # the rows were bulk-inserted around the services: fill the 督办 counters
        out["load_s"] = round(time.perf_counter() - t0, 1)
        if kind == "pg":
            with rt.engine.connect() as c:
                c.exec_driver_sql("ANALYZE")

        # (a) the automatic-claim pass
        job = FEATURE.jobs[0](rt)
        claimed, wall, cpu = timed(job)
        out["auto_claim"] = {"claimed": claimed, "wall_ms": round(wall), "cpu_ms": round(cpu)}
        with rt.transaction() as s:
            assert s.scalar(select(Push.id).where(Push.state == "unclaimed", Push.due_on < today).limit(1)) is None
            assert counts.read(s, today.year) == counts.recount(s, today.year)

        # (b) 督办 page and API
        browser = make.browser(county["signer"])
        client, signer = make.api(county["signer"])
        for _ in range(2):  # warm-up
            assert browser.get("/exchange/dashboard").status_code == 200
        page, api = [], []
        for _ in range(n_pages):
            _, w, _c = timed(lambda: browser.get("/exchange/dashboard"))
            page.append(w)
            _, w, _c = timed(lambda: client.get("/api/v1/dashboard", headers=signer))
            api.append(w)
        c0 = time.process_time()
        for _ in range(5):
            browser.get("/exchange/dashboard")
        page_cpu = (time.process_time() - c0) * 1000 / 5
        out["dashboard_page"] = {"p50_ms": round(pct(page, 50), 1), "p95_ms": round(pct(page, 95), 1),
                                 "cpu_ms_each": round(page_cpu, 1), "n": n_pages}
        out["dashboard_api"] = {"p50_ms": round(pct(api, 50), 1), "p95_ms": round(pct(api, 95), 1)}

        # (c) a push to 3 regulators
        drafter = make.token(county["drafter"])
        body = {"matter_id": matter_id, "applicant": "石城县测试公司", "credit_code": "91360735MA3ABCDE1X",
                "licence_no": "JY1", "decision": "grant", "decided_on": "2026-11-30", "document_ids": [],
                "regulators": ["SCJG", "ZJJ", "WJW"]}
        assert client.post("/api/v1/pushes", json=body, headers=drafter).status_code == 201  # warm-up
        times, cpus = [], []
        for _ in range(n_requests):
            resp, w, c = timed(lambda: client.post("/api/v1/pushes", json=body, headers=drafter))
            assert resp.status_code == 201
            times.append(w)
            cpus.append(c)
        out["push_3_regulators"] = {"p50_ms": round(pct(times, 50), 1), "p95_ms": round(pct(times, 95), 1),
                                    "cpu_ms_p50": round(statistics.median(cpus), 1), "n": n_requests}
        make.close()
    finally:
        rt.close()
        if drop:
            drop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    ap.add_argument("--pushes-total", type=int, default=100_000)
    ap.add_argument("--due", type=int, default=1_000)
    ap.add_argument("--revocations", type=int, default=20_000)
    ap.add_argument("--pushes", type=int, default=50, help="timed POST /api/v1/pushes requests")
    ap.add_argument("--pages", type=int, default=40, help="timed 督办 page loads")
    a = ap.parse_args()
    kinds = ["sqlite", "pg"] if a.db == "both" else [a.db]
    for kind in kinds:
        print(f"load average before {kind}: {os.getloadavg()}", flush=True)
        res = run(kind, a.pushes_total, a.due, a.revocations, a.pushes, a.pages)
        print(res, flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
