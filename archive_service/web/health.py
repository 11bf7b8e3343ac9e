"""Liveness and readiness probes.

``/healthz`` answers from the process alone (no database, no object store), so it stays fast while a
backend hangs. ``/readyz`` checks the database and the object store, each in a helper thread, and
waits at most ``ARCHIVE_READY_TIMEOUT`` seconds for both: a hanging backend is reported as a timeout
(503) instead of holding the probe.
"""
from __future__ import annotations

import threading
import time

from flask import Blueprint, jsonify

from ..errors import DomainError
from ..runtime import Runtime
from .context import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


def _check_database(rt: Runtime) -> str:
    try:
        rt.ping_database()
        return "ok"
    except Exception as exc:  # report, do not crash the probe
        return f"error: {exc.__class__.__name__}"


def _check_storage(rt: Runtime) -> str:
    try:
        rt.store.ping()
        return "ok"
    except DomainError as exc:
        return f"error: {exc.message}"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


@bp.get("/readyz")
def readyz():
    rt = runtime()
    checks = {"database": "timeout", "storage": "timeout"}

    def run(name, check):
        checks[name] = check(rt)

    threads = [threading.Thread(target=run, args=(name, check), daemon=True, name=f"readyz-{name}")
               for name, check in (("database", _check_database), ("storage", _check_storage))]
    for t in threads:
        t.start()
    timeout = rt.settings.ready_timeout
    deadline = time.monotonic() + timeout
    for t in threads:  # side by side: the whole probe waits at most ``timeout``
        t.join(max(0.0, deadline - time.monotonic()))
    result = dict(checks)
    for name, value in result.items():
        if value == "timeout":
            result[name] = f"error: 超过 {timeout:g} 秒未响应"
    ok = all(v == "ok" for v in result.values())
    return jsonify({"status": "ok" if ok else "unavailable", "checks": result}), 200 if ok else 503
