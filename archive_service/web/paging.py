"""Query parameters of keyset-paged lists (``size``, ``after``, ``before``, ``from``) and their JSON."""
from __future__ import annotations

from typing import Any

from flask import request, url_for

from ..listing import KeysetPage, beijing_iso
from .apispec import parse_query
from .schemas import KeysetQuery


def keyset_args(default_size: int = 20) -> dict:
    """The request's keyset paging parameters (validated by :class:`KeysetQuery`; 400 when bad)."""
    return parse_query(KeysetQuery).keyset(default_size)


def page_json(page: KeysetPage) -> dict:
    return {"size": page.size, "next_cursor": page.next_cursor, "prev_cursor": page.prev_cursor,
            "total": page.total, "total_estimated": page.total_estimated, "from": beijing_iso(page.start)}


def next_link(cursor: str | None) -> str | None:
    """The URL of the next page (this request's parameters with ``after=cursor``), None on the last page."""
    if cursor is None or request.endpoint is None:
        return None
    params: dict[str, Any] = {**(request.view_args or {}),
                                 **{k: v for k, v in request.args.items() if k != "after"}, "after": cursor}
    return url_for(request.endpoint, **params)
