"""Query parameters of keyset-paged lists (``size``, ``after``, ``before``, ``from``) and their JSON."""
from __future__ import annotations

from flask import request

from ..errors import BadRequest
from ..listing import Cursor, KeysetPage, beijing_iso, parse_instant


def keyset_args(default_size: int = 20) -> dict:
    try:
        size = int(request.args.get("size", default_size))
    except ValueError:
        raise BadRequest("size 须为整数") from None
    if not 1 <= size <= 100:
        raise BadRequest("size 须在 1–100 之间")
    return {"size": size, "after": Cursor.decode(request.args.get("after"), "after"),
            "before": Cursor.decode(request.args.get("before"), "before"),
            "start": parse_instant(request.args.get("from"), "from", end_of_day=True)}


def page_json(page: KeysetPage) -> dict:
    return {"size": page.size, "next_cursor": page.next_cursor, "prev_cursor": page.prev_cursor,
            "total": page.total, "total_estimated": page.total_estimated, "from": beijing_iso(page.start)}
