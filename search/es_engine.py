"""The Elasticsearch engine (scale-out), for Elasticsearch 8.x clusters.

Client line: ``elasticsearch>=8.19,<9``. Compatibility, honestly: the elasticsearch-py 8.19 client is
only guaranteed against 8.19+ servers (Elastic's rule: a client works with servers of the same major
version at the same or a later minor). It sends ``compatible-with=8`` headers; older 8.x servers answer
the requests used here, but that is tested only when ``ARCHIVE_TEST_ELASTICSEARCH_URL`` points at one.

* Terms: records are analysed by ``search.analysis`` (the same bigram/unigram streams as tantivy)
  and indexed with a ``whitespace`` analyzer, so both engines see identical terms and answer alike.
  The token streams are indexed but not kept in ``_source`` (``rebuild`` reads the database anyway).
* Index: ``<alias>-v1`` (the first) or ``<alias>-v<millis>`` (each ``rebuild``) behind the alias
  ``<alias>`` (default ``archive-search``); settings and mappings go in ``indices.create`` (no index
  template an operator's catch-all template could override). The first index and its alias are
  created in one call (``is_write_index``) by ``init`` (``archive-service search init``) or the
  worker's first write; "already exists" is success. Searches never write cluster metadata.
* Writes: bulk with ``require_alias=true`` and ``version_type=external``: the version is the
  record's ``version`` (the indexer's outbox sequence), so it strictly increases and an older copy
  never wins. An item that fails on its own is returned as a per-item failure; cluster-level
  errors (missing alias, overload) fail the batch so the worker retries it.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from .analysis import MAX_TOKEN, analyze
from .engine import Progress, QueryRejected, epoch_seconds
from .query import ParsedQuery, Unit
from .results import SearchResult, Viewer, facet_lists, make_hits

log = logging.getLogger(__name__)
TEXT_FIELDS = ("title", "num", "body")
TOKEN_FIELDS = tuple(f"{f}_{s}" for f in TEXT_FIELDS for s in ("g", "c"))
AGGS = {"kind": {"terms": {"field": "kind_label", "size": 50}},
        "dept": {"terms": {"field": "dept_name", "size": 200}},
        "year": {"terms": {"field": "year", "size": 200}},
        "retention": {"terms": {"field": "retention", "size": 50}}}
REGEXP_REWRITE = "top_terms_1000"  # a leading ".?X" regexp expands to at most this many terms

CHUNK_DOCS = 1000
CHUNK_BYTES = 8 * 1024 * 1024  # well below the cluster's default http.max_content_length (100 MB)
MAX_DOC_BYTES = 4 * 1024 * 1024  # a larger document's body text is capped (and logged)
RETRIES = 4
# Error types that are about the query (answered 400 with the reason), not about the cluster.
QUERY_ERRORS = ("too_many_nested_clauses", "too_many_clauses", "query_shard_exception", "parsing_exception",
                "illegal_argument_exception")
_create_lock = threading.Lock()  # serialises index/alias creation within a process


def index_body(alias: str, native_analyzer: str) -> dict:
    """Settings and mappings of every index behind the alias (passed to ``indices.create``)."""
    grams = {"type": "text", "analyzer": "archive_terms", "index_options": "positions",
             "index_prefixes": {"min_chars": 1, "max_chars": 1}}
    chars = {"type": "text", "analyzer": "archive_terms", "index_options": "freqs"}
    props: dict[str, dict[str, Any]] = {f"{f}_g": dict(grams) for f in TEXT_FIELDS}
    props |= {f"{f}_c": dict(chars) for f in TEXT_FIELDS}
    props |= {k: {"type": "keyword"} for k in ("key", "kind", "kind_label", "dept_name", "dept_code", "retention")}
    props |= {k: {"type": "long"} for k in ("dept", "grants", "catalogue", "year", "date")}
    props["title"] = {"type": "keyword", "fields": {"native": {"type": "text", "analyzer": native_analyzer}}}
    props["src"] = {"type": "object", "enabled": False}
    return {
        "settings": {"number_of_shards": 1, "analysis": {
            "tokenizer": {"archive_ws": {"type": "whitespace", "max_token_length": MAX_TOKEN}},
            "analyzer": {"archive_terms": {"type": "custom", "tokenizer": "archive_ws"}}}},
        "mappings": {"dynamic": False, "_source": {"excludes": list(TOKEN_FIELDS)}, "properties": props},
    }


def to_source(rec: dict) -> dict:
    title_g, title_c = analyze(rec.get("title") or "")
    body_g, body_c = analyze(rec.get("body") or "")
    num_g, num_c = analyze(" ".join(rec.get("numbers") or []))
    src = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in rec.items()}
    return dict(key=str(rec["id"]), title_g=title_g, title_c=title_c, body_g=body_g, body_c=body_c,
                num_g=num_g, num_c=num_c, kind=rec.get("kind") or "", kind_label=rec.get("kind_label") or "",
                dept_name=rec.get("dept_name") or "", dept_code=(rec.get("dept_code") or "").upper(),
                retention=rec.get("retention") or "", dept=int(rec.get("dept") or 0),
                grants=[int(g) for g in rec.get("grants") or []], catalogue=1 if rec.get("catalogue") else 0,
                year=int(rec.get("year") or 0), date=epoch_seconds(rec.get("date")), title=rec.get("title") or "",
                src=src)


def record_version(rec: dict) -> int:
    """The external version: the indexer's outbox sequence (``version``), else the revision."""
    return int(rec.get("version") or rec.get("revision") or 1)


def _dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def client_options(url: str) -> tuple[str, dict[str, Any], dict[str, str]]:
    """(node URL, Elasticsearch() keyword arguments, engine parameters) from ``ARCHIVE_SEARCH_URL``.

    Query parameters: ``index``, ``analyzer``, ``timeout`` (seconds, default 30), ``verify_certs``
    (default true), ``ca_certs`` (a CA bundle path: Elasticsearch 8's own CA), ``ssl_assert_fingerprint``
    (the server certificate's SHA-256). The port defaults to 9200.
    """
    parts = urlsplit(url)
    params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    host = parts.hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    node = urlunsplit((parts.scheme, f"{host}:{parts.port or 9200}", parts.path.rstrip("/"), "", ""))
    kw: dict[str, Any] = {"request_timeout": float(params.get("timeout", 30))}
    verify = params.get("verify_certs", "true").lower() not in ("false", "0", "no")
    if parts.scheme == "https":
        kw["verify_certs"] = verify
        if params.get("ca_certs"):
            kw["ca_certs"] = params["ca_certs"]
        if params.get("ssl_assert_fingerprint"):
            kw["ssl_assert_fingerprint"] = params["ssl_assert_fingerprint"]
    if parts.username:
        kw["basic_auth"] = (unquote(parts.username), unquote(parts.password or ""))
        if parts.scheme == "http":
            log.warning("Elasticsearch: basic-auth credentials are sent over plain HTTP to %s", node)
        elif not verify and not params.get("ssl_assert_fingerprint"):
            log.warning("Elasticsearch: basic-auth credentials are sent over TLS without certificate "
                        "verification (verify_certs=false) to %s", node)
    return node, kw, params


class BulkItemsFailed(RuntimeError):
    """Items failed for a reason of the cluster, not of the document (missing alias, overload,
    server error): the whole batch must be retried."""


class ElasticsearchEngine:
    name = "elasticsearch"

    @classmethod
    def from_url(cls, url: str) -> ElasticsearchEngine:
        from elasticsearch import Elasticsearch

        node, kw, params = client_options(url)
        return cls(Elasticsearch(node, **kw), params.get("index", "archive-search"), params.get("analyzer", "cjk"))

    def __init__(self, client, alias: str = "archive-search", native_analyzer: str = "cjk"):
        self.es = client
        self.alias = alias
        self.native_analyzer = native_analyzer
        self._ready = False

    # -- index management ------------------------------------------------------------------------
    def init(self) -> bool:
        """Create the first index with its alias unless the alias exists; True if it was created."""
        with _create_lock:
            if self._ready:
                return False
            from elasticsearch import BadRequestError

            if self.es.indices.exists_alias(name=self.alias):
                self._ready = True
                return False
            try:
                self.es.indices.create(index=f"{self.alias}-v1", **index_body(self.alias, self.native_analyzer),
                                       aliases={self.alias: {"is_write_index": True}})
            except BadRequestError as exc:  # another process created it first
                if _error_type(exc) != "resource_already_exists_exception":
                    raise
                self._ready = True
                return False
            self._ready = True
            return True

    def _generations(self) -> list[str]:
        names = self.es.indices.get(index=f"{self.alias}-v*", allow_no_indices=True, expand_wildcards="open")
        return sorted(names, key=lambda n: int(n.rsplit("-v", 1)[1]) if n.rsplit("-v", 1)[1].isdigit() else 0)

    def _live_indices(self) -> list[str]:
        if not self.es.indices.exists_alias(name=self.alias):
            return []
        return list(self.es.indices.get_alias(name=self.alias).keys())

    # -- bulk ------------------------------------------------------------------------------------
    def _chunks(self, actions: Iterable[tuple[dict, dict | None]]) -> Iterator[list[bytes]]:
        lines: list[bytes] = []
        size = 0
        for meta, source in actions:
            pair = [_dumps(meta)] + ([_dumps(source)] if source is not None else [])
            n = sum(len(p) + 1 for p in pair)
            if lines and (len(lines) >= 2 * CHUNK_DOCS or size + n > CHUNK_BYTES):
                yield lines
                lines, size = [], 0
            lines += pair
            size += n
        if lines:
            yield lines

    def _send(self, lines: list[bytes], refresh) -> dict:
        from elasticsearch import ApiError, ConnectionTimeout
        from elasticsearch import ConnectionError as EsConnectionError

        body = b"\n".join(lines) + b"\n"
        for attempt in range(RETRIES + 1):
            try:
                return dict(self.es.bulk(operations=body, require_alias=True, refresh=refresh))
            except (ConnectionTimeout, EsConnectionError):
                if attempt == RETRIES:
                    raise
            except ApiError as exc:
                if exc.meta.status not in (429, 502, 503, 504) or attempt == RETRIES:
                    raise
            time.sleep(min(0.5 * 2 ** attempt, 8))
        raise AssertionError("unreachable")

    def _bulk(self, actions: Iterable[tuple[dict, dict | None]], refresh) -> dict[str, str]:
        """Send the actions; returns {id: reason} for items refused on their own account."""
        failures: dict[str, str] = {}
        fatal: list[dict] = []
        for lines in self._chunks(actions):
            res = self._send(lines, refresh)
            if not res.get("errors"):
                continue
            for item in res["items"]:
                op, info = next(iter(item.items()))
                status = int(info.get("status") or 0)
                if status < 300 or status == 409:  # 409: this or a newer version is indexed already
                    continue
                err = info.get("error") or {}
                etype = err.get("type", "") if isinstance(err, dict) else str(err)
                if status == 404 and op == "delete" and info.get("result") == "not_found" and not err:
                    continue
                if status == 429 or status >= 500 or etype == "index_not_found_exception":
                    fatal.append(info)  # overload, server error, alias missing: retry the whole batch
                else:
                    reason = err.get("reason", "") if isinstance(err, dict) else ""
                    failures[str(info.get("_id"))] = f"{status} {etype}: {reason}"[:2000]
        if fatal:
            raise BulkItemsFailed(f"Elasticsearch bulk: {len(fatal)} item(s) failed for the whole batch: {fatal[:3]}")
        return failures

    def _index_actions(self, records: Iterable[dict], index: str, counter=None):
        for rec in records:
            if counter is not None:
                counter()
            source = to_source(rec)
            size = 3 * (sum(len(source[k]) for k in TOKEN_FIELDS) + len(rec.get("body") or ""))  # UTF-8 bound
            if size > MAX_DOC_BYTES:
                keep = len(rec.get("body") or "") * MAX_DOC_BYTES // max(size, 1)
                log.warning("Elasticsearch: document %s is %d bytes; its body is capped to %d characters",
                            rec["id"], size, keep)
                source = to_source({**rec, "body": (rec.get("body") or "")[:keep]})
            yield ({"index": {"_index": index, "_id": str(rec["id"]), "version": record_version(rec),
                              "version_type": "external"}}, source)

    # -- engine interface ------------------------------------------------------------------------
    def upsert(self, records: list[dict]) -> dict[str, str]:
        """Index the records; returns {id: reason} for those the cluster refused (the rest are in)."""
        self.init()
        return self._bulk(self._index_actions(records, self.alias), refresh="wait_for")

    def delete(self, ids: list[str], versions: list[int] | None = None) -> None:
        """Delete by id; with ``versions`` (the same sequence as upserts) an older delete never wins."""
        self.init()
        vs: list[int | None] = list(versions) if versions else [None] * len(ids)
        actions = (({"delete": {"_index": self.alias, "_id": str(i)}
                     | ({"version": int(v), "version_type": "external"} if v else {})}, None)
                   for i, v in zip(ids, vs, strict=True))
        self._bulk(actions, refresh="wait_for")

    def rebuild(self, records: Iterable[dict], progress: Progress | None = None) -> int:
        """Fill a new index, swap the alias atomically, keep the previous generation (for searches
        still using it) and remove older ones; a failed rebuild deletes its own index.

        Callers serialise rebuilds (``indexing.reindex`` takes a PostgreSQL advisory lock)."""
        live = self._live_indices()
        gens = self._generations()
        previous = [g for g in gens if g not in live][-1:]
        for orphan in (g for g in gens if g not in live and g not in previous):
            self.es.indices.delete(index=orphan, ignore_unavailable=True)  # a failed or superseded rebuild
        stamp = int(time.time() * 1000)
        index, building = f"{self.alias}-v{stamp}", f"{self.alias}-building-{stamp}"
        body = index_body(self.alias, self.native_analyzer)
        body["settings"] = {**body["settings"], "refresh_interval": "-1"}
        # written through an alias of its own, so every bulk can require an alias
        self.es.indices.create(index=index, **body, aliases={building: {"is_write_index": True}})
        n = 0

        def tick():
            nonlocal n
            n += 1
            if progress and n % 1000 == 0:
                progress(1000)

        try:
            failures = self._bulk(self._index_actions(records, building, tick), refresh=False)
            if failures:
                log.warning("rebuild: %d document(s) refused: %s", len(failures), list(failures.items())[:3])
            self.es.indices.put_settings(index=index, settings={"index": {"refresh_interval": "1s"}})
            self.es.indices.refresh(index=index)
            live = self._live_indices()
            actions = [{"remove": {"index": o, "alias": self.alias}} for o in live]
            self.es.indices.update_aliases(actions=[*actions, {"remove": {"index": index, "alias": building}},
                                                    {"add": {"index": index, "alias": self.alias,
                                                             "is_write_index": True}}])
        except BaseException:
            self.es.indices.delete(index=index, ignore_unavailable=True)
            raise
        for old in previous:  # the generation before the one just replaced
            if old not in live:
                self.es.indices.delete(index=old, ignore_unavailable=True)
        if progress:
            progress(n % 1000)
        self._ready = True
        return n

    def count(self) -> int:
        return int(self.es.count(index=self.alias)["count"])

    def refresh(self) -> None:
        return None  # bulk writes wait for the refresh; searches always see the latest

    def close(self) -> None:
        self.es.close()

    # -- queries ---------------------------------------------------------------------------------
    @staticmethod
    def _span_word(field: str, w: str) -> dict[str, Any]:
        if w.endswith(".?"):  # "年.?": the character alone or first in a bigram = a prefix (index_prefixes)
            return {"span_multi": {"match": {"prefix": {field: {"value": w[:-2]}}}}}
        if w.startswith(".?"):  # ".?年": the character alone or second in a bigram (bounded expansion)
            return {"span_multi": {"match": {"regexp": {field: {"value": w, "rewrite": REGEXP_REWRITE}}}}}
        return {"span_term": {field: w.replace("\\", "")}}

    def _unit(self, u: Unit, fields) -> dict[str, Any]:
        qs: list[dict[str, Any]] = []
        for f in fields:
            boost = 2.0 if f == "title" else 1.0
            q: dict[str, Any]
            if u.mode == "chars":
                q = {"term": {f"{f}_c": {"value": u.words[0], "boost": boost}}}
            elif len(u.words) == 1 and not u.regex:
                q = {"term": {f"{f}_g": {"value": u.words[0], "boost": boost}}}
            elif u.regex:
                clauses = [self._span_word(f"{f}_g", w) for w in u.words]
                q = {"span_near": {"clauses": clauses, "slop": 0, "in_order": True, "boost": boost}}
            else:
                q = {"match_phrase": {f"{f}_g": {"query": " ".join(u.words), "boost": boost}}}
            qs.append(q)
        return qs[0] if len(qs) == 1 else {"bool": {"should": qs, "minimum_should_match": 1}}

    def _content(self, pq: ParsedQuery, fields) -> dict[str, Any]:
        must: list[dict[str, Any]] = []
        for group in pq.groups:
            ors = [self._unit(u, fields) for u in group]
            must.append(ors[0] if len(ors) == 1 else {"bool": {"should": ors, "minimum_should_match": 1}})
        must += [self._unit(u, ("num",)) for u in pq.numbers]
        return {"must": must or [{"match_all": {}}], "must_not": [self._unit(u, fields) for u in pq.excludes]}

    def build_query(self, pq: ParsedQuery, viewer: Viewer) -> dict:
        vid = viewer.department_id
        full = {"bool": {"should": [{"term": {"dept": vid}}, {"term": {"grants": vid}}], "minimum_should_match": 1}}
        branches = {"bool": {"should": [
            {"bool": {"filter": [full], **self._content(pq, TEXT_FIELDS)}},
            {"bool": {"filter": [{"term": {"catalogue": 1}}], **self._content(pq, ("title", "num"))}},
        ], "minimum_should_match": 1}}
        filters: list[dict[str, Any]] = []
        if pq.kinds:
            filters.append({"bool": {"should": [{"terms": {"kind": pq.kinds}}, {"terms": {"kind_label": pq.kinds}}]}})
        if pq.depts:
            filters.append({"bool": {"should": [{"terms": {"dept_code": [d.upper() for d in pq.depts]}},
                                                {"terms": {"dept_name": pq.depts}}]}})
        if pq.years:
            filters.append({"range": {"year": {"gte": pq.years[0], "lte": pq.years[1]}}})
        return {"bool": {"must": [branches], "filter": filters}}

    def matching_ids(self, pq: ParsedQuery, viewer: Viewer) -> set[str]:
        """Every matching record id (no ranking, no snippets): for recall checks and exports."""
        from elasticsearch import helpers

        with _query_errors():
            return {h["_id"] for h in helpers.scan(self.es, index=self.alias,
                                                   query={"query": self.build_query(pq, viewer)},
                                                   source=False, size=1000)}

    def search(self, pq: ParsedQuery, viewer: Viewer, page: int = 1, size: int = 20,
               sort: str = "relevance", facets: bool = True) -> SearchResult:
        page, size = max(1, page), max(1, size)
        kw = {"query": self.build_query(pq, viewer), "from_": (page - 1) * size, "size": size,
              "track_total_hits": True, "source": ["src"]}
        if sort == "date":
            kw["sort"] = [{"date": "desc"}, {"_score": "desc"}]
        if facets:
            kw["aggs"] = AGGS
        with _query_errors():
            res = self.es.search(index=self.alias, **kw)
        scored = ((h["_source"]["src"], float(h.get("_score") or 0.0)) for h in res["hits"]["hits"])
        hits = make_hits(scored, pq, viewer)
        raw = {k: {b["key"]: b["doc_count"] for b in v["buckets"]} for k, v in (res.get("aggregations") or {}).items()}
        return SearchResult(int(res["hits"]["total"]["value"]), hits, facet_lists(raw), page, size)


def _error_type(exc) -> str:
    body = getattr(exc, "body", None)
    err = body.get("error") if isinstance(body, dict) else None
    return err.get("type", "") if isinstance(err, dict) else ""


def _root_causes(exc) -> list[dict]:
    body = getattr(exc, "body", None)
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return []
    causes = list(err.get("root_cause") or [])
    for failure in err.get("failed_shards") or []:
        if isinstance(failure.get("reason"), dict):
            causes.append(failure["reason"])
    if isinstance(err.get("caused_by"), dict):
        causes.append(err["caused_by"])
    return causes or [err]


class _query_errors:
    """Turn a 400 about the query (clause limit, expensive queries disabled) into ``QueryRejected``."""

    def __enter__(self):
        return self

    def __exit__(self, et, exc, tb):
        from elasticsearch import BadRequestError

        if isinstance(exc, BadRequestError):
            for cause in _root_causes(exc):
                if cause.get("type") in QUERY_ERRORS or "allow_expensive_queries" in str(cause.get("reason")):
                    raise QueryRejected(str(cause.get("reason") or cause.get("type"))) from exc
        return False
