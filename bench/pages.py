"""Page and list latency at county scale, on SQLite and PostgreSQL.

    .venv/bin/python bench/pages.py [--limit N] [--db sqlite,postgresql] [--runs 100] [--audit-factor 3.3]
        [--keep DIR]

For each database:
1. `archive-service init --demo` into a fresh instance (PostgreSQL: a fresh schema in --pg-url);
2. imports N articles of the corpus (default ../shared/corpus/articles.jsonl.gz) through the real import
   path (blob, document, version, audit event, extracted text, outbox row) as `drafter`, so one
   department holds N documents; spreads their `updated_at` over ten years (an archive's real shape);
3. adds synthetic audit events up to ``audit_factor × N`` (500,000 events at 150,000 documents), written
   straight into the table (the bench does not verify the chain), then indexes for search and, on
   PostgreSQL, runs ANALYZE (what autovacuum does in service);
4. serves the app (waitress, loopback) and requests every list page ``--runs`` times — first page, deep
   pages by cursor and by date, the old OFFSET page for comparison — printing p50/p95 per page of the
   wall time and of the server's CPU time (the handling thread's clock), with the load average.

Full loads of 150,000 articles take ~9 minutes per database on the 2-core machine; run with --limit
and read the figures against the size (keyset pages cost the same at any depth and size; OFFSET
pages grow linearly with the depth). ``--keep DIR`` keeps each database's loaded instance (and
PostgreSQL schema) in DIR: a later run with the same DIR skips the load and only measures, so the load
can run while the machine is busy and the measurement when it is quiet.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from server_cpu import ServerCpu  # noqa: E402  (bench/ is the script's own folder on sys.path)

# ../shared/corpus next to the repository (or next to the main checkout, from a git worktree)
CORPUS = next((p for p in (ROOT.parent / "shared" / "corpus" / "articles.jsonl.gz",
                           ROOT.parents[1] / "shared" / "corpus" / "articles.jsonl.gz") if p.exists()),
              ROOT.parent / "shared" / "corpus" / "articles.jsonl.gz")
PASSWORD = "demo-2026"


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] * 1000


def articles(path: Path, limit: int):
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n >= limit:
                return
            yield json.loads(line)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_schema_url(pg_url: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    schema = "bench_" + uuid.uuid4().hex[:10]
    with create_engine(pg_url).begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in pg_url else "?"
    return f"{pg_url}{sep}options=-csearch_path%3D{schema}", schema


def runtime(env: dict):
    from archive_service.runtime import Runtime
    from archive_service.settings import Settings
    from archive_service.wiring import FEATURES

    return Runtime.build(Settings.from_env(env=env), features=FEATURES)


def load(env: dict, corpus: Path, limit: int, audit_factor: float):
    from sqlalchemy import func, insert, select, text, update

    from archive_service.bulk_import import BulkImporter
    from archive_service.indexing import reindex
    from archive_service.models import AuditEvent, Document, User

    subprocess.run([sys.executable, "-c", "from archive_service.cli import main; main()", "init", "--demo"],
                   env={**env, "PYTHONPATH": str(ROOT)}, check=True, capture_output=True)  # this checkout's code
    rt = runtime(env)
    t = time.perf_counter()
    with rt.factory() as s:
        user = s.scalar(select(User).where(User.username == "drafter"))
        rep = BulkImporter(rt.factory, rt.store, rt.clock, user, batch=1000).run(articles(corpus, limit))
    dt = time.perf_counter() - t
    print(f"  import: {rep.imported} documents in {dt:.0f} s ({rep.imported / dt:.0f}/s)", flush=True)
    with rt.factory() as s:  # ten years of documents, newest last
        ids = s.scalars(select(Document.id).where(Document.department_id == user.department_id)
                        .order_by(Document.id)).all()
        end = datetime(2026, 11, 30, 8, 0)
        step = timedelta(days=3650) / max(1, len(ids))
        s.execute(update(Document), [{"id": i, "updated_at": end - step * (len(ids) - k)} for k, i in enumerate(ids)])
        have = s.scalar(select(func.count()).select_from(AuditEvent))
        extra = max(0, int(audit_factor * len(ids)) - have)
        base_at = datetime(2016, 12, 1)
        actions = ["document.download", "auth.login", "search.query", "document.upload", "letters.viewed"]
        names = ["drafter", "reviewer", "signer", "scjg_staff", "archivist", "admin"]
        for start in range(0, extra, 20_000):
            rows = [{"at": base_at + timedelta(seconds=(start + k) * 600), "actor_id": None,
                     "actor_name": names[(start + k) % len(names)], "department_id": user.department_id,
                     "action": actions[(start + k) % len(actions)], "target_type": "document",
                     "target_id": str(ids[(start + k) % len(ids)] if ids else 0), "details": "{}",
                     "prev_hash": "0" * 64, "hash": "0" * 64} for k in range(min(20_000, extra - start))]
            s.execute(insert(AuditEvent), rows)
        s.commit()
        events = s.scalar(select(func.count()).select_from(AuditEvent))
    print(f"  audit events: {events}", flush=True)
    t = time.perf_counter()
    n = reindex(rt.factory, rt.search_engine, rt.store, rt.clock)
    print(f"  search index: {n} documents in {time.perf_counter() - t:.0f} s", flush=True)
    if rt.engine.dialect.name == "postgresql":
        with rt.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return rt, len(ids)


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port)
        self.headers: dict[str, str] = {}

    def request(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body, {**self.headers, **(headers or {})})
        resp = self.conn.getresponse()
        data = resp.read()
        cookie = resp.getheader("Set-Cookie")
        if cookie:
            self.headers["Cookie"] = cookie.split(";", 1)[0]
        return resp.status, data

    def login(self, username):
        _, page = self.request("GET", "/login")
        csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        status, _ = self.request("POST", "/login", urlencode({"username": username, "password": PASSWORD,
                                                              "csrf_token": csrf}),
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302, status
        return self

    def token(self, username):
        _status, body = self.request("POST", "/api/v1/auth/token",
                                    json.dumps({"username": username, "password": PASSWORD}),
                                    {"Content-Type": "application/json"})
        self.headers["Authorization"] = "Bearer " + json.loads(body)["token"]
        return self


def measure(rt, n_docs: int, runs: int):
    from sqlalchemy import select
    from waitress.server import create_server

    from archive_service.listing import Cursor
    from archive_service.models import AuditEvent, Document, User
    from archive_service.web import create_app

    with rt.factory() as s:
        dept = s.scalar(select(User.department_id).where(User.username == "drafter"))
        deep = s.execute(select(Document.updated_at, Document.id).where(Document.department_id == dept)
                         .order_by(Document.updated_at, Document.id).offset(40).limit(1)).one()
        deep_doc = s.scalar(select(Document.id).where(Document.department_id == dept).order_by(Document.id).limit(1))
        deep_event = s.execute(select(AuditEvent.at, AuditEvent.id).order_by(AuditEvent.id).offset(100).limit(1)).one()
    doc_cursor = Cursor(deep[0], deep[1]).encode()
    audit_cursor = Cursor(deep_event[0], deep_event[1]).encode()
    deep_page = max(1, n_docs // 20 - 2)

    port = free_port()
    meter = ServerCpu(create_app(rt))
    server = create_server(meter, host="127.0.0.1", port=port, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    web = Client(port).login("drafter")
    auditor = Client(port).login("auditor")
    archivist = Client(port).login("archivist")  # 审批局's archivist: the drafter's documents wait to be filed
    api = Client(port).token("drafter")
    api_auditor = Client(port).token("auditor")
    pages = [
        ("home /", web, "/"),
        ("home / (archivist: 待归档)", archivist, "/"),
        ("待归档 /archive/file", archivist, "/archive/file"),
        ("documents, first page", web, "/documents"),
        ("documents, deep page (after=)", web, f"/documents?after={doc_cursor}"),
        ("documents, jump to date (from=)", web, "/documents?from=2017-06-01"),
        ("document page", web, f"/documents/{deep_doc}"),
        ("search page 审批", web, f"/search?q={quote('审批')}"),
        ("letters", web, "/letters"),
        ("inbox", web, "/inbox"),
        ("meetings", web, "/meetings"),
        ("audit, first page", auditor, "/audit/"),
        ("audit, deep page (after=)", auditor, f"/audit/?after={audit_cursor}"),
        ("audit, jump to date (from=)", auditor, "/audit/?from=2017-01-15"),
        ("audit, filter actor", auditor, "/audit/?actor=reviewer"),
        ("API documents", api, "/api/v1/documents?size=20"),
        ("API documents after=", api, f"/api/v1/documents?size=20&after={doc_cursor}"),
        ("API audit", api_auditor, "/api/v1/audit?size=50"),
        ("API audit after=", api_auditor, f"/api/v1/audit?size=50&after={audit_cursor}"),
        ("API inbox", api, "/api/v1/inbox"),
        ("API letters", api, "/api/v1/letters"),
        ("API meetings", api, "/api/v1/meetings"),
        ("(old) API documents page= deep, OFFSET", api, f"/api/v1/documents?page={deep_page}&size=20"),
    ]
    results = []
    for name, client, path in pages:
        for _ in range(3):  # warm: connections, caches
            status, body = client.request("GET", path)
            assert status == 200, (name, status, body[:300])
        lat = []
        meter.samples.clear()
        for _ in range(runs):
            t = time.perf_counter()
            client.request("GET", path)
            lat.append(time.perf_counter() - t)
        cpu = list(meter.samples)
        results.append((name, pct(lat, 50), pct(lat, 95), pct(cpu, 50), pct(cpu, 95)))
        print(f"  {name:40} wall p50 {pct(lat, 50):6.1f} p95 {pct(lat, 95):6.1f} ms   "
              f"server CPU p50 {pct(cpu, 50):5.1f} p95 {pct(cpu, 95):5.1f} ms   load {os.getloadavg()[0]:.2f}",
              flush=True)
    for client in (web, auditor, archivist, api, api_auditor):
        client.conn.close()
    time.sleep(0.2)
    server.close()
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=150_000, help="articles to import (150,000 ≈ the whole corpus)")
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--db", default="sqlite,postgresql")
    ap.add_argument("--pg-url", default=os.environ.get("ARCHIVE_BENCH_PG_URL",
                                                      "postgresql+psycopg://root@127.0.0.1:5432/test"))
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--audit-factor", type=float, default=500_000 / 150_000)
    ap.add_argument("--keep", type=Path, help="keep (or reuse) the loaded instances in this folder")
    args = ap.parse_args()

    summary = {}
    for db in args.db.split(","):
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
        loaded = args.keep / db / "loaded.json" if args.keep else None
        if loaded is not None and loaded.exists():  # a kept instance: measure only
            kept = json.loads(loaded.read_text())
            env.update(kept["env"])
            print(f"{db}: kept instance {env['ARCHIVE_INSTANCE']} ({kept['documents']} documents)", flush=True)
            rt = runtime(env)
            rt.migrate()  # the code may have moved on since the load
            summary[db] = measure(rt, kept["documents"], args.runs)
            rt.engine.dispose()
            continue
        inst = (args.keep / db / "instance") if args.keep else Path(tempfile.mkdtemp(prefix=f"bench-pages-{db}-"))
        env["ARCHIVE_INSTANCE"] = str(inst)
        schema = None
        if db == "postgresql":
            env["ARCHIVE_DATABASE_URL"], schema = pg_schema_url(args.pg_url)
        print(f"{db}: instance {inst}", flush=True)
        try:
            rt, n = load(env, args.corpus, args.limit, args.audit_factor)
            if loaded is not None:
                loaded.write_text(json.dumps({"env": {k: v for k, v in env.items() if k.startswith("ARCHIVE_")},
                                              "documents": n}))
                schema = None  # kept
            summary[db] = measure(rt, n, args.runs)
            rt.engine.dispose()
        finally:
            if schema:
                from sqlalchemy import create_engine, text

                with create_engine(args.pg_url).begin() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    worst = {db: max(r[2] for r in rows if not r[0].startswith("(old)")) for db, rows in summary.items()}
    worst_cpu = {db: max(r[4] for r in rows if not r[0].startswith("(old)")) for db, rows in summary.items()}
    print(f"\nload average during the run: {os.getloadavg()}")
    print("worst p95 of the keyset pages: wall " + ", ".join(f"{db} {v:.1f} ms" for db, v in worst.items())
          + "; server CPU " + ", ".join(f"{db} {v:.1f} ms" for db, v in worst_cpu.items()) + " (target ≤ 50 ms)")


if __name__ == "__main__":
    main()
