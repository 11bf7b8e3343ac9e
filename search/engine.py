"""The engine interface and the factory choosing an engine from a URL.

A record is a plain dict (the indexer builds it; search/ never sees database objects)::

    {"id": "42", "kind": "file", "kind_label": "文件", "title": "…", "numbers": ["石审〔2026〕3号"],
     "dept": 7, "dept_name": "县市场监督管理局", "dept_code": "SCJG", "grants": [3, 5],
     "catalogue": False, "date": datetime, "year": 2026, "retention": "30年", "body": "…",
     "revision": 3, ...any further display fields}

A later document kind adds fields by putting more keys in the record (they are stored and shown);
the searched fields are title, numbers and body.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from .query import ParsedQuery
from .results import SearchResult, Viewer

SORTS = ("relevance", "date")
Progress = Callable[[int], None]


class QueryRejected(ValueError):
    """The engine refused the query itself (too many clauses, expensive queries disabled): a 400."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SearchEngine(Protocol):
    name: str

    def init(self) -> bool:
        """Create the index set-up if missing (explicit command and writers only); True if created."""

    def upsert(self, records: list[dict]) -> dict[str, str]:
        """Add or replace records (by id) and make them visible to searchers.

        A record's ``version`` (the indexer's outbox sequence) must strictly increase: a record
        whose version is not above the indexed one is ignored. Returns {id: reason} for records
        the engine refused on their own account (the others are indexed)."""

    def delete(self, ids: list[str], versions: list[int] | None = None) -> None:
        """Remove records by id (with ``versions``: unless a newer version is indexed)."""

    def search(self, pq: ParsedQuery, viewer: Viewer, page: int = 1, size: int = 20,
               sort: str = "relevance") -> SearchResult:
        """Permission-filtered search; totals and facets count only what the viewer may see."""

    def matching_ids(self, pq: ParsedQuery, viewer: Viewer) -> set[str]:
        """Every matching record id (no ranking, no snippets)."""

    def rebuild(self, records: Iterable[dict], progress: Progress | None = None) -> int:
        """Build a fresh index from ``records`` and switch to it atomically; returns the count."""

    def count(self) -> int:
        """Records in the live index."""

    def refresh(self) -> None:
        """Make the latest commits of other processes visible (readers)."""

    def close(self) -> None:
        """Release writers, open files and connections; the next ``open_engine`` starts afresh."""


def epoch_seconds(value) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return int((value - datetime(1970, 1, 1, tzinfo=value.tzinfo)).total_seconds())
    return int(value)


def open_engine(url: str | None, instance: Path) -> SearchEngine:
    """``None``/``tantivy:///path`` → embedded tantivy index; ``http(s)://…`` → Elasticsearch."""
    if not url or url.startswith("tantivy:"):
        from .tantivy_engine import TantivyEngine

        path = Path(urlsplit(url).path) if url and urlsplit(url).path not in ("", "/") else instance / "search"
        return TantivyEngine.shared(path)
    if url.startswith(("http://", "https://")):
        from .es_engine import ElasticsearchEngine

        return ElasticsearchEngine.from_url(url)
    raise ValueError(f"unsupported ARCHIVE_SEARCH_URL: {url}")
