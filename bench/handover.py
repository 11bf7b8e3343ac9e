"""Benchmark of the handover (issue 10).

(a) receipt checks of an N-item manifest (default 1,000; target ≤ 20 s): N small PDFs are filed into
    县住房和城乡建设局's archive on a fresh embedded demo instance, a manifest is built, submitted, signed
    and received — the ``receive`` step (every item's four-property checks + the manifest level) is timed.
(b) BagIt export throughput: ``--files`` blobs of ``--file-mb`` MB are put into the object store and
    exported through ``handover.bag.export_chunks`` (the generator the HTTP response streams), drained as
    a response would hand it to the socket (and, separately, into a ZIP file on disk), against
    ``bagit.make_bag`` (sha256) over the same files copied to a folder, in the same run (target: ours
    ≥ 80 % of make_bag's MB/s).
(c) memory: the RSS of this process before and while (b) streams (sampled every 64 MB written); target
    growth ≤ 64 MB. Measured in-process through the same generator the server streams, not over HTTP.

    .venv/bin/python bench/handover.py [--items 1000] [--files 8] [--file-mb 64]
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))  # before bench/ (the script's folder): bench/search.py is not the search package


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def runtime(instance: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env["ARCHIVE_INSTANCE"] = str(instance)
    subprocess.run([str(BIN / "archive-service"), "init", "--demo"], env=env, check=True, capture_output=True)
    os.environ["ARCHIVE_INSTANCE"] = str(instance)
    from archive_service.runtime import Runtime
    from archive_service.settings import Settings
    from archive_service.wiring import FEATURES

    return Runtime.build(Settings.from_env(), features=FEATURES)


def bench_checks(rt, n: int) -> None:
    from sqlalchemy import select

    from archive_service.archive.service import archive_for
    from archive_service.handover.service import handover_for
    from archive_service.models import User
    from archive_support import make_pdf

    t0 = time.perf_counter()
    ids = []
    with rt.factory() as s:
        user = s.scalar(select(User).where(User.username == "zjj_staff"))
        docs, svc = rt.documents(s), archive_for(rt, s)
        for i in range(n):
            doc = docs.upload(user, io.BytesIO(make_pdf(f"handover bench {i}")), f"permit-{i}.pdf", f"许可{i}")
            ids.append(svc.file(user, svc.bundle(user, document_id=doc.id), "D30").id)
            if i % 100 == 99:
                s.commit()
        s.commit()
    print(f"filed {n} items in {time.perf_counter() - t0:.1f} s")
    with rt.factory() as s:
        users = {u.username: u for u in s.scalars(select(User))}
        hs = handover_for(rt, s)
        h = hs.create(users["zjj_staff"], "基准移交", "", "SPJ", ids)
        hs.act(users["zjj_staff"], h, "submit")
        hs.act(users["zjj_leader"], h, "sign", "同意")
        s.commit()
        t0, c0 = time.perf_counter(), time.process_time()
        hs.act(users["archivist"], h, "receive")
        s.commit()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        import json

        report = json.loads(h.current.report)
    print(f"(a) receipt checks of {n} items: {wall:.1f} s wall, {cpu:.1f} s CPU, passed={report['passed']}, "
          f"load {os.getloadavg()[0]:.1f}  (target ≤ 20 s)")


def bench_export(rt, files: int, file_mb: int, work: Path) -> None:
    import bagit

    from archive_service.handover.bag import ExportSpec, PayloadFile, export_chunks

    block = os.urandom(1024 * 1024)
    src = work / "src"
    src.mkdir()
    payload = []
    for i in range(files):
        path = src / f"file-{i}.bin"
        with open(path, "wb") as fh:
            for k in range(file_mb):
                fh.write(bytes([i & 255, k & 255]) + block[2:])
        with open(path, "rb") as fh:
            put = rt.store.put_stream(fh)
        payload.append(PayloadFile(f"data/X-{i}/01-file-{i}.bin", put.sha256, put.sm3, put.size, "main", "bin"))
    total_mb = files * file_mb
    spec = ExportSpec("bench-bag", 1, "bench", "县住房和城乡建设局", payload, b"<items/>")
    base = rss_mb()
    peak, written, next_sample = base, 0, 64 * 2 ** 20
    t0 = time.perf_counter()
    for chunk in export_chunks(spec, rt.store, date.today()):  # as the response hands them to the socket
        written += len(chunk)
        if written >= next_sample:
            peak = max(peak, rss_mb())
            next_sample += 64 * 2 ** 20
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    with open(work / "out.zip", "wb") as out:
        for chunk in export_chunks(spec, rt.store, date.today()):
            out.write(chunk)
    to_disk = time.perf_counter() - t0
    peak = max(peak, rss_mb())
    bag_dir = work / "bag"
    shutil.copytree(src, bag_dir)
    t0 = time.perf_counter()
    bagit.make_bag(str(bag_dir), checksums=["sha256"], processes=1)
    theirs = time.perf_counter() - t0
    print(f"(b) BagIt export of {files} × {file_mb} MB: ours {total_mb / ours:.0f} MB/s ({ours:.1f} s), "
          f"bagit.make_bag {total_mb / theirs:.0f} MB/s ({theirs:.1f} s): {100 * theirs / ours:.0f} % of make_bag's "
          f"time-based speed (target ≥ 80 %); written to a ZIP file (no fsync): {total_mb / to_disk:.0f} MB/s")
    print(f"(c) RSS while streaming {total_mb} MB: {base:.0f} → peak {peak:.0f} MB (growth {peak - base:.0f} MB; "
          f"target ≤ 64 MB)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--file-mb", type=int, default=64)
    ap.add_argument("--skip-checks", action="store_true")
    ap.add_argument("--skip-export", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="handover-bench-"))
    try:
        rt = runtime(work / "instance")
        if not args.skip_checks:
            bench_checks(rt, args.items)
        if not args.skip_export:
            bench_export(rt, args.files, args.file_mb, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
