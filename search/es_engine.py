"""The Elasticsearch engine (scale-out), for Elasticsearch 8.x clusters.

Client line: ``elasticsearch>=8.19,<9``. The 9.x client sends ``compatible-with=9`` headers that an
8.x cluster rejects, and 8.x is what government clusters run today; an 8.19 client also talks to
a 9.x cluster in compatibility mode.

* Terms: records are analysed by ``search.analysis`` (the same bigram/unigram streams as tantivy)
  and indexed with a ``whitespace`` analyzer, so both engines see identical terms and answer alike.
  A ``title.native`` sub-field uses the cluster's own analyzer (``cjk`` built in, or ``ik_max_word``
  when the IK plugin is installed: ``?analyzer=ik_max_word``) for other consumers such as Kibana.
* Index: versioned indices ``<alias>-v<millis>`` behind the alias ``<alias>`` (default
  ``archive-search``), created from the index template ``<alias>-template``; ``rebuild`` fills a new
  index and swaps the alias atomically.
* Writes: bulk with ``version_type=external_gte`` and the document revision as version, so a stale
  update never overwrites a newer one.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from .analysis import analyze
from .engine import Progress, epoch_seconds
from .query import ParsedQuery, Unit
from .results import SearchResult, Viewer, facet_lists, make_hit

TEXT_FIELDS = ("title", "num", "body")
AGGS = {"kind": {"terms": {"field": "kind_label", "size": 50}},
        "dept": {"terms": {"field": "dept_name", "size": 200}},
        "year": {"terms": {"field": "year", "size": 200}},
        "retention": {"terms": {"field": "retention", "size": 50}}}


def template_body(alias: str, native_analyzer: str) -> dict:
    grams = {"type": "text", "analyzer": "archive_terms", "index_options": "positions"}
    chars = {"type": "text", "analyzer": "archive_terms", "index_options": "freqs"}
    props: dict[str, dict[str, Any]] = {f"{f}_g": dict(grams) for f in TEXT_FIELDS}
    props |= {f"{f}_c": dict(chars) for f in TEXT_FIELDS}
    props |= {k: {"type": "keyword"} for k in ("key", "kind", "kind_label", "dept_name", "dept_code", "retention")}
    props |= {k: {"type": "long"} for k in ("dept", "grants", "catalogue", "year", "date")}
    props["title"] = {"type": "keyword", "fields": {"native": {"type": "text", "analyzer": native_analyzer}}}
    props["src"] = {"type": "object", "enabled": False}
    return {
        "index_patterns": [f"{alias}-v*"],
        "template": {
            "settings": {"number_of_shards": 1, "analysis": {"analyzer": {
                "archive_terms": {"type": "custom", "tokenizer": "whitespace"}}}},
            "mappings": {"dynamic": False, "properties": props},
        },
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


class ElasticsearchEngine:
    name = "elasticsearch"

    @classmethod
    def from_url(cls, url: str) -> ElasticsearchEngine:
        from elasticsearch import Elasticsearch

        parts = urlsplit(url)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        client = Elasticsearch(base, request_timeout=float(params.get("timeout", 30)),
                               verify_certs=params.get("verify_certs", "true") != "false")
        return cls(client, params.get("index", "archive-search"), params.get("analyzer", "cjk"))

    def __init__(self, client, alias: str = "archive-search", native_analyzer: str = "cjk"):
        self.es = client
        self.alias = alias
        self.native_analyzer = native_analyzer
        self._ready = False

    # -- index management ------------------------------------------------------------------------
    def _ensure(self) -> None:
        if self._ready:
            return
        self.es.indices.put_index_template(name=f"{self.alias}-template",
                                           **template_body(self.alias, self.native_analyzer))
        if not self.es.indices.exists_alias(name=self.alias):
            index = self._new_index()
            self.es.indices.update_aliases(actions=[{"add": {"index": index, "alias": self.alias}}])
        self._ready = True

    def _new_index(self) -> str:
        name = f"{self.alias}-v{int(time.time() * 1000)}"
        self.es.indices.create(index=name)
        return name

    def _bulk(self, actions: Iterable[dict], refresh) -> None:
        from elasticsearch import helpers

        errors = []
        for ok, item in helpers.streaming_bulk(self.es, actions, raise_on_error=False, refresh=refresh,
                                               chunk_size=1000, max_retries=3):
            if not ok:
                info = next(iter(item.values()))
                if info.get("status") not in (404, 409):  # 409: a newer version is indexed already
                    errors.append(info)
        if errors:
            raise RuntimeError(f"Elasticsearch bulk errors: {errors[:3]}")

    def _index_actions(self, records: Iterable[dict], index: str, counter=None):
        for rec in records:
            if counter is not None:
                counter()
            yield {"_op_type": "index", "_index": index, "_id": str(rec["id"]),
                   "version": int(rec.get("revision") or 1), "version_type": "external_gte", "_source": to_source(rec)}

    # -- engine interface ------------------------------------------------------------------------
    def upsert(self, records: list[dict]) -> None:
        self._ensure()
        self._bulk(self._index_actions(records, self.alias), refresh="wait_for")

    def delete(self, ids: list[str], revisions: list[int] | None = None) -> None:
        self._ensure()
        self._bulk(({"_op_type": "delete", "_index": self.alias, "_id": str(i)} for i in ids), refresh="wait_for")

    def rebuild(self, records: Iterable[dict], progress: Progress | None = None) -> int:
        self._ready = False
        self.es.indices.put_index_template(name=f"{self.alias}-template",
                                           **template_body(self.alias, self.native_analyzer))
        index = self._new_index()
        self.es.indices.put_settings(index=index, settings={"index": {"refresh_interval": "-1"}})
        n = 0

        def tick():
            nonlocal n
            n += 1
            if progress and n % 1000 == 0:
                progress(1000)

        self._bulk(self._index_actions(records, index, tick), refresh=False)
        self.es.indices.put_settings(index=index, settings={"index": {"refresh_interval": "1s"}})
        self.es.indices.refresh(index=index)
        old = (list(self.es.indices.get_alias(name=self.alias).keys())
               if self.es.indices.exists_alias(name=self.alias) else [])
        actions = [{"remove": {"index": o, "alias": self.alias}} for o in old]
        self.es.indices.update_aliases(actions=[*actions, {"add": {"index": index, "alias": self.alias}}])
        for o in old:
            self.es.indices.delete(index=o, ignore_unavailable=True)
        if progress:
            progress(n % 1000)
        self._ready = True
        return n

    def count(self) -> int:
        self._ensure()
        return int(self.es.count(index=self.alias)["count"])

    def refresh(self) -> None:
        return None  # bulk writes wait for the refresh; searches always see the latest

    def close(self) -> None:
        self.es.close()

    # -- queries ---------------------------------------------------------------------------------
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
                clauses = [{"span_multi": {"match": {"regexp": {f"{f}_g": {"value": w}}}}}
                           if w.startswith(".?") or w.endswith(".?") else {"span_term": {f"{f}_g": w}}
                           for w in u.words]
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

        self._ensure()
        return {h["_id"] for h in helpers.scan(self.es, index=self.alias, query={"query": self.build_query(pq, viewer)},
                                               source=False, size=1000)}

    def search(self, pq: ParsedQuery, viewer: Viewer, page: int = 1, size: int = 20,
               sort: str = "relevance", facets: bool = True) -> SearchResult:
        self._ensure()
        page, size = max(1, page), max(1, size)
        kw = {"query": self.build_query(pq, viewer), "from_": (page - 1) * size, "size": size,
              "track_total_hits": True, "source": ["src"]}
        if sort == "date":
            kw["sort"] = [{"date": "desc"}, {"_score": "desc"}]
        if facets:
            kw["aggs"] = AGGS
        res = self.es.search(index=self.alias, **kw)
        hits = [make_hit(h["_source"]["src"], pq, viewer, float(h.get("_score") or 0.0)) for h in res["hits"]["hits"]]
        raw = {k: {b["key"]: b["doc_count"] for b in v["buckets"]} for k, v in (res.get("aggregations") or {}).items()}
        return SearchResult(int(res["hits"]["total"]["value"]), hits, facet_lists(raw), page, size)
