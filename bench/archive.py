"""Benchmark of the archive: bulk import, four-property checks, catalogue export.

1. Writes N laws of ../shared/corpus/laws.jsonl.gz out as PDF files plus a catalogue (CSV), then runs
   `archive-service import DIR --catalogue … --department ZJJ` as a subprocess on a fresh embedded
   instance (SQLite, local store): items/s (digests, checks, filing, search outbox; the 归档章 copies
   are left pending for the worker, and so is the text extraction: --no-ocr) and
   the peak RSS of the import process.
2. Four-property checks over up to 1,000 filed items (in process, one report stored per item).
3. 归档文件目录 of 10,000 items as XLSX and as PDF (items made in memory; the export alone).

Usage: .venv/bin/python bench/archive.py [--limit 3475] [--checks 1000] [--catalogue 10000]
Targets (issue 9): import ≥ 150 items/s, peak RSS ≤ 200 MB; checks over 1,000 items ≤ 20 s;
catalogue of 10,000 items XLSX ≤ 5 s, PDF ≤ 10 s.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "laws.jsonl.gz"
if not CORPUS.exists():
    CORPUS = Path("/work/shared/corpus/laws.jsonl.gz")
BIN = Path(sys.executable).parent


def law_pdf(title: str, body: str) -> bytes:
    """A small PDF of the law's first ~2 pages (CID font, not embedded: quick to write)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle(title)
    lines = [title] + [ln[i:i + 36] for ln in body.splitlines() if ln.strip() for i in range(0, len(ln), 36)]
    y, page = 780, 1
    c.setFont("STSong-Light", 12)
    for ln in lines[:90]:
        c.drawString(60, y, ln)
        y -= 18
        if y < 60:
            c.showPage()
            c.setFont("STSong-Light", 12)
            y, page = 780, page + 1
    c.showPage()
    c.save()
    return buf.getvalue()


def prepare(folder: Path, limit: int) -> Path:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    folder.mkdir(parents=True, exist_ok=True)
    cat = folder.parent / "目录.csv"
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh, open(cat, "w", encoding="utf-8-sig", newline="") as out:
        w = csv.writer(out)
        w.writerow(["序号", "题名", "责任者", "日期", "文件名", "保管期限", "备注"])
        for n, line in enumerate(fh, 1):
            if n > limit:
                break
            law = json.loads(line)
            name = f"{law['id']}.pdf"
            (folder / name).write_bytes(law_pdf(law["title"], law["body"]))
            day = (law.get("date") or "2020-01-01").replace("-", "")
            w.writerow([n, law["title"][:300], law.get("subcategory") or "全国人大常委会", day, name, "D30",
                        law.get("category", "")])
    return cat


def run_import(instance: Path, folder: Path, cat: Path, database_url: str | None = None,
               batch: int = 100) -> tuple[float, float, float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env["ARCHIVE_INSTANCE"] = str(instance)
    if database_url:
        env["ARCHIVE_DATABASE_URL"] = database_url
    subprocess.run([str(BIN / "archive-service"), "init", "--demo"], env=env, check=True, capture_output=True)
    rss_file = instance / "import-rss.txt"
    timer = ["/usr/bin/time", "-f", "%U %S %M", "-o", str(rss_file)] if Path("/usr/bin/time").exists() else []
    t0 = time.perf_counter()
    proc = subprocess.run([*timer, str(BIN / "archive-service"), "import", str(folder), "--catalogue", str(cat),
                           "--department", "ZJJ", "--batch", str(batch), "--no-ocr"],
                          env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(proc.stderr[-3000:])
    if timer:  # the import process alone: user + system CPU seconds, peak RSS
        user, system, rss_kb = rss_file.read_text().split()[-3:]
        cpu, rss_mb = float(user) + float(system), int(rss_kb) / 1024
    else:
        cpu, rss_mb = float("nan"), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    summary = [ln for ln in proc.stdout.splitlines() if ln.startswith("rows:")]
    return elapsed, cpu, rss_mb, summary[0] if summary else proc.stdout[-500:]


def run_checks(instance: Path, n: int) -> tuple[int, float, float]:
    os.environ["ARCHIVE_INSTANCE"] = str(instance)
    from sqlalchemy import select

    from archive_service.archive.models import ArchiveItem
    from archive_service.archive.service import archive_for
    from archive_service.runtime import Runtime
    from archive_service.settings import Settings
    from archive_service.wiring import FEATURES

    rt = Runtime.build(Settings.from_env(), features=FEATURES)
    with rt.factory() as s:
        items = list(s.scalars(select(ArchiveItem).order_by(ArchiveItem.id).limit(n)))
        svc = archive_for(rt, s)
        t0, c0 = time.perf_counter(), time.process_time()
        reports = svc.check_many(items, "demand")
        failed = sum(not r.passed for r in reports)
        s.commit()
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    if failed:
        print(f"  ({failed} item(s) failed their checks)")
    return len(items), elapsed, cpu


def run_catalogue(n: int) -> tuple[float, float, int, int]:
    from archive_service.archive import catalogue
    from archive_service.archive.models import ArchiveItem

    items = [ArchiveItem(archival_code=f"J012-WS·2025-D30-BGS-{i:04d}", doc_number=f"石住建〔2025〕{i}号",
                         responsible="县住房和城乡建设局",
                         title=f"关于第{i}批建设工程消防验收备案抽查情况的报告" * (1 + i % 2),
                         doc_date=date(2025, 1 + i % 12, 1 + i % 28), secrecy="非密", pages=1 + i % 9, remarks="")
             for i in range(1, n + 1)]
    out = io.BytesIO()
    t0, c0 = time.perf_counter(), time.process_time()
    catalogue.write_xlsx(items, out, "归档文件目录（全宗号 J012，年度 2025，保管期限 定期30年）")
    xlsx, xlsx_cpu = time.perf_counter() - t0, time.process_time() - c0
    xlsx_size = out.tell()
    out = io.BytesIO()
    t0, c0 = time.perf_counter(), time.process_time()
    catalogue.write_pdf(items, out, "归档文件目录（全宗号 J012，年度 2025，保管期限 定期30年）")
    pdf, pdf_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"catalogue CPU: XLSX {xlsx_cpu:.2f} s, PDF {pdf_cpu:.2f} s")
    return xlsx, pdf, xlsx_size, out.tell()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=3475, help="laws to import (3,475 in the corpus)")
    ap.add_argument("--checks", type=int, default=1000)
    ap.add_argument("--catalogue", type=int, default=10000)
    ap.add_argument("--keep", type=Path, default=None, help="keep the instance in this folder")
    ap.add_argument("--database-url", default=None,
                    help="an empty PostgreSQL database for the instance (default: SQLite in the instance)")
    ap.add_argument("--batch", type=int, default=100, help="rows per chunk (one transaction)")
    ap.add_argument("--only", choices=["import", "checks", "catalogue"], default=None,
                    help="run one part (checks need an instance kept by --keep from an earlier run)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        if args.only in (None, "import"):
            folder = base / "laws"
            t0 = time.perf_counter()
            cat = prepare(folder, args.limit)
            print(f"prepared {args.limit} PDFs + catalogue in {time.perf_counter() - t0:.1f} s")
            load = os.getloadavg()
            elapsed, cpu, rss, summary = run_import(base / "instance", folder, cat, args.database_url, args.batch)
            print(f"import: {summary}")
            print(f"import: {args.limit / elapsed:.0f} items/s ({elapsed:.1f} s wall, {cpu:.1f} s CPU = "
                  f"{cpu / args.limit * 1000:.1f} ms CPU/item), peak RSS {rss:.0f} MB (targets ≥ 150 items/s, "
                  f"≤ 200 MB); load average before/after {load[0]:.1f}/{os.getloadavg()[0]:.1f} "
                  f"on {os.cpu_count()} CPUs")
        if args.only in (None, "checks"):
            if args.database_url:
                os.environ["ARCHIVE_DATABASE_URL"] = args.database_url
            n, t, cpu = run_checks(base / "instance", args.checks)
            print(f"checks: {n} items in {t:.1f} s wall, {cpu:.1f} s CPU ({cpu / max(n, 1) * 1000:.1f} ms CPU/item; "
                  f"target 1,000 ≤ 20 s); load average {os.getloadavg()[0]:.1f}")
        if args.only in (None, "catalogue"):
            xlsx, pdf, xs, ps = run_catalogue(args.catalogue)
            print(f"catalogue of {args.catalogue} items: XLSX {xlsx:.2f} s wall ({xs / 1e6:.1f} MB; target ≤ 5 s), "
                  f"PDF {pdf:.2f} s wall ({ps / 1e6:.1f} MB; target ≤ 10 s); load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
