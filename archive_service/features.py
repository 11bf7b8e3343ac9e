"""Feature packages that plug into the core at import time (e.g. letters' search fields).

The core never imports them itself; the entry points (web app, CLI commands) call ``load_features``
so that every process — `serve`, `worker`, `reindex` — indexes documents the same way.
"""


def load_features() -> None:
    import correspondence.search_fields  # noqa: F401
    from correspondence import archive_source

    from . import archive

    archive.register()
    archive_source.register()
