"""The one definition of how text becomes index terms, shared by every engine.

* ``fold``: NFKC (full-width → half-width, compatibility forms) then lower-case, one character for
  one character, so offsets into the folded text are offsets into the NFKC text (used by snippets).
* CJK runs become overlapping bigrams with consecutive positions ("审批局" → "审批 批局"); a run of one
  character becomes that character. Latin letters and digits form whole tokens ("gb", "2026").
* Wherever non-token characters (punctuation, spaces) separate two tokens, a gap token ``GAP`` is
  emitted, so a phrase never matches across punctuation ("审批，批准" does not contain "审批批").
* A single line break between two CJK characters is not a gap: text extracted from a PDF keeps the
  break between pages (and a wrapped line may survive extraction), and a phrase goes on across it.
* Every CJK character is also emitted into a separate unigram stream, which answers one-character
  queries exactly (a bigram index alone cannot: "审" is inside "审批" but is not a term).

Engines index the space-joined streams with a whitespace tokenizer, so both engines see the very
same terms and a query string is turned into the very same terms by ``query_terms``.
"""
from __future__ import annotations

import functools
import re
import unicodedata

GAP = "\u00a7"  # "§": never produced by the tokenizer itself (NFKC keeps it; it is not a token char)

# CJK Unified Ideographs (+ Ext A, compatibility ideographs, Ext B–F) and 〇.
CJK_CLASS = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_TOKEN = re.compile(f"([{CJK_CLASS}]+)|([a-z0-9]+)")
_CJK_CHAR = re.compile(f"[{CJK_CLASS}]")
_CJK_WRAP = re.compile(f"(?<=[{CJK_CLASS}])\r?\n(?=[{CJK_CLASS}])")
# Latin/digit tokens longer than this are split into consecutive pieces of this length, at index
# and query time alike: Elasticsearch's whitespace tokenizer splits at 255 characters by default,
# so both engines see the same terms and a long token still matches as a phrase of its pieces.
MAX_TOKEN = 255


# Full-width ASCII variants and the ideographic space: what NFKC does to them, as a fast table.
_FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def fold(text: str) -> str:
    """NFKC + lower-case, keeping one output character per NFKC character."""
    text = (text or "").translate(_FULL_WIDTH)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


@functools.cache
def shifting_chars() -> re.Pattern:
    """A class of the characters whose fold is not themselves one-for-one or yields a CJK character
    (compatibility ideographs, Kangxi radicals, ㊀, ligatures, …). A text without any of them matches a
    pattern of CJK literals at the same offsets folded or not, so highlighting may skip folding it.
    Built on first use (≈ 40 ms): the BMP and the supplementary blocks with such compatibility forms."""
    found = []
    for lo, hi in ((0, 0xD800), (0xE000, 0x10000), (0x1F100, 0x1F300), (0x2F800, 0x2FA20)):
        for cp in range(lo, hi):
            ch = chr(cp)
            f = fold(ch)
            if f != ch and (len(f) != 1 or _CJK_CHAR.search(f)):
                found.append(cp)
    ranges, start = [], None
    for i, cp in enumerate(found):  # runs of consecutive code points as a-b ranges
        if start is None:
            start = cp
        if i + 1 == len(found) or found[i + 1] != cp + 1:
            ranges.append(re.escape(chr(start)) + ("-" + re.escape(chr(cp)) if cp != start else ""))
            start = None
    return re.compile(f"[{''.join(ranges)}]")


def is_cjk(ch: str) -> bool:
    return bool(_CJK_CHAR.match(ch))


def analyze(text: str, folded: bool = False) -> tuple[str, str]:
    """Return (bigram stream, unigram stream), each space-separated, for indexing ``text``."""
    if not text:
        return "", ""
    text = text if folded else fold(text)
    if "\n" in text:
        text = _CJK_WRAP.sub("", text)
    grams: list[str] = []
    chars: list[str] = []
    last_end = 0
    for m in _TOKEN.finditer(text):
        if grams and m.start() != last_end:
            grams.append(GAP)
        last_end = m.end()
        run = m.group(1)
        if run is None:
            word = m.group(2)
            if len(word) <= MAX_TOKEN:
                grams.append(word)
            else:
                grams.extend(word[i:i + MAX_TOKEN] for i in range(0, len(word), MAX_TOKEN))
        elif len(run) == 1:
            grams.append(run)
            chars.append(run)
        else:
            grams.extend(map(str.__add__, run[:-1], run[1:]))
            chars.extend(run)
    return " ".join(grams), " ".join(chars)


def query_terms(text: str) -> tuple[str, list[str]]:
    """Turn one query unit into terms: ("chars", [c]) for a single CJK character, else ("grams", [...]).

    The grams list is a phrase (consecutive positions); an empty list means the unit has no
    searchable characters (only punctuation).
    """
    folded = fold(text).strip()
    grams, _chars = analyze(folded, folded=True)
    tokens = [t for t in grams.split(" ") if t]
    while tokens and tokens[0] == GAP:
        tokens.pop(0)
    while tokens and tokens[-1] == GAP:
        tokens.pop()
    if len(tokens) == 1 and len(tokens[0]) == 1 and is_cjk(tokens[0]):
        return "chars", tokens
    return "grams", tokens


def literal(text: str) -> str:
    """The folded form of a query unit, as matched by a plain substring scan and by highlighting."""
    return fold(text).strip()
