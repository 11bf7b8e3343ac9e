"""The tantivy index's schema and the mapping between search records and tantivy documents.

Text fields are indexed as the space-joined streams of ``analysis.analyze`` (bigrams ``*_g`` with
positions, single CJK characters ``*_c`` with frequencies) under a whitespace tokenizer; facets and
filters are raw or integer fast fields; the whole record is stored as JSON (``src``) for the hits.
"""
from __future__ import annotations

from datetime import datetime

import orjson
import tantivy

from .analysis import analyze
from .engine import epoch_seconds

TEXT_FIELDS = ("title", "num", "body")


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("key", tokenizer_name="raw", index_option="basic")
    for f in TEXT_FIELDS:
        sb.add_text_field(f"{f}_g", tokenizer_name="whitespace", index_option="position")
        sb.add_text_field(f"{f}_c", tokenizer_name="whitespace", index_option="freq")
    for f in ("kind", "kind_label", "dept_name", "dept_code", "retention"):
        sb.add_text_field(f, tokenizer_name="raw", fast=True, index_option="basic")
    for f in ("dept", "grants", "catalogue", "year", "date"):
        sb.add_integer_field(f, indexed=True, fast=f in ("dept", "year", "date"))
    sb.add_integer_field("rid", fast=True)  # the id as a number (-1 if not numeric): fast id listing
    sb.add_bytes_field("src", stored=True)
    return sb.build()


def _json_default(v):
    if isinstance(v, datetime):
        return v.isoformat()
    raise TypeError(type(v))


def source(rec: dict) -> bytes:
    """The stored record (JSON). Datetimes keep ``isoformat()`` (no offset), as the records always had."""
    return orjson.dumps(rec, default=_json_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


def stored_record(searcher: tantivy.Searcher, addr) -> dict:
    """The record stored with the document at ``addr`` (a fresh dict)."""
    return orjson.loads(searcher.doc(addr)["src"][0])


def to_document(rec: dict) -> tantivy.Document:
    title_g, title_c = analyze(rec.get("title") or "")
    body_g, body_c = analyze(rec.get("body") or "")
    num_g, num_c = analyze(" ".join(rec.get("numbers") or []))
    fields = dict(key=str(rec["id"]), title_g=title_g, title_c=title_c, body_g=body_g, body_c=body_c,
                  num_g=num_g, num_c=num_c, kind=rec.get("kind") or "", kind_label=rec.get("kind_label") or "",
                  dept_name=rec.get("dept_name") or "", dept_code=(rec.get("dept_code") or "").upper(),
                  retention=rec.get("retention") or "", dept=int(rec.get("dept") or 0),
                  catalogue=1 if rec.get("catalogue") else 0, year=int(rec.get("year") or 0),
                  date=epoch_seconds(rec.get("date")), rid=int(rec["id"]) if str(rec["id"]).isdigit() else -1,
                  src=source(rec))
    doc = tantivy.Document(**fields)
    for g in rec.get("grants") or []:
        doc.add_integer("grants", int(g))
    return doc
