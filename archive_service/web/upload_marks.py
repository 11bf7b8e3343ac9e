"""Which views are streaming uploads (see ``uploads``); kept apart so ``context`` can ask without a cycle."""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app, request

_MARK = "_archive_streaming_upload"


def streaming_upload(verify: bool = False) -> Callable:
    """Mark a view (put it right under the route decorator) as a streaming upload; ``verify``: the
    signature-verification size limit applies instead of the upload limit."""

    def mark(view):
        setattr(view, _MARK, "verify" if verify else "upload")
        return view

    return mark


def upload_kind(endpoint: str | None = None) -> str | None:
    """``"upload"`` or ``"verify"`` for a streaming-upload endpoint (default: this request's), else None."""
    view = current_app.view_functions.get(endpoint if endpoint is not None else request.endpoint or "")
    return getattr(view, _MARK, None)


def is_streaming_upload(endpoint: str | None = None) -> bool:
    return upload_kind(endpoint) is not None
