"""The server-CPU-per-request wrapper shared by bench/pages.py and bench/search.py."""
from __future__ import annotations

import time


class ServerCpu:
    """WSGI wrapper recording the server's CPU time per request (the handling thread's CPU clock, so other
    processes on the shared machine do not count; the database server's own CPU on PostgreSQL is not in it)."""

    def __init__(self, app):
        self.app = app
        self.samples: list[float] = []

    def __call__(self, environ, start_response):
        t = time.thread_time()
        body = self.app(environ, start_response)
        try:
            chunks = list(body)
        finally:
            getattr(body, "close", lambda: None)()
        self.samples.append(time.thread_time() - t)
        return chunks


class ServerTiming:
    """WSGI wrapper for a server in another process: each response carries the handling thread's CPU time
    so far in a ``Server-Timing: cpu;dur=<ms>`` header (taken when the view has built the response)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        t, w = time.thread_time(), time.perf_counter()

        def timed(status, headers, exc_info=None):
            headers.append(("Server-Timing", f"cpu;dur={(time.thread_time() - t) * 1000:.3f}, "
                                             f"app;dur={(time.perf_counter() - w) * 1000:.3f}"))
            return start_response(status, headers, exc_info)

        return self.app(environ, timed)


def server_timing(response) -> dict[str, float]:
    """What a ``ServerTiming`` server reported for ``response`` (an http.client response), in seconds:
    ``cpu`` (the handling thread's CPU) and ``app`` (the app's wall time, the wait for other threads included)."""
    out = {}
    for metric in (response.getheader("Server-Timing") or "").split(","):
        name, _, dur = metric.strip().partition(";dur=")
        if dur:
            out[name] = float(dur) / 1000
    return out
