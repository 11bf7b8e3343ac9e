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
