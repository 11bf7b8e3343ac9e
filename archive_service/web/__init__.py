"""Flask app factory: builds the app around a Runtime; views look services up, never construct them."""
from __future__ import annotations

import gc
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from .. import auth
from ..runtime import Runtime
from ..settings import Settings
from ..wiring import build_runtime
from . import (
    admin,
    api,
    archive_api,
    archive_pages,
    audit_pages,
    context,
    errors,
    exchange,
    handover_api,
    handover_pages,
    headers,
    health,
    inbox,
    letters,
    letters_api,
    limits,
    lookup_api,
    lookup_pages,
    meetings,
    pages,
    render_api,
    search_pages,
    signature_pages,
    uploads,
)
from .routing import SharedBuilderRule

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
STATIC = Path(__file__).resolve().parents[2] / "static"  # the pages' JavaScript (no inline script: CSP)


# The web modules, each with a blueprint ``bp`` (pages and /api/v1 routes) and optionally
# ``work_sections`` for 我的工作. A feature's pages join this list explicitly.
WEB_MODULES = (health, api, pages, admin, audit_pages, signature_pages, meetings, search_pages, letters,
               letters_api, inbox, render_api, archive_api, archive_pages, lookup_api,
               handover_api, handover_pages, lookup_pages, exchange)


def create_app(runtime: Runtime | Settings | None = None) -> Flask:
    """The app around ``runtime``; from settings (default: the environment) it is built with every
    feature of the wiring layer."""
    if runtime is None or isinstance(runtime, Settings):
        runtime = build_runtime(runtime)
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=str(STATIC), static_url_path="/static")
    app.config.update(
        SECRET_KEY=runtime.settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        JSON_AS_ASCII=False,
    )
    if isinstance(app.json, DefaultJSONProvider):
        app.json.ensure_ascii = False
    app.extensions["archive"] = runtime
    auth.warm_up()  # logins of unknown users take as long as wrong passwords from the first one on

    app.url_rule_class = SharedBuilderRule  # before any blueprint's rule is added
    app.url_map.converters["int"] = limits.BoundedIntConverter  # before any rule is added
    limits.init_app(app)  # first before_request hook: body limits before anything reads the body
    context.init_app(app)
    errors.init_app(app)
    headers.init_app(app)
    uploads.init_app(app)
    for module in WEB_MODULES:
        app.register_blueprint(module.bp)
    # 我的工作: every web module that has work for the home page provides sections
    app.extensions["mywork"] = [m.work_sections for m in WEB_MODULES if hasattr(m, "work_sections")]
    return app


def ready_to_serve() -> None:
    """Call once the app is built, before serving: the objects made at start-up (modules, the app, its
    runtime) live as long as the process, so the cyclic GC stops walking them on every full collection
    (a full pass over them took milliseconds of a request's time)."""
    gc.collect()
    gc.freeze()
