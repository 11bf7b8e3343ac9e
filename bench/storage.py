"""Storage throughput and memory benchmark (not part of the test run).

    .venv/bin/python bench/storage.py [--size-mb 1024] [--s3-size-mb 256] [--dir DIR]
        [--url http://127.0.0.1:PORT --token TOKEN --server-pid PID [--upload-file PATH]]

Prints, in one run:
  (a) raw copy speed of a --size-mb file on this disk (dd conv=fsync, and shutil.copyfile + fsync);
  (b) LocalStore ingest speed (SHA-256 + SM3, fsync, atomic rename) of the same file;
  (c) S3Store put/get against the raw minio client put_object/get_object of a --s3-size-mb file, both
      against one moto_server started here (moto keeps objects in memory, hence the smaller size);
  (d) an HTTP upload (POST {url}/api/v1/documents, multipart fields `file` and `title`, streamed
      from disk) to a running app, with the growth of the server's VmRSS sampled every 50 ms.
Rates are MiB/s. Targets: local ingest >= 150; adapter >= 80 % of the raw client; RSS growth <= 64 MiB.
"""
from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from minio import Minio  # noqa: E402

from archive_service.hashing import DigestingReader  # noqa: E402
from archive_service.storage.local import LocalStore  # noqa: E402
from archive_service.storage.s3 import PART_SIZE, UPLOAD_THREADS, S3Store  # noqa: E402
from s3peer import ACCESS_KEY, REGION, SECRET_KEY, moto_process  # noqa: E402

MiB = 1024 * 1024
RAW_THREADS = 3  # minio put_object's default num_parallel_uploads


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_timed(fn, server_pid: int):
    """(wall seconds, this process's CPU seconds, the server's CPU seconds, result) of ``fn()``."""
    c0, s0 = time.process_time(), proc_cpu(server_pid)
    secs, result = timed(fn)
    return secs, time.process_time() - c0, proc_cpu(server_pid) - s0, result


def rate(nbytes: int, seconds: float) -> float:
    return nbytes / MiB / seconds


def make_file(path: Path, size_mb: int) -> None:
    if shutil.which("dd"):
        subprocess.run(["dd", "if=/dev/urandom", f"of={path}", "bs=1M", f"count={size_mb}", "status=none"],
                       check=True)
    else:
        with open(path, "wb") as f:
            for _ in range(size_mb):
                f.write(os.urandom(MiB))


def copy_fsync(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    with open(dst, "rb+") as f:
        os.fsync(f.fileno())


def best(runs: list[float]) -> str:
    return f"{max(runs):7.1f} MiB/s  (runs: {', '.join(f'{r:.1f}' for r in runs)})"


def bench_disk(src: Path, work: Path, repeat: int) -> None:
    size = src.stat().st_size
    dst = work / "copy.bin"
    dd, py = [], []
    for _ in range(repeat):
        if shutil.which("dd"):
            secs, _ = timed(lambda: subprocess.run(
                ["dd", f"if={src}", f"of={dst}", "bs=1M", "conv=fsync", "status=none"], check=True))
            dd.append(rate(size, secs))
            dst.unlink()
        secs, _ = timed(lambda: copy_fsync(src, dst))
        py.append(rate(size, secs))
        dst.unlink()
    print(f"(a) raw copy of {size // MiB} MiB on this disk")
    if dd:
        print(f"    dd bs=1M conv=fsync        {best(dd)}")
    print(f"    shutil.copyfile + fsync    {best(py)}")


def bench_local(src: Path, work: Path, repeat: int) -> None:
    size = src.stat().st_size
    store = LocalStore(work / "store")
    runs, reads = [], []
    for _ in range(repeat):
        with open(src, "rb") as f:
            secs, result = timed(lambda: store.put_stream(f))
        runs.append(rate(size, secs))
        secs, n = timed(lambda r=result: sum(len(c) for c in store.open(r.sha256)))
        reads.append(rate(n, secs))
        store.delete(result.sha256)
    print(f"(b) LocalStore ingest of {size // MiB} MiB (SHA-256 + SM3, fsync, rename)")
    print(f"    put_stream                 {best(runs)}   target >= 150  {verdict(max(runs) >= 150)}")
    print(f"    open (read back)           {best(reads)}")


def bench_s3(work: Path, size_mb: int, repeat: int) -> None:
    path = work / "s3.bin"
    make_file(path, size_mb)
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    size = path.stat().st_size
    with moto_process() as (endpoint, server):
        store = S3Store(endpoint, ACCESS_KEY, SECRET_KEY, "bench-adapter")
        raw = Minio(endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY, secure=False, region=REGION)
        raw.make_bucket("bench-raw")
        puts: dict[str, list[float]] = {"raw": [], "raw+digests": [], "adapter": []}
        gets = {"raw": [], "adapter": []}
        rss_growth = []
        cpu: dict[str, list[tuple[float, float]]] = {"raw": [], "raw+digests": [], "adapter": []}
        for _ in range(repeat):
            with open(path, "rb") as f:
                secs, own, peer, _ = cpu_timed(lambda: raw.put_object(
                    "bench-raw", "raw", f, length=size, part_size=PART_SIZE), server.pid)
            puts["raw"].append(rate(size, secs))
            cpu["raw"].append((own, peer))
            with open(path, "rb") as f:  # control: the raw client reading through the adapter's digests
                secs, own, peer, _ = cpu_timed(lambda: raw.put_object(
                    "bench-raw", "raw-digested", DigestingReader(f), length=size, part_size=PART_SIZE), server.pid)
            puts["raw+digests"].append(rate(size, secs))
            cpu["raw+digests"].append((own, peer))
            raw.remove_object("bench-raw", "raw-digested")
            with open(path, "rb") as f, PeakRSS(os.getpid()) as rss:
                secs, own, peer, result = cpu_timed(lambda: store.put_stream(f), server.pid)
            puts["adapter"].append(rate(size, secs))
            cpu["adapter"].append((own, peer))
            rss_growth.append(rss.growth)

            def raw_get():
                response = raw.get_object("bench-raw", "raw")
                try:
                    return sum(len(c) for c in response.stream(MiB))
                finally:
                    response.close()
                    response.release_conn()

            secs, n = timed(raw_get)
            gets["raw"].append(rate(n, secs))
            secs, n = timed(lambda r=result: sum(len(c) for c in store.open(r.sha256)))
            gets["adapter"].append(rate(n, secs))
            raw.remove_object("bench-raw", "raw")
            store.delete(result.sha256)
    print(f"(c) S3 against moto_server, {size // MiB} MiB, {PART_SIZE // MiB} MiB parts "
          f"(raw client: {RAW_THREADS} parallel uploads, its default; adapter: {UPLOAD_THREADS} parts in flight)")
    for op, runs in (("put", puts), ("get", gets)):
        ratio = max(runs["adapter"]) / max(runs["raw"])
        print(f"    raw minio {op}_object{' ' * (10 - len(op))}{best(runs['raw'])}")
        print(f"    S3Store {'put_stream' if op == 'put' else 'open':<18} {best(runs['adapter'])}")
        print(f"    adapter/raw {op}              {ratio:6.0%}   target >= 80 %  {verdict(ratio >= 0.8)}")
        if op == "put":
            control = max(runs["raw+digests"])
            print(f"    raw put_object reading through DigestingReader (SHA-256 + SM3, control) "
                  f"{best(runs['raw+digests'])}")
            print(f"    adapter/control put           {max(runs['adapter']) / control:6.0%}   "
                  "(what the adapter costs beyond the digests the raw client does not compute)")
            for who in ("raw", "raw+digests", "adapter"):
                own = min(c for c, _ in cpu[who])
                peer = min(p for _, p in cpu[who])
                print(f"    CPU per put, {who:<11} client {own:5.2f} s, moto server {peer:5.2f} s (least of the runs)")
            print(f"    load average before/after: {load_before} / {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
            print(f"    client RSS growth during put_stream: {', '.join(f'{g:.0f}' for g in rss_growth)} MiB"
                  f"   target <= 64  {verdict(max(rss_growth) <= 64)}")


def multipart_body(path: Path, title: str, boundary: str):
    """(length, chunks) of a multipart/form-data body streaming ``path`` from disk."""
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n{title}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks():
        yield head
        with open(path, "rb") as f:
            while chunk := f.read(MiB):
                yield chunk
        yield tail

    return len(head) + path.stat().st_size + len(tail), chunks()


def vm_rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class PeakRSS:
    """Samples a process's VmRSS every 50 ms inside the block; ``growth`` is peak minus start, in MiB."""

    def __init__(self, pid: int):
        self.pid, self.base, self.peak, self._stop = pid, vm_rss(pid), 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, vm_rss(self.pid))
            except (OSError, RuntimeError):
                return
            time.sleep(0.05)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.1)
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> float:
        return (self.peak - self.base) / MiB


def bench_http(args, path: Path) -> None:
    print(f"(d) HTTP upload of {path.stat().st_size // MiB} MiB to {args.url}")
    url = urlsplit(args.url)
    boundary = uuid.uuid4().hex
    length, body = multipart_body(path, "存储基准测试", boundary)
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=600)
    with PeakRSS(args.server_pid) as rss:
        t0 = time.perf_counter()
        conn.request("POST", url.path.rstrip("/") + "/api/v1/documents", body=body, headers={
            "Authorization": f"Bearer {args.token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(length),
        })
        response = conn.getresponse()
        reply = response.read()
        secs = time.perf_counter() - t0
    print(f"    status {response.status}: {reply[:300].decode(errors='replace')}")
    print(f"    upload                     {rate(length, secs):7.1f} MiB/s")
    print(f"    server RSS {rss.base / MiB:.0f} MiB -> peak {rss.peak / MiB:.0f} MiB: "
          f"growth {rss.growth:.1f} MiB"
          f"   target <= 64  {verdict(rss.growth <= 64)}")


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="file size for (a), (b), (d)")
    parser.add_argument("--s3-size-mb", type=int, default=256, help="file size for (c)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per figure; the best is shown")
    parser.add_argument("--dir", type=Path, help="work folder on the disk to measure (default: temp folder)")
    parser.add_argument("--url", help="base URL of a running app, for (d)")
    parser.add_argument("--token", help="bearer token for (d)")
    parser.add_argument("--server-pid", type=int, help="pid of the app server, for (d)")
    parser.add_argument("--upload-file", type=Path, help="file to upload in (d) (default: the generated one)")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: a,b,c,d")
    args = parser.parse_args()
    skip = set(args.skip.split(","))

    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-storage-", dir=args.dir))
    try:
        src = work / "source.bin"
        make_file(src, args.size_mb)
        print(f"work folder {work}; source {src.stat().st_size // MiB} MiB of random bytes\n")
        if "a" not in skip:
            bench_disk(src, work, args.repeat)
        if "b" not in skip:
            bench_local(src, work, args.repeat)
        if "c" not in skip:
            bench_s3(work, args.s3_size_mb, args.repeat)
        if "d" not in skip:
            if args.url and args.token and args.server_pid:
                if args.upload_file is None:  # random bytes are not an accepted type: a PDF header makes them one
                    args.upload_file = work / "upload.pdf"
                    with open(args.upload_file, "wb") as out, open(src, "rb") as f:
                        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
                        shutil.copyfileobj(f, out, MiB)
                bench_http(args, args.upload_file)
            else:
                print("(d) skipped: pass --url http://127.0.0.1:PORT --token TOKEN --server-pid PID")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
