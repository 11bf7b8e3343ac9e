"""The extraction sandbox: untrusted files are parsed in a child process with resource limits.

``Sandbox.extract(data, media_type, filename)`` sends one file to a long-lived child
(``python -m archive_service.sandbox``) and returns its ``Extraction``. The child runs with

- ``RLIMIT_AS`` = ``Limits.memory_mb`` (set once at start; inherited by ``pdftoppm``/``tesseract``),
- ``RLIMIT_CPU`` re-armed to ``cpu_seconds`` for every file and every OCR page,
- a wall-clock deadline of ``wall_seconds`` kept by the parent, also re-armed per OCR page,
- ``nice`` 10, its own process group (a timeout kills the child and the tools it started).

A child that hit a limit, crashed or grew large is replaced before the next file, so one bad file
costs one process start; the ordinary path costs a pipe round trip. The child's answers are JSON,
never pickles: a parser compromised by a file cannot make the parent run code.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import resource
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time
import weakref

from .extract import Extraction, Limits, Progress, extract, kind_of

log = logging.getLogger(__name__)

_LEN = struct.Struct(">Q")
RECYCLE_RSS_FRACTION = 0.6  # a child whose RSS stays above this share of its memory limit is replaced
MAX_JOBS_PER_CHILD = 2000


class SandboxError(RuntimeError):
    """The child could not do what was asked (the message says why, in Chinese)."""


class _ChildGone(Exception):
    pass


class _Timeout(Exception):
    pass


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)
    for stream in (proc.stdin, proc.stdout):
        with contextlib.suppress(OSError):
            stream and stream.close()


class Sandbox:
    """One child process at a time, used by one thread at a time (a lock serialises callers)."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self._proc: subprocess.Popen | None = None
        self._buf = b""
        self._jobs = 0
        self._lock = threading.Lock()
        self._finalizer: weakref.finalize | None = None
        self.spawned = 0  # children started so far (for tests and the log)
        self.peak_rss = 0  # largest resident size a child (or a tool it ran) reported, in bytes

    # -- child lifecycle -------------------------------------------------------------------------
    def _spawn(self) -> subprocess.Popen:
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MALLOC_ARENA_MAX="2",
                   PYTHONUNBUFFERED="1")
        proc = subprocess.Popen([sys.executable, "-m", "archive_service.sandbox", json.dumps(self.limits.to_json())],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, start_new_session=True,
                                close_fds=True)
        self._proc, self._buf, self._jobs = proc, b"", 0
        self.spawned += 1
        if self._finalizer is not None:
            self._finalizer.detach()
        self._finalizer = weakref.finalize(self, _kill, proc)
        try:
            ready = self._read(time.monotonic() + 60)
        except (_ChildGone, _Timeout):
            self._discard()
            raise RuntimeError("提取进程无法启动") from None
        if ready.get("type") != "ready":
            self._discard()
            raise RuntimeError("提取进程无法启动")
        return proc

    def _discard(self) -> None:
        if self._proc is not None:
            _kill(self._proc)
            if self._finalizer is not None:
                self._finalizer.detach()
                self._finalizer = None
        self._proc, self._buf = None, b""

    def close(self) -> None:
        """Stop the child (it also stops by itself when this process exits: its stdin closes)."""
        with self._lock:
            self._discard()

    # -- framing ---------------------------------------------------------------------------------
    def _send(self, header: dict, data: bytes) -> None:
        blob = json.dumps(header).encode()
        assert self._proc is not None and self._proc.stdin is not None
        stdin = self._proc.stdin
        stdin.write(_LEN.pack(len(blob)) + blob + _LEN.pack(len(data)))
        stdin.write(data)
        stdin.flush()

    def _read(self, deadline: float) -> dict:
        message = json.loads(self._read_frame(deadline))
        if not isinstance(message, dict):
            raise _ChildGone()
        return message

    def _read_frame(self, deadline: float) -> bytes:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                if len(self._buf) >= _LEN.size:
                    (n,) = _LEN.unpack_from(self._buf)
                    if len(self._buf) >= _LEN.size + n:
                        frame = self._buf[_LEN.size:_LEN.size + n]
                        self._buf = self._buf[_LEN.size + n:]
                        return frame
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _Timeout()
                if not sel.select(left):
                    continue
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise _ChildGone()
                self._buf += chunk

    # -- operations ------------------------------------------------------------------------------
    def check_ocr(self) -> str:
        """OCR one generated line in the child (loading the engine); raises RuntimeError if it fails.

        Called when a worker starts, so a broken OCR install fails loudly instead of leaving every
        scan unsearchable. Returns the engine's name, or "off"."""
        if self.limits.ocr_engine == "off":
            return "off"
        with self._lock:
            message = self._call({"op": "smoke"}, b"", wall=max(self.limits.wall_seconds, 300))
        result = Extraction.from_json(message.get("result") or {}) if message else None
        if result is None or result.status != "ok":
            raise RuntimeError(result.error if result and result.error else "OCR 自检失败：提取进程无应答")
        return self.limits.ocr_engine

    def searchable_pdf(self, data: bytes, media_type: str, filename: str, layout: list, font: str) -> bytes:
        """A searchable PDF copy of a scan from its stored OCR layout (see searchable_pdf.py)."""
        kind = kind_of(media_type, filename)
        if kind not in ("pdf", "image"):
            raise SandboxError("只有扫描件（PDF 或图像）才能生成可检索 PDF")
        with self._lock:
            message = self._call({"op": "searchable_pdf", "media_type": media_type, "filename": filename,
                                  "layout": layout, "font": font}, data, wall=self.limits.wall_seconds)
            if message is None:
                raise SandboxError("生成可检索 PDF 失败：处理进程超时或异常终止")
            result = Extraction.from_json(message.get("result") or {})
            if result.status != "ok" or not message.get("blob"):
                raise SandboxError(result.error or "生成可检索 PDF 失败")
            try:
                return self._read_frame(time.monotonic() + self.limits.wall_seconds)
            except (_ChildGone, _Timeout):
                self._discard()
                raise SandboxError("生成可检索 PDF 失败：处理进程超时或异常终止") from None

    def _call(self, header: dict, data: bytes, wall: float) -> dict | None:
        """One request without progress; the answer, or None when the child died or timed out."""
        if self._proc is None or self._proc.poll() is not None:
            self._discard()
            self._spawn()
        try:
            self._send(header, data)
            message = self._read(time.monotonic() + wall)
        except (_ChildGone, _Timeout, BrokenPipeError, OSError, ValueError):
            self._discard()
            return None
        if message.get("recycle"):
            self._discard()
        return message

    def extract(self, data: bytes, media_type: str, filename: str, progress: Progress | None = None) -> Extraction:
        """The text of one file, extracted in the child; never raises for a bad file."""
        kind = kind_of(media_type, filename)
        if not kind:  # nothing to parse: answer without the child
            return extract(b"", media_type, filename, self.limits)
        if len(data) > self.limits.max_bytes:
            return extract(data, media_type, filename, self.limits)
        with self._lock:
            return self._extract(data, media_type, filename, kind, progress)

    def _extract(self, data, media_type, filename, kind, progress) -> Extraction:
        lim = self.limits
        for attempt in (1, 2):  # a child that died while idle is replaced once
            if self._proc is None or self._proc.poll() is not None:
                self._discard()
                self._spawn()
            try:
                self._send({"op": "extract", "media_type": media_type, "filename": filename}, data)
                break
            except (BrokenPipeError, OSError):
                self._discard()
                if attempt == 2:
                    return Extraction("failed", kind, error="提取进程无法接收文件")
        self._jobs += 1
        deadline = time.monotonic() + lim.wall_seconds
        try:
            while True:
                message = self._read(deadline)
                if message.get("type") == "progress":
                    deadline = time.monotonic() + lim.wall_seconds  # the wall clock is per page
                    if progress:
                        progress(int(message.get("done", 0)), int(message.get("total", 0)),
                                 str(message.get("text") or ""))
                    continue
                if message.get("type") != "result":
                    raise _ChildGone()
                result = Extraction.from_json(message.get("result") or {})
                rss = int(message.get("rss") or 0)
                self.peak_rss = max(self.peak_rss, int(message.get("peak_rss") or 0))
                if (message.get("recycle") or rss > RECYCLE_RSS_FRACTION * lim.memory_mb * 1024 * 1024
                        or self._jobs >= MAX_JOBS_PER_CHILD):
                    self._discard()
                return result
        except _Timeout:
            log.warning("extraction of %s timed out after %s s; replacing the sandbox child", filename,
                        lim.wall_seconds)
            self._discard()
            return Extraction("limited", kind, error=f"处理超时（超过 {lim.wall_seconds} 秒）")
        except (_ChildGone, ValueError):
            proc = self._proc
            code = proc.wait(5) if proc is not None else None
            self._discard()
            if code == -signal.SIGXCPU:
                return Extraction("limited", kind, error=f"CPU 时间超过上限（{lim.cpu_seconds} 秒）")
            name = signal.Signals(-code).name if code is not None and code < 0 else f"退出码 {code}"
            log.warning("sandbox child died (%s) on %s", name, filename)
            return Extraction("failed", kind, error=f"解析进程异常终止（{name}；内存上限 {lim.memory_mb} MB）")


# -- the child -------------------------------------------------------------------------------------
def _child_main(limits_json: str) -> int:
    limits = Limits(**json.loads(limits_json))
    proto_in = sys.stdin.buffer
    proto_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints of libraries go to stderr, never into the protocol
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    fsize = limits.max_bytes + 512 * 1024 * 1024  # the input copy and one page raster, with room to spare
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    with contextlib.suppress(OSError):
        os.nice(10)
    for module in ("pypdf", "docx", "openpyxl", "PIL.Image"):  # paid once per child, not per file
        with contextlib.suppress(Exception):  # a missing parser is reported by the file that needs it
            __import__(module)

    def send(message: dict) -> None:
        blob = json.dumps(message, ensure_ascii=False).encode()
        proto_out.write(_LEN.pack(len(blob)) + blob)
        proto_out.flush()

    def read_exact(n: int) -> bytes | None:
        chunks, left = [], n
        while left:
            chunk = proto_in.read(left)
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def arm_cpu() -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        used = int(usage.ru_utime + usage.ru_stime) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (used + limits.cpu_seconds, resource.RLIM_INFINITY))

    def progress(done: int, total: int, text: str) -> None:
        arm_cpu()
        send({"type": "progress", "done": done, "total": total, "text": text[:limits.max_chars]})

    send({"type": "ready"})
    while True:
        head = read_exact(_LEN.size)
        if head is None:
            return 0
        header = json.loads(read_exact(_LEN.unpack(head)[0]) or b"{}")
        size = read_exact(_LEN.size)
        data = read_exact(_LEN.unpack(size)[0]) if size else None
        if data is None:
            return 0
        arm_cpu()
        recycle = False
        if header.get("op") == "smoke":
            send({"type": "result", "result": _smoke(limits).to_json(), "rss": _rss()})
            continue
        if header.get("op") == "searchable_pdf":
            try:
                from .searchable_pdf import build

                pdf = build(data, kind_of(header.get("media_type") or "", header.get("filename") or ""),
                            header.get("layout") or [], header.get("font") or "")
            except Exception as exc:
                send({"type": "result", "result": Extraction(
                    "failed", "pdf", error=f"生成可检索 PDF 失败：{type(exc).__name__}: {exc}"[:2000]).to_json()})
                continue
            send({"type": "result", "result": Extraction("ok", "pdf").to_json(), "blob": len(pdf)})
            proto_out.write(_LEN.pack(len(pdf)) + pdf)
            proto_out.flush()
            continue
        try:
            result = extract(data, header.get("media_type") or "", header.get("filename") or "", limits, progress)
        except MemoryError:
            kind = kind_of(header.get("media_type") or "", header.get("filename") or "")
            result = Extraction("limited", kind, error=f"内存超过上限（{limits.memory_mb} MB）")
            recycle = True
        del data
        usage, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        send({"type": "result", "result": result.to_json(), "rss": _rss(), "recycle": recycle,
              "peak_rss": max(usage.ru_maxrss, children.ru_maxrss) * 1024})
        if recycle:
            return 3


def _smoke(limits: Limits) -> Extraction:
    from .extract import ocr_engine
    from .ocr import smoke

    try:
        return Extraction("ok", limits.ocr_engine, smoke(ocr_engine(limits.ocr_engine)))
    except Exception as exc:  # reported to the worker, which refuses to start
        return Extraction("failed", limits.ocr_engine,
                          error=f"OCR 自检失败（{limits.ocr_engine}）：{type(exc).__name__}: {exc}")


def _rss() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1]))
