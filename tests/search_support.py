"""Engines for the behavioural search suite: tantivy always, Elasticsearch when
ARCHIVE_TEST_ELASTICSEARCH_URL is set (no server can be installed on the build machines)."""
from __future__ import annotations

import gzip
import json
import os
import uuid
from datetime import datetime
from pathlib import Path

ES_URL = os.environ.get("ARCHIVE_TEST_ELASTICSEARCH_URL", "")
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "articles.jsonl.gz"
# 401 articles of CORPUS (every 368th; id, title, body), shipped so a recall test always runs.
CORPUS_SAMPLE = Path(__file__).resolve().parent / "data" / "articles-sample.jsonl.gz"
ENGINES = ["tantivy"] + (["elasticsearch"] if ES_URL else [])


def make_engine(kind: str, tmp_path: Path):
    if kind == "tantivy":
        from search.tantivy_engine import TantivyEngine

        return TantivyEngine(tmp_path / "search"), lambda: None
    from search.es_engine import ElasticsearchEngine

    sep = "&" if "?" in ES_URL else "?"
    engine = ElasticsearchEngine.from_url(f"{ES_URL}{sep}index=archive-test-{uuid.uuid4().hex[:10]}")

    def cleanup():  # by name: clusters refuse wildcard deletes (action.destructive_requires_name)
        for name in engine.es.indices.get(index=f"{engine.alias}-v*", allow_no_indices=True):
            engine.es.indices.delete(index=name, ignore_unavailable=True)
        engine.es.indices.delete_index_template(name=f"{engine.alias}-template")

    return engine, cleanup


def record(i: int, title: str, body: str, dept: int = 1, **kw) -> dict:
    date = kw.pop("date", datetime(2026, 1, 1 + i % 28, 9, 0))
    rec = {"id": str(i), "kind": "file", "kind_label": "文件", "title": title, "numbers": [], "dept": dept,
           "dept_name": f"部门{dept}", "dept_code": f"D{dept}", "grants": [], "catalogue": False, "date": date,
           "year": date.year, "retention": "", "body": body, "revision": 1}
    rec.update(kw)
    return rec


def corpus_articles(n: int, path: Path = CORPUS) -> list[dict]:
    """The first ``n`` articles of the shared corpus; skips the test when the corpus is not there."""
    if not path.exists():
        import pytest

        pytest.skip(f"corpus not found at {path} (the shared laws corpus, ../shared/corpus beside the "
                    f"checkout); the sample in tests/data keeps a recall test running")
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            out.append(json.loads(line))
            if len(out) >= n:
                break
    return out
