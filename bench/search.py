"""Search benchmark over the shared corpus (147,288 articles).

    .venv/bin/python bench/search.py [--limit N] [--queries 200] [--instance DIR] [--skip-drain]
                                     [--reuse]

Every timed phase prints wall time, the process's CPU time (``time.process_time``: all threads of
this process) and the load average, because the machine is shared. Per query class: ``CPU/q`` is the
bench process's CPU per request (the client), ``app`` the app's own wall time per request (p50: the
rest of the API's time is HTTP and the server's hand-offs), ``srv`` the handling thread's CPU per
request (p50, p99); the server reports both in a ``Server-Timing`` header. ``--reuse`` with ``--instance`` skips
import and indexing when the instance already holds the corpus (for repeated query runs).

1. imports the articles through the real import path (``import-corpus``: blob first, document,
   version, audit event, outbox row), timing it;
2. bulk-indexes them (``reindex``: database + store → index) and, unless --skip-drain, also drains
   the outbox through the worker (the incremental path), timing both;
3. runs ≥ N queries per class (1-char, 2-char, 3–5-char, AND, phrase) through the HTTP API
   (waitress on a loopback port in a server process of its own, as ``archive-service serve`` runs it;
   bearer token, top-20 with highlights, facets and ACL), printing p50/p95/p99 of a pass sent one
   request after another; then, per query, recall of the engine's full hit set against a plain
   ``q in text`` scan and the same request once more right after that scan (``cold``: the bench's
   scan of 147k texts has just evicted the server's caches on this 2-core machine — the way earlier
   rounds measured every request);
4. runs the same queries on a SQLite FTS5 ``trigram`` table built in the same run (the baseline
   peer): MATCH … ORDER BY rank LIMIT 20 for 3+ characters; for 1–2 characters FTS5 trigram
   finds nothing, so the baseline falls back to a scan (``instr``), as a deployment would have to.
"""
from __future__ import annotations

import argparse
import gc
import gzip
import http.client
import json
import os
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from server_cpu import ServerTiming, server_timing  # noqa: E402  (bench/ is the script's own folder)

CORPUS = ROOT.parent / "shared" / "corpus" / "articles.jsonl.gz"
CJK = re.compile(r"[\u4e00-\u9fff]+")


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] * 1000


def load_avg() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


class Phase:
    """Wall and CPU time of one phase (CPU: every thread of this process)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def figures(self, n: int, unit: str) -> str:
        return (f"{n} in {self.wall:.1f} s wall = {n / self.wall:.0f} {unit}/s; CPU {self.cpu:.1f} s "
                f"= {n / max(self.cpu, 1e-9):.0f} {unit}/CPU-s; {load_avg()}")




def load(limit, path=CORPUS):
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            out.append(json.loads(line))
            if limit and len(out) >= limit:
                break
    return out


def make_queries(arts, n, rng):
    from search.analysis import fold

    def sub(length):
        while True:
            runs = [r for r in CJK.findall(fold(rng.choice(arts)["body"])) if len(r) >= length]
            if runs:
                run = rng.choice(runs)
                s = rng.randrange(len(run) - length + 1)
                return run[s:s + length]

    classes = {"1-char": [sub(1) for _ in range(n)], "2-char": [sub(2) for _ in range(n)],
               "3-5-char": [sub(rng.randint(3, 5)) for _ in range(n)]}
    ands = []
    while len(ands) < n:
        body = fold(rng.choice(arts)["body"])
        runs = [r for r in CJK.findall(body) if len(r) >= 2]
        if len(runs) >= 2:
            a, b = rng.sample(runs, 2)
            i, j = rng.randrange(len(a) - 1), rng.randrange(len(b) - 1)
            ands.append(f"{a[i:i + 2]} {b[j:j + 2]}")
    classes["AND"] = ands
    phrases = []
    while len(phrases) < n:
        m = re.search(r"[\u4e00-\u9fff]{2,4}[，、；][\u4e00-\u9fff]{2,4}", fold(rng.choice(arts)["body"]))
        if m:
            phrases.append(f'"{m.group(0)}"')
    classes["phrase"] = phrases
    return classes


def expected_ids(q, texts):
    from search.analysis import fold
    from search.query import parse
    from search.results import _pattern

    pq = parse(q)
    if q.startswith('"'):
        pat = _pattern(pq)
        return {i for i, t in texts if pat.search(t)}
    terms = [fold(t) for t in q.split()]
    return {i for i, t in texts if all(term in t for term in terms)}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"the search server did not start on port {port}")


def serve(port: int, instance: str) -> None:
    """The server process: the app as ``archive-service serve --no-worker`` builds it, behind waitress."""
    from waitress import serve as waitress_serve

    from archive_service.runtime import Runtime
    from archive_service.settings import Settings
    from archive_service.web import create_app, ready_to_serve
    from archive_service.wiring import FEATURES

    rt = Runtime.build(Settings.from_env(env={"ARCHIVE_INSTANCE": instance}), features=FEATURES)
    app = ServerTiming(create_app(rt))
    ready_to_serve()
    waitress_serve(app, host="127.0.0.1", port=port, threads=8, _quiet=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", type=int, default=0, help=argparse.SUPPRESS)  # the server process itself
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--instance", default=None)
    ap.add_argument("--skip-drain", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="skip import/indexing if --instance holds documents")
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="articles.jsonl.gz (default ../shared/corpus)")
    args = ap.parse_args()
    if args.serve:
        return serve(args.serve, args.instance)

    from sqlalchemy import select

    from archive_service.bulk_import import BulkImporter
    from archive_service.demo import DEMO_PASSWORD, load_demo
    from archive_service.indexing import reindex
    from archive_service.models import User
    from archive_service.runtime import Runtime
    from archive_service.settings import Settings
    from archive_service.wiring import FEATURES
    from search.analysis import fold
    from search.query import parse
    from search.results import Viewer

    inst = Path(args.instance or tempfile.mkdtemp(prefix="bench-search-"))
    rt = Runtime.build(Settings.from_env(env={"ARCHIVE_INSTANCE": str(inst)}), features=FEATURES)
    rt.migrate()
    from sqlalchemy import func

    from archive_service.models import Document

    with rt.factory() as s:
        reuse = args.reuse and (s.scalar(select(func.count()).select_from(Document)) or 0) > 0
    if not reuse:
        with rt.transaction() as s:
            load_demo(s, rt.clock, rt.documents)
    with rt.factory() as s:
        user = s.scalar(select(User).where(User.username == "drafter"))
        s.expunge(user)
    arts = load(args.limit, args.corpus)
    print(f"instance {inst}; articles {len(arts)}; {load_avg()}", flush=True)

    with rt.factory() as s:
        if reuse:  # the corpus is the last len(arts) documents
            base = (s.scalar(select(func.max(Document.id))) or 0) + 1 - len(arts)
        else:
            base = (s.scalar(select(func.max(Document.id))) or 0) + 1  # article i becomes document base + i
    if not reuse:
        with Phase() as ph, rt.factory() as s:
            user = s.merge(user)
            rep = BulkImporter(rt.factory, rt.store, rt.clock, user, batch=1000).run(iter(arts))
            s.expunge(user)
        print(f"import (blob + document + version + audit + outbox): {ph.figures(rep.imported, 'documents')}",
              flush=True)

        with Phase() as ph:
            # with the features' record extenders, as `archive-service reindex` runs it
            n = reindex(rt.factory, rt.search_engine, rt.store, rt.clock, extenders=rt.features.record_extenders())
        print(f"bulk index (reindex from database): {ph.figures(n, 'articles')}", flush=True)
        if not args.skip_drain:
            worker = rt.worker(batch=1000)
            drained = 0
            with Phase() as ph:
                while k := worker.drain_outbox():
                    drained += k
            print(f"outbox drain (worker, incremental path): {ph.figures(drained, 'documents')}", flush=True)

    # the HTTP API on a loopback port, served by a process of its own (like `archive-service serve`)
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--instance", str(inst)])
    wait_for_port(port)
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("POST", "/api/v1/auth/token", json.dumps({"username": "drafter", "password": DEMO_PASSWORD}),
                 {"Content-Type": "application/json"})
    token = json.loads(conn.getresponse().read())["token"]
    headers = {"Authorization": f"Bearer {token}"}
    for warm in ("审批", "法"):  # first requests open connections and readers
        conn.request("GET", f"/api/v1/search?q={quote(warm)}", headers=headers)
        conn.getresponse().read()

    rng = random.Random(20261127)
    classes = make_queries(arts, args.queries, rng)
    texts = [(str(i), fold(a["title"]) + "\n" + fold(a["body"])) for i, a in enumerate(arts)]
    viewer = Viewer(user.department_id)
    # the bench's own corpus copies (147k articles, their folded texts) are no server's objects: keep
    # the cyclic GC from walking them during the timed requests (a full collection took tens of ms)
    gc.collect()
    gc.freeze()

    # FTS5 trigram baseline
    fts_path = inst / f"fts5.{os.getpid()}.sqlite3"  # built afresh by each run (--reuse), removed at the end
    db = sqlite3.connect(fts_path)
    t = time.perf_counter()
    db.execute("CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize='trigram')")
    db.executemany("INSERT INTO t(rowid, title, body) VALUES (?, ?, ?)",
                   ((i, fold(a["title"]), fold(a["body"])) for i, a in enumerate(arts)))
    db.commit()
    print(f"FTS5 trigram build: {time.perf_counter() - t:.1f} s", flush=True)

    print(f"\nqueries from {load_avg()}")
    print(f"{'class':9} {'n':>4} {'API p50':>8} {'p95':>7} {'p99':>7} {'CPU/q':>6} {'app p50':>7} {'srv p50':>7} "
          f"{'p99':>6} "
          f"{'cold p50':>8} {'p99':>7} {'recall':>7} | "
          f"{'FTS5 p50':>8} {'p95':>8} {'p99':>8} {'FTS5 recall':>11}")
    for name, qs in classes.items():
        api_lat, api_cpu, fts_lat, recalls, fts_recalls, cold_lat = [], [], [], [], [], []
        server_samples, app_lat = [], []

        def ask(q):
            path = f"/api/v1/search?q={quote(q)}&size=20"
            c, t = time.process_time(), time.perf_counter()
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            lat, cpu = time.perf_counter() - t, time.process_time() - c
            assert resp.status == 200, body[:300]
            timing = server_timing(resp)
            return lat, cpu, timing.get("cpu", 0.0), timing.get("app", 0.0)

        for q in qs:  # the timed pass: one request after another on one connection
            lat, cpu, srv, app = ask(q)
            api_lat.append(lat)
            api_cpu.append(cpu)
            server_samples.append(srv)
            app_lat.append(app)
        for q in qs:  # recall, the FTS5 peer, and each query once more right after the bench's own scans
            exp = expected_ids(q, texts)
            got = {str(int(x) - base) for x in rt.search_engine.matching_ids(parse(q), viewer)
                   if 0 <= int(x) - base < len(arts)}
            recalls.append(len(exp & got) / len(exp) if exp else 1.0)
            cold_lat.append(ask(q)[0])
            terms = [t_.strip('"') for t_ in q.split()] if not q.startswith('"') else [q.strip('"')]
            t = time.perf_counter()
            if all(len(x) >= 3 for x in terms) and not q.startswith('"'):
                match = " AND ".join(f'"{x}"' for x in terms)
                rows = db.execute("SELECT rowid FROM t WHERE t MATCH ? ORDER BY rank LIMIT 20", (match,)).fetchall()
                db.execute("SELECT count(*) FROM t WHERE t MATCH ?", (match,)).fetchone()
                fts_got = {str(r[0]) for r in db.execute("SELECT rowid FROM t WHERE t MATCH ?", (match,))}
            elif q.startswith('"') and len(q) > 4:
                raw = q.strip('"')
                match = '"' + raw + '"'
                rows = db.execute("SELECT rowid FROM t WHERE t MATCH ? ORDER BY rank LIMIT 20", (match,)).fetchall()
                db.execute("SELECT count(*) FROM t WHERE t MATCH ?", (match,)).fetchone()
                fts_got = {str(r[0]) for r in db.execute("SELECT rowid FROM t WHERE t MATCH ?", (match,))}
            else:  # 1-2 characters: trigram MATCH finds nothing, so a scan is the only way
                where = " AND ".join("(instr(title, ?) > 0 OR instr(body, ?) > 0)" for _ in terms)
                params = [x for x in terms for _ in (0, 1)]
                rows = db.execute(f"SELECT rowid FROM t WHERE {where} LIMIT 20", params).fetchall()
                db.execute(f"SELECT count(*) FROM t WHERE {where}", params).fetchone()
                fts_got = exp  # a substring scan finds exactly the expected set (MATCH would find none)
            fts_lat.append(time.perf_counter() - t)
            fts_recalls.append(len(exp & fts_got) / len(exp) if exp else 1.0)
            del rows
        print(f"{name:9} {len(qs):>4} {pct(api_lat, 50):7.1f}ms {pct(api_lat, 95):6.1f}ms {pct(api_lat, 99):6.1f}ms "
              f"{statistics.mean(api_cpu) * 1000:4.1f}ms {pct(app_lat, 50):5.1f}ms {pct(server_samples, 50):5.1f}ms "
              f"{pct(server_samples, 99):4.1f}ms "
              f"{pct(cold_lat, 50):5.1f}ms {pct(cold_lat, 99):5.1f}ms {statistics.mean(recalls):7.3f} | "
              f"{pct(fts_lat, 50):7.1f}ms {pct(fts_lat, 95):7.1f}ms "
              f"{pct(fts_lat, 99):7.1f}ms {statistics.mean(fts_recalls):11.3f}", flush=True)
    server.terminate()
    server.wait()
    db.close()
    fts_path.unlink()
    print(f"queries done at {load_avg()}")
    print("\nFTS5 timings include MATCH ORDER BY rank LIMIT 20 + count(*) (the API returns top-20 and the total); "
          "FTS5 recall counts its full match set. 1-char, 2-char and AND-of-2-char rows use a full scan "
          "(instr) because FTS5 trigram MATCH returns no rows for strings under 3 characters.")


if __name__ == "__main__":
    main()
