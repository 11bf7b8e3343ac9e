"""Engine-neutral pieces: the viewer, results, hits, and highlighted snippets.

Snippets are cut from the stored text by ``highlight`` for every engine alike, so both engines show
the same marks. Everything outside ``<mark>`` is HTML-escaped.
"""
from __future__ import annotations

import bisect
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from .analysis import CJK_CLASS, fold, shifting_chars
from .matching import PIECES as _PIECES
from .matching import Pattern, pattern_of
from .query import ParsedQuery

FACETS = ("kind", "dept", "year", "retention")
Matcher = re.Pattern | Pattern | None  # a query's matcher over folded text (None: nothing to mark)
SNIPPET_CHARS = 120


@dataclass(frozen=True)
class Viewer:
    """Who searches: their department decides what they may read."""
    department_id: int


@dataclass
class Hit:
    id: str
    title_html: str
    snippet_html: str | None  # None when the viewer may see the metadata only (catalogue)
    full_access: bool
    record: dict  # the stored record without its body
    score: float = 0.0
    page: int | None = None  # the page of the first match, when the text knows its pages (an OCR'd scan)


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple]] = field(default_factory=dict)
    page: int = 1
    size: int = 20

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def can_read(record: dict, viewer: Viewer) -> bool:
    return record.get("dept") == viewer.department_id or viewer.department_id in (record.get("grants") or [])


def _pattern(pq: ParsedQuery, include_numbers: bool = True) -> Matcher:
    """One matcher over the folded text for every positive unit (separators between words loose)."""
    units = [u for g in pq.groups for u in g] + (list(pq.numbers) if include_numbers else [])
    return pattern_of(tuple(u.text for u in units))


def _folded_map(text: str) -> tuple[str, list[int]]:
    """Fold ``text`` character by character; returns the folded text and, per folded character, the
    index of the original character it came from (so marks land on the original text)."""
    out, where = [], []
    for i, ch in enumerate(text):
        f = fold(ch) if not ch.isascii() else ch.lower()
        out.append(f)
        where.extend([i] * len(f))
    where.append(len(text))
    return "".join(out), where


_CJK_LITERALS = re.compile(f"[{CJK_CLASS}|]+")


@lru_cache(maxsize=1024)
def _cjk_literals(pat: Matcher) -> bool:
    """Whether ``pat`` is an alternation of CJK literals (the usual Chinese query)."""
    return isinstance(pat, re.Pattern) and _CJK_LITERALS.fullmatch(pat.pattern) is not None


def _fold_for(text: str, pat: Matcher) -> str:
    """``fold(text)``, or ``text`` itself when ``pat`` finds the same matches at the same offsets in
    it (CJK literals, and no character that folds into CJK or changes length): most bodies and titles
    need no fold for highlighting."""
    if _cjk_literals(pat) and not shifting_chars().search(text):
        return text
    return fold(text)


def _spans(text: str, pat: Matcher) -> list[tuple[int, int]]:
    """Original-text spans of the matches of ``pat`` (searched in the folded text)."""
    if pat is None:
        return []
    folded = _fold_for(text, pat)
    if len(folded) == len(text):  # the usual case: one folded character per original character
        return [m.span() for m in pat.finditer(folded) if m.end() > m.start()]
    folded, where = _folded_map(text)
    return [(where[m.start()], where[m.end() - 1] + 1) for m in pat.finditer(folded) if m.end() > m.start()]


_HTML_SPECIAL = re.compile("[&<>\"']")


def _mark(text: str, spans: list[tuple[int, int]]) -> str:
    escape = html.escape if _HTML_SPECIAL.search(text) else str  # (most texts need no escaping at all)
    out, pos = [], 0
    for a, b in spans:
        a = max(a, pos)
        if b <= a:
            continue
        out.append(escape(text[pos:a]))
        out.append(f"<mark>{escape(text[a:b])}</mark>")
        pos = b
    out.append(escape(text[pos:]))
    return "".join(out)


def highlight_title(title: str, pq: ParsedQuery) -> str:
    return _marked_title(title, _pattern(pq))


def _marked_title(title: str, pat: Matcher) -> str:
    return _mark(title, _spans(title, pat))


_CHUNK, _OVERLAP = 4096, 1024  # the overlap is longer than any query (MAX_QUERY = 500)


def _first(text: str, pat: Matcher) -> int | None:
    """The original-text offset of the first match of ``pat`` (searched in the folded text).

    The text is folded a chunk at a time, so a match near the start costs no fold of a long body."""
    if pat is None:
        return None
    for offset in range(0, len(text), _CHUNK):
        seg = text[offset:offset + _CHUNK + _OVERLAP]
        folded = fold(seg)
        if len(folded) != len(seg):  # folding changed lengths: map offsets the slow way
            spans = _spans(text, pat)
            return spans[0][0] if spans else None
        m = pat.search(folded)
        if m is not None and (m.start() < _CHUNK or offset + len(seg) >= len(text)):
            return offset + m.start()
    return None


def snippet(body: str, pq: ParsedQuery, width: int = SNIPPET_CHARS) -> str:
    return _snippet(body, _pattern(pq, include_numbers=False), width)


def _snippet(body: str, pat: Matcher, width: int = SNIPPET_CHARS) -> str:
    """A window of the body around the first match, matches wrapped in <mark>.

    Only the first match is looked for in the whole body; marks are computed inside the window
    (the body can be long and a one-character query matches thousands of times)."""
    shown = " ".join((body or "").split())
    if not shown:
        return ""
    folded = _fold_for(shown, pat) if len(shown) <= _CHUNK else None
    if pat is not None and folded is not None and len(folded) == len(shown):
        # a short body (the usual case): fold it once; the first match starts the window
        m = pat.search(folded)
        short, first = True, (m.start() if m is not None else None)
    else:
        short, first = False, _first(shown, pat)
    if first is None:
        return html.escape(shown[:width]) + ("…" if len(shown) > width else "")
    start = max(0, first - width // 4)
    end = min(len(shown), start + width)
    # the matches from the first on (a match may run past the window's end: look further, then clip)
    if short:
        assert pat is not None and folded is not None  # (a short body with a matcher)
        spans = []
        for m in pat.finditer(folded[first:end + _OVERLAP]):
            a, b = m.span()
            if a + first >= end:
                break
            if b > a:
                spans.append((a + first - start, b + first - start))
    else:
        spans = [(a, b) for a, b in _spans(shown[start:min(len(shown), end + width)], pat) if a < end - start]
    inside = [(a, min(b, end - start)) for a, b in spans]
    return ("…" if start else "") + _mark(shown[start:end], inside) + ("…" if end < len(shown) else "")


def _page_of_match(body: str, page_ends: list[int] | None, pat: Matcher) -> int | None:
    """The page (1-based) where the body's first match lies; ``page_ends``: where each page's text ends."""
    if not body or not page_ends:
        return None
    first = _first(body, pat)
    if first is None:
        return None
    return min(bisect.bisect_right(page_ends, first), len(page_ends) - 1) + 1


def make_hits(scored: Iterable[tuple[dict, float]], pq: ParsedQuery, viewer: Viewer) -> list[Hit]:
    """Hits for (record, score) pairs in rank order; the query's matchers are built once for all.
    The records are the engine's fresh copies: each becomes its hit's ``record``, without its body."""
    title_pat, body_pat = _pattern(pq), _pattern(pq, include_numbers=False)
    hits = []
    for record, score in scored:
        full = can_read(record, viewer)
        body = record.pop("body", "")
        page_ends = record.pop("page_ends", None)
        hits.append(Hit(str(record["id"]), _marked_title(record.get("title", ""), title_pat),
                        _snippet(body, body_pat) if full else None, full, record, score,
                        _page_of_match(body, page_ends, body_pat) if full else None))
    return hits


def facet_lists(raw: dict[str, dict]) -> dict[str, list[tuple]]:
    """{facet: {value: count}} → {facet: [(value, count), …]} sorted by count, then value."""
    out = {}
    for name in FACETS:
        items = [(k, c) for k, c in (raw.get(name) or {}).items() if c and k not in ("", None)]
        if name == "year":
            items.sort(key=lambda kv: -int(kv[0]))
        else:
            items.sort(key=lambda kv: (-kv[1], str(kv[0])))
        out[name] = items
    return out


#: the ``part`` of a letter's issued document, which represents the letter in results
FINAL_PART = "正式文件"


def _number_key(text: str) -> str:
    return "".join(_PIECES.findall(fold(text)))


def group_hits(result: SearchResult, pq: ParsedQuery) -> SearchResult:
    """One hit per letter: hits whose records share a ``group`` (a letter's draft, final document, 公文处理单
    and attachments) are folded into the best-ranked one, which lists them in ``record["parts"]`` (the part
    that matched named by its ``part``). A hit whose 发文字号 is the query (or a 文号: term) comes first.
    Grouping is per page of results; ``total`` counts one per letter on this page."""
    wanted = {_number_key(u.text) for u in pq.numbers}
    whole = _number_key(" ".join(u.text for g in pq.groups for u in g))
    if whole:
        wanted.add(whole)
    wanted.discard("")
    out: list[Hit] = []
    by_group: dict[str, Hit] = {}
    for hit in result.hits:
        group = hit.record.get("group")
        part = {"id": hit.id, "part": hit.record.get("part") or hit.record.get("kind_label"),
                "title": hit.record.get("title"), "kind": hit.record.get("kind"), "access": hit.full_access}
        if not group:
            out.append(hit)
            continue
        first = by_group.get(group)
        if first is None:
            hit.record["parts"] = [part]
            by_group[group] = hit
            out.append(hit)
        elif hit.record.get("part") == FINAL_PART and first.record.get("part") != FINAL_PART:
            # the issued document stands for the letter, in the place of the best-ranked part
            hit.record["parts"] = [part, *first.record.pop("parts")]
            hit.score = max(hit.score, first.score)
            out[out.index(first)] = by_group[group] = hit
        else:
            first.record["parts"].append(part)
    if wanted:
        out.sort(key=lambda h: not any(_number_key(n) in wanted for n in h.record.get("numbers") or []))
    folded = len(result.hits) - len(out)
    return SearchResult(result.total - folded, out, result.facets, result.page, result.size)
