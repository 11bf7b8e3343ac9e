"""Liveness and readiness probes."""
from flask import Blueprint, jsonify
from sqlalchemy import text

from ..errors import DomainError
from .context import db, runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    checks = {}
    try:
        db().execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, do not crash the probe
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        runtime().store.ping()
        checks["storage"] = "ok"
    except DomainError as exc:
        checks["storage"] = f"error: {exc.message}"
    ok = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ok" if ok else "unavailable", "checks": checks}), 200 if ok else 503
