"""A recording HTTP server that answers like Elasticsearch 8, for the Elasticsearch contract tests.

It is NOT Elasticsearch: it keeps indices, aliases and documents in a dict, applies external
versioning and ``require_alias`` the way the Elasticsearch 8 documentation describes, answers with
the ``X-Elastic-Product: Elasticsearch`` header the 8.x client checks, and records every request so
a test can assert exactly what the engine sent. Searches answer no hits. It checks requests, not a
cluster: the behavioural suite against a real cluster runs with ARCHIVE_TEST_ELASTICSEARCH_URL.
"""
from __future__ import annotations

import fnmatch
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body) if self.body else None

    def ndjson(self) -> list[dict]:
        return [json.loads(line) for line in self.body.decode().splitlines() if line.strip()]


@dataclass
class Index:
    body: dict
    aliases: dict[str, dict] = field(default_factory=dict)
    docs: dict[str, tuple[int, dict]] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)


class Recorder:
    def __init__(self):
        self.requests: list[Request] = []
        self.indices: dict[str, Index] = {}
        self.lock = threading.Lock()
        self.create_delay = 0.0  # widen the window between "alias exists?" and "create"
        self.refuse: dict[str, tuple[int, str]] = {}  # document id → (item status, error type)
        self.fail_next: list[tuple[str, int, dict]] = []  # (path suffix, status, body) answered once
        self.search_error: tuple[int, dict] | None = None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # -- what tests look at ----------------------------------------------------------------------
    def sent(self, method: str | None = None, path_contains: str = "") -> list[Request]:
        return [r for r in self.requests if (method is None or r.method == method) and path_contains in r.path]

    def writes(self) -> list[Request]:
        """Requests that change cluster metadata or documents."""
        return [r for r in self.requests if r.method in ("PUT", "DELETE") or
                (r.method == "POST" and not r.path.endswith(("/_search", "/_count", "/_search/scroll")))]

    def aliased(self, alias: str) -> list[str]:
        return sorted(n for n, ix in self.indices.items() if alias in ix.aliases)

    # -- the fake cluster ------------------------------------------------------------------------
    def _resolve_write(self, name: str, require_alias: bool) -> tuple[str | None, dict | None]:
        targets = self.aliased(name)
        if targets:
            if len(targets) == 1:
                return targets[0], None
            writes = [t for t in targets if self.indices[t].aliases[name].get("is_write_index")]
            if len(writes) == 1:
                return writes[0], None
            return None, {"type": "illegal_argument_exception",
                          "reason": f"no write index is defined for alias [{name}]"}
        if require_alias:
            return None, {"type": "index_not_found_exception",
                          "reason": f"no such index [{name}] and [require_alias] request flag is [true] "
                                    f"and [{name}] is not an alias", "index": name}
        if name not in self.indices:  # auto-create with dynamic mappings, as a cluster would
            self.indices[name] = Index(body={})
        return name, None

    def _bulk(self, default_index: str | None, req: Request) -> dict:
        lines = req.ndjson()
        items, errors, i = [], False, 0
        require_alias = req.params.get("require_alias") == "true"
        while i < len(lines):
            op, meta = next(iter(lines[i].items()))
            i += 1
            source = None
            if op in ("index", "create", "update"):
                source = lines[i]
                i += 1
            doc_id = meta["_id"]
            target, err = self._resolve_write(meta.get("_index") or default_index, require_alias)
            info: dict = {"_index": target or meta.get("_index"), "_id": doc_id}
            if err is not None:
                info |= {"status": 404 if err["type"] == "index_not_found_exception" else 400, "error": err}
            elif doc_id in self.refuse:
                status, etype = self.refuse[doc_id]
                info |= {"status": status, "error": {"type": etype, "reason": f"refused {doc_id}"}}
            else:
                ix = self.indices[target]
                current = ix.docs.get(doc_id)
                version = meta.get("version")
                vtype = meta.get("version_type")
                conflict = (version is not None and current is not None and
                            (current[0] >= version if vtype == "external" else current[0] > version))
                if conflict:
                    info |= {"status": 409, "error": {"type": "version_conflict_engine_exception",
                                                      "reason": "version conflict"}}
                elif op == "delete":
                    if current is None:
                        info |= {"status": 404, "result": "not_found"}
                    else:
                        del ix.docs[doc_id]
                        info |= {"status": 200, "result": "deleted"}
                else:
                    ix.docs[doc_id] = (version or 1, source)
                    info |= {"status": 201 if current is None else 200,
                             "result": "created" if current is None else "updated"}
            errors = errors or info["status"] >= 300
            items.append({op: info})
        return {"took": 1, "errors": errors, "items": items}

    def answer(self, req: Request) -> tuple[int, dict | None]:
        for n, (suffix, status, body) in enumerate(self.fail_next):
            if req.path.endswith(suffix):
                del self.fail_next[n]
                return status, body
        parts = [unquote(p) for p in req.path.strip("/").split("/") if p]
        m = req.method
        if parts[:1] == ["_alias"]:
            hits = {n: {"aliases": {parts[1]: {}}} for n in self.aliased(parts[1])}
            return (200, hits) if hits else (404, {"error": f"alias [{parts[1]}] missing", "status": 404})
        if parts == ["_aliases"]:
            for action in req.json()["actions"]:
                (kind, a), = action.items()
                if kind == "add":
                    self.indices[a["index"]].aliases[a["alias"]] = {k: v for k, v in a.items()
                                                                    if k == "is_write_index"}
                elif kind == "remove":
                    self.indices[a["index"]].aliases.pop(a["alias"], None)
            return 200, {"acknowledged": True}
        if parts[-1:] == ["_bulk"]:
            return 200, self._bulk(parts[0] if len(parts) == 2 else None, req)
        if parts[-1:] in (["_search"], ["_count"]):
            if self.search_error is not None:
                return self.search_error
            if not self.aliased(parts[0]) and parts[0] not in self.indices:
                return 404, {"error": {"type": "index_not_found_exception", "reason": "no such index"},
                             "status": 404}
            if parts[-1] == "_count":
                return 200, {"count": sum(len(self.indices[n].docs) for n in self.aliased(parts[0]) or [parts[0]])}
            return 200, {"took": 1, "timed_out": False, "hits": {"total": {"value": 0, "relation": "eq"},
                                                                 "max_score": None, "hits": []},
                         "aggregations": {k: {"buckets": []} for k in ("kind", "dept", "year", "retention")}}
        if len(parts) == 2 and parts[1] == "_settings":
            self.indices[parts[0]].settings.update(req.json().get("index", req.json()))
            return 200, {"acknowledged": True}
        if len(parts) == 2 and parts[1] == "_refresh":
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        if len(parts) == 1 and m == "PUT":
            time.sleep(self.create_delay)
            if parts[0] in self.indices:
                return 400, {"error": {"type": "resource_already_exists_exception",
                                       "reason": f"index [{parts[0]}] already exists", "index": parts[0]},
                             "status": 400}
            body = req.json() or {}
            self.indices[parts[0]] = Index(body=body, aliases=dict(body.get("aliases") or {}))
            return 200, {"acknowledged": True, "shards_acknowledged": True, "index": parts[0]}
        if len(parts) == 1 and m == "DELETE":
            if parts[0] not in self.indices:
                return 404, {"error": {"type": "index_not_found_exception", "reason": "no such index"},
                             "status": 404}
            del self.indices[parts[0]]
            return 200, {"acknowledged": True}
        if len(parts) == 1 and m == "GET":
            names = [n for n in self.indices if fnmatch.fnmatch(n, parts[0])]
            return 200, {n: {"aliases": self.indices[n].aliases, "settings": {}, "mappings": {}} for n in names}
        return 400, {"error": {"type": "unsupported", "reason": f"{m} {req.path}"}, "status": 400}

    def _handler(self):
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                url = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                req = Request(self.command, url.path, {k: v[-1] for k, v in parse_qs(url.query).items()}, body)
                with recorder.lock:
                    recorder.requests.append(req)
                status, payload = recorder.answer_locked(req)
                data = b"" if self.command == "HEAD" or payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Type", "application/vnd.elasticsearch+json;compatible-with=8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

        return Handler

    def answer_locked(self, req: Request):
        if req.method == "PUT" and req.path.count("/") == 1 and self.create_delay:
            time.sleep(self.create_delay)  # outside the lock: lets concurrent requests interleave
        with self.lock:
            saved, self.create_delay = self.create_delay, 0.0
            try:
                return self.answer(req)
            finally:
                self.create_delay = saved
