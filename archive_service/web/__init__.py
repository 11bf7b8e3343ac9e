"""Flask app factory: builds the app around a Runtime; views look services up, never construct them."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask

from ..runtime import Runtime
from ..settings import Settings

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
STATIC = Path(__file__).resolve().parents[2] / "static"  # the pages' JavaScript (no inline script: CSP)


def create_app(runtime: Runtime | Settings | None = None) -> Flask:
    if runtime is None:
        runtime = Settings.from_env()
    if isinstance(runtime, Settings):
        runtime = Runtime.build(runtime)
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=str(STATIC), static_url_path="/static")
    app.config.update(
        SECRET_KEY=runtime.settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    app.extensions["archive"] = runtime

    from ..features import load_features
    from . import (admin, api, archive_api, archive_pages, audit_pages, context, errors, health, inbox, letters,
                   letters_api, meetings, pages, render_api, search_pages, signature_pages)
    from . import headers
    from . import uploads
    from . import limits

    load_features()

    app.url_map.converters["int"] = limits.BoundedIntConverter  # before any rule is added
    limits.init_app(app)  # first before_request hook: body limits before anything reads the body
    context.init_app(app)
    errors.init_app(app)
    headers.init_app(app)
    uploads.init_app(app)
    for bp in (health.bp, api.bp, pages.bp, admin.bp, audit_pages.bp, signature_pages.bp, meetings.bp,
               search_pages.bp, letters.bp, letters_api.bp, inbox.bp, render_api.bp, archive_api.bp,
               archive_pages.bp):
        app.register_blueprint(bp)
    return app
