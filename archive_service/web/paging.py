"""Query parameters of keyset-paged lists (``size``, ``after``, ``before``, ``from``) and their JSON."""
from __future__ import annotations

from ..listing import KeysetPage, beijing_iso
from .apispec import parse_query
from .schemas import KeysetQuery


def keyset_args(default_size: int = 20) -> dict:
    """The request's keyset paging parameters (validated by :class:`KeysetQuery`; 400 when bad)."""
    return parse_query(KeysetQuery).keyset(default_size)


def page_json(page: KeysetPage) -> dict:
    return {"size": page.size, "next_cursor": page.next_cursor, "prev_cursor": page.prev_cursor,
            "total": page.total, "total_estimated": page.total_estimated, "from": beijing_iso(page.start)}
