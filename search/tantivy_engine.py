"""The embedded engine: a tantivy index in the instance folder.

Layout: ``<root>/CURRENT`` names the live generation folder ``<root>/gen-<n>``. ``rebuild`` writes a
new generation and then replaces CURRENT atomically (rename), so readers switch in one step.
Only one process writes (the worker: tantivy locks the writer); web processes open readers and
reload at most every ``RELOAD_EVERY`` seconds to see the worker's commits.
"""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar

import tantivy
from tantivy import Occur, Query

from .engine import Progress
from .query import ParsedQuery, Unit
from .results import SearchResult, Viewer, facet_lists, make_hits
from .tantivy_documents import TEXT_FIELDS, build_schema, stored_record, to_document

log = logging.getLogger(__name__)
RELOAD_EVERY = 0.2
FACET_THREADS = 4  # facet counts run beside the ranked search (tantivy releases the GIL): latency = max, not sum
PARALLEL_FACETS_FROM = 5_000  # estimated hits; below, counting after the search is cheaper than a thread hand-off
FACET_AGG = {"kind": {"terms": {"field": "kind_label", "size": 50}},
             "dept": {"terms": {"field": "dept_name", "size": 200}},
             "year": {"terms": {"field": "year", "size": 200}},
             "retention": {"terms": {"field": "retention", "size": 50}}}


class TantivyEngine:
    name = "tantivy"
    _shared: ClassVar[dict[Path, TantivyEngine]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def shared(cls, root: Path) -> TantivyEngine:
        """One engine per index folder and process (the in-process worker and the web share it)."""
        root = Path(root).resolve()
        with cls._shared_lock:
            if root not in cls._shared:
                cls._shared[root] = cls(root)
            return cls._shared[root]

    def __init__(self, root: Path):
        self.root = Path(root)
        self.schema = build_schema()
        self._lock = threading.RLock()
        self._writer: tantivy.IndexWriter | None = None
        self._gen: str | None = None
        self._index: tantivy.Index | None = None
        self._checked = 0.0
        self.parallel_facets_from = PARALLEL_FACETS_FROM
        self._current_stamp: tuple | None = None  # (inode, mtime, size) of CURRENT when last read
        self._meta_stamp: tuple | None = None  # of the live generation's meta.json when last reloaded
        self._open()

    # -- generations -----------------------------------------------------------------------------
    def _current_name(self) -> str | None:
        try:
            return (self.root / "CURRENT").read_text().strip() or None
        except FileNotFoundError:
            return None

    def _set_current(self, name: str) -> None:
        tmp = self.root / f"CURRENT.{os.getpid()}.tmp"
        tmp.write_text(name)
        os.replace(tmp, self.root / "CURRENT")

    def _open(self) -> None:
        with self._lock:
            self.root.mkdir(parents=True, exist_ok=True)
            name = self._current_name()
            if name is None or not (self.root / name).is_dir():
                name = "gen-1"
                (self.root / name).mkdir(exist_ok=True)
                tantivy.Index(self.schema, str(self.root / name))
                self._set_current(name)
            if name != self._gen:
                self._drop_writer()
                try:
                    self._index = tantivy.Index(self.schema, str(self.root / name), reuse=True)
                except ValueError as exc:
                    if "schema does not match" not in str(exc):
                        raise
                    # written by an older version: start an empty generation; `reindex` fills it
                    log.warning("search index %s has an old schema; run `archive-service reindex`", name)
                    name = self._next_generation()
                    self._index = tantivy.Index(self.schema, str(self.root / name))
                    self._set_current(name)
                self._gen = name

    def _live(self) -> tantivy.Index:
        """The open index of the current generation (reopened after ``close``)."""
        if self._index is None:
            self._open()
        assert self._index is not None  # _open() always sets it
        return self._index

    def _next_generation(self) -> str:
        nums = [int(p.name[4:]) for p in self.root.glob("gen-*") if p.name[4:].isdigit()]
        name = f"gen-{max(nums, default=0) + 1}"
        (self.root / name).mkdir()
        return name

    def _drop_writer(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):  # best effort
                self._writer.rollback()
            with contextlib.suppress(Exception):  # ends the writer: its lock file is released now, even
                self._writer.wait_merging_threads()  # while something still holds the Python object
            self._writer = None

    def refresh(self, force: bool = False) -> None:
        """See the writer's commits (and a rebuild's new generation): at most every ``RELOAD_EVERY``
        seconds, and only when ``CURRENT`` or the generation's ``meta.json`` changed (a stat, not a
        reload, on the request path)."""
        now = time.monotonic()
        if not force and now - self._checked < RELOAD_EVERY:
            return
        self._checked = now
        current = _stamp(self.root / "CURRENT")
        if force or current != self._current_stamp:
            self._current_stamp = current
            if self._current_name() != self._gen:
                self._open()
        meta = _stamp(self.root / str(self._gen) / "meta.json")
        if force or meta != self._meta_stamp:
            self._meta_stamp = meta
            self._live().reload()

    # -- writing ---------------------------------------------------------------------------------
    def _writer_for(self):
        self.refresh(force=True)
        if self._writer is None:
            self._writer = self._live().writer(heap_size=64_000_000, num_threads=1)
        return self._writer

    def init(self) -> bool:
        """The index folder is created on open; nothing else to set up."""
        self._live()
        return False

    def _indexed_versions(self, ids: list[str]) -> dict[str, int]:
        """The ``version`` of the indexed copies of ``ids`` (records indexed without one are absent)."""
        searcher = self._live().searcher()
        query = Query.boolean_query([(Occur.Should, Query.term_query(self.schema, "key", i)) for i in ids])
        out: dict[str, int] = {}
        for _score, addr in searcher.search(query, limit=max(1, len(ids))).hits:
            rec = stored_record(searcher, addr)
            if rec.get("version") is not None:
                out[str(rec["id"])] = int(rec["version"])
        return out

    def upsert(self, records: list[dict]) -> dict[str, str]:
        """Replace by id; a record whose ``version`` is not above the indexed copy's is skipped."""
        with self._lock:
            w = self._writer_for()
            versioned = [str(r["id"]) for r in records if r.get("version") is not None]
            indexed = self._indexed_versions(versioned) if versioned else {}
            for rec in records:
                key = str(rec["id"])
                if rec.get("version") is not None and indexed.get(key, -1) >= int(rec["version"]):
                    continue  # this or a newer version is indexed already (another worker won)
                w.delete_documents_by_term("key", key)
                w.add_document(to_document(rec))
            w.commit()
            self._live().reload()
        return {}

    def delete(self, ids: list[str], versions: list[int] | None = None) -> None:
        with self._lock:
            w = self._writer_for()
            indexed = self._indexed_versions([str(i) for i in ids]) if versions else {}
            vs: list[int | None] = list(versions) if versions else [None] * len(ids)
            for i, v in zip(ids, vs, strict=True):
                if v is not None and indexed.get(str(i), -1) > int(v):
                    continue  # re-indexed by a newer change than this delete
                w.delete_documents_by_term("key", str(i))
            w.commit()
            self._live().reload()

    def rebuild(self, records: Iterable[dict], progress: Progress | None = None) -> int:
        with self._lock:
            name = self._next_generation()
            path = self.root / name
            index = tantivy.Index(self.schema, str(path))
            writer = index.writer(heap_size=400_000_000, num_threads=2)
            n = 0
            for rec in records:
                writer.add_document(to_document(rec))
                n += 1
                if progress and n % 1000 == 0:
                    progress(1000)
            writer.commit()
            writer.wait_merging_threads()
            if progress:
                progress(n % 1000)
            old = self._gen
            self._drop_writer()
            self._set_current(name)
            self._open()
            for p in self.root.glob("gen-*"):  # keep the previous generation for open readers
                if p.name not in (name, old):
                    shutil.rmtree(p, ignore_errors=True)
            return n

    def close(self) -> None:
        """Drop the writer (and its lock file) and this process's shared handle on the folder."""
        with self._lock:
            self._drop_writer()
            self._index = None
            self._gen = None
        with self._shared_lock:
            root = self.root.resolve()
            if self._shared.get(root) is self:
                del self._shared[root]

    # -- reading ---------------------------------------------------------------------------------
    def count(self) -> int:
        self.refresh(force=True)
        return self._live().searcher().num_docs

    def _unit(self, u: Unit, fields) -> Query:
        qs = []
        for f in fields:
            if u.mode == "chars":
                q = Query.term_query(self.schema, f"{f}_c", u.words[0])
            elif len(u.words) == 1 and not u.regex:
                q = Query.term_query(self.schema, f"{f}_g", u.words[0])
            elif u.regex:
                q = Query.regex_phrase_query(self.schema, f"{f}_g", list(u.words))
            else:
                q = Query.phrase_query(self.schema, f"{f}_g", list(u.words))
            qs.append((Occur.Should, Query.boost_query(q, 2.0) if f == "title" else q))
        return qs[0][1] if len(qs) == 1 else Query.boolean_query(qs)

    def _content(self, pq: ParsedQuery, fields) -> list:
        clauses = []
        for group in pq.groups:
            ors = [(Occur.Should, self._unit(u, fields)) for u in group]
            clauses.append((Occur.Must, ors[0][1] if len(ors) == 1 else Query.boolean_query(ors)))
        for u in pq.numbers:
            clauses.append((Occur.Must, self._unit(u, ("num",))))
        for u in pq.excludes:
            clauses.append((Occur.MustNot, self._unit(u, fields)))
        if not any(o == Occur.Must for o, _ in clauses):
            clauses.append((Occur.Must, Query.all_query()))
        return clauses

    def _term_any(self, pairs) -> Query:
        qs = [(Occur.Should, Query.term_query(self.schema, f, v)) for f, v in pairs]
        return Query.boolean_query(qs)

    def build_query(self, pq: ParsedQuery, viewer: Viewer) -> Query:
        vid = viewer.department_id
        full = self._term_any([("dept", vid), ("grants", vid)])
        meta = Query.term_query(self.schema, "catalogue", 1)
        branches = Query.boolean_query([
            (Occur.Should, Query.boolean_query([(Occur.Must, full), *self._content(pq, TEXT_FIELDS)])),
            (Occur.Should, Query.boolean_query([(Occur.Must, meta), *self._content(pq, ("title", "num"))])),
        ])
        clauses = [(Occur.Must, branches)]
        if pq.kinds:
            clauses.append((Occur.Must, self._term_any([(f, k) for k in pq.kinds for f in ("kind", "kind_label")])))
        if pq.depts:
            clauses.append((Occur.Must, self._term_any(
                [("dept_code", d.upper()) for d in pq.depts] + [("dept_name", d) for d in pq.depts])))
        if pq.years:
            clauses.append((Occur.Must, Query.range_query(self.schema, "year", tantivy.FieldType.Integer,
                                                          pq.years[0], pq.years[1])))
        return Query.boolean_query(clauses)

    def matching_ids(self, pq: ParsedQuery, viewer: Viewer) -> set[str]:
        """Every matching record id (no ranking, no snippets): for recall checks and exports."""
        self.refresh()
        searcher = self._live().searcher()
        query = self.build_query(pq, viewer)
        total = _total(searcher.search(query, limit=1, count=True))
        if not total:
            return set()
        addrs = [addr for _k, addr in searcher.search(query, limit=total, count=False, order_by_field="date").hits]
        rids = searcher.fast_field_values("rid", addrs)
        return {str(r) if r is not None and r >= 0 else stored_record(searcher, a)["id"]
                for r, a in zip(rids, addrs, strict=True)}

    def search(self, pq: ParsedQuery, viewer: Viewer, page: int = 1, size: int = 20,
               sort: str = "relevance", facets: bool = True) -> SearchResult:
        self.refresh()
        searcher = self._live().searcher()
        query = self.build_query(pq, viewer)
        page, size = max(1, page), max(1, size)
        # many hits: the facets are counted in another thread while this one ranks and builds the hits
        parallel = facets and _estimated_hits(searcher, pq) >= self.parallel_facets_from
        counting = facet_pool().submit(searcher.aggregate, query, FACET_AGG) if parallel else None
        try:
            res = searcher.search(query, limit=size, offset=(page - 1) * size, count=True,
                                  order_by_field="date" if sort == "date" else None, order=tantivy.Order.Desc)
            total = _total(res)
            hits = make_hits(((stored_record(searcher, addr), float(score) if sort != "date" else 0.0)
                              for score, addr in res.hits), pq, viewer)
        except BaseException:
            if counting is not None:
                counting.cancel()  # (or it finishes on its own; its result is not wanted)
            raise
        if counting is not None:
            agg = counting.result()
        else:
            agg = searcher.aggregate(query, FACET_AGG) if facets and total else {}
        raw = {k: {b["key"]: b["doc_count"] for b in v["buckets"]} for k, v in agg.items()} if total else {}
        return SearchResult(total, hits, facet_lists(raw), page, size)


def _estimated_hits(searcher: tantivy.Searcher, pq: ParsedQuery) -> int:
    """An upper bound of a query's hits from the index's document frequencies (≈ 1 µs per term)."""
    everything = searcher.num_docs

    def unit(u: Unit, fields) -> int:
        if u.regex or not u.words:
            return everything  # (not estimated)
        if u.mode == "chars":
            return sum(searcher.doc_freq(f"{f}_c", u.words[0]) for f in fields)
        return sum(min(searcher.doc_freq(f"{f}_g", w) for w in u.words) for f in fields)

    bound = everything
    for group in pq.groups:
        bound = min(bound, sum(unit(u, TEXT_FIELDS) for u in group))
    for u in pq.numbers:
        bound = min(bound, unit(u, ("num",)))
    return bound


def _stamp(path: Path) -> tuple | None:
    """What changes when a file is replaced (tantivy and ``_set_current`` write by rename)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


_facet_pool: ThreadPoolExecutor | None = None
_facet_pool_lock = threading.Lock()


def facet_pool() -> ThreadPoolExecutor:
    """The process's threads for facet counting (created on the first search)."""
    global _facet_pool
    with _facet_pool_lock:
        if _facet_pool is None:
            _facet_pool = ThreadPoolExecutor(FACET_THREADS, thread_name_prefix="search-facets")
        return _facet_pool


def _total(result: tantivy.SearchResult) -> int:
    """The hit count of a search run with ``count=True``."""
    return result.count  # type: ignore[attr-defined]  # tantivy's stub omits SearchResult.count
