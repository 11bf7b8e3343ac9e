"""Line breaking for Chinese official documents with 避头尾 (kinsoku).

Characters in NO_START never begin a line, characters in NO_END never end one; runs of half-width
letters and digits (2026, 0790-1234567, A4) stay together. Greedy: fill a line to the width, then, if
the next line would begin with forbidden punctuation, pull characters down from the current line.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Sequence

NO_START = set("，。、；：？！）》」』】〕〉”’…—～·%‰,.;:?!)]}>％")
NO_END = set("（《「『【〔〈“‘([{<")

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-/@_:+]*[A-Za-z0-9]|[A-Za-z0-9]|\s+|.", re.S)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _bad_break(cur: list[str], pulled: list[str], nxt: str) -> bool:
    """Would breaking after ``cur`` (``pulled`` going down before ``nxt``) violate 避头尾?"""
    head = next((t for t in pulled if not t.isspace()), nxt)
    return (bool(head) and head[0] in NO_START) or cur[-1][-1] in NO_END or cur[-1].isspace()


def units_of(text: str, keep: Iterable[str]) -> list[str]:
    """Tokens of ``text`` where each occurrence of a ``keep`` string (a name) is one unbreakable unit."""
    names = sorted({k for k in keep if k}, key=len, reverse=True)
    if not names:
        return tokens(text)
    out: list[str] = []
    for piece in re.split("(" + "|".join(map(re.escape, names)) + ")", text):
        if piece in names:
            out.append(piece)
        elif piece:
            out.extend(tokens(piece))
    return out


def break_lines(text: str, width: Callable[[str], float], first: float, rest: float | None = None,
                units: list[str] | None = None) -> list[str]:
    """Split ``text`` into lines whose ``width(line)`` fits ``first`` (first line) or ``rest``.

    ``units``: ``text`` already cut into pieces that are not broken (words, names); a piece longer
    than a whole line is still broken by characters."""
    rest = first if rest is None else rest
    toks = list(units) if units is not None and "".join(units) == text else tokens(text)
    lines: list[list[str]] = []
    cur: list[str] = []
    cur_w = 0.0
    limit = first
    cache: dict[str, float] = {}

    def w(t: str) -> float:
        v = cache.get(t)
        if v is None:
            v = cache[t] = width(t)
        return v

    i = 0
    while i < len(toks):
        t = toks[i]
        tw = w(t)
        if cur_w + tw <= limit + 0.01 or not cur:
            if not cur and tw > limit + 0.01 and len(t) > 1:  # an over-long run: split it by characters
                toks[i:i + 1] = list(t)
                continue
            if not cur and t.isspace():  # no leading blanks on a wrapped line
                i += 1
                continue
            cur.append(t)
            cur_w += tw
            i += 1
            continue
        # toks[i] starts the next line: blanks at a break vanish; then apply 避头尾 by pulling tokens
        # down from this line while the next line would begin with closing punctuation or this one
        # would end with an opening bracket.
        while i < len(toks) and toks[i].isspace():
            i += 1
        nxt = toks[i] if i < len(toks) else ""
        pulled: list[str] = []
        while len(cur) > 1 and _bad_break(cur, pulled, nxt):
            pulled.insert(0, cur.pop())
        if len(cur) <= 1 and _bad_break(cur, pulled, nxt) and pulled:
            cur.extend(pulled)  # cannot be fixed (a line of punctuation): keep the line as it was
            pulled = []
        while cur and cur[-1].isspace():
            cur.pop()
        while pulled and pulled[0].isspace():
            pulled.pop(0)
        lines.append(cur)
        cur, cur_w, limit = pulled, sum(w(p) for p in pulled), rest
    if cur:
        lines.append(cur)
    return ["".join(line) for line in lines] or [""]


def _ok_break(left: str, right: str) -> bool:
    return not (right and right[0] in NO_START) and not (left and left[-1] in NO_END)


def balanced_lines(words: Sequence[str], n: int, per: int) -> list[str] | None:
    """``words`` set in ``n`` lines of at most ``per`` characters, broken only between words and
    never against 避头尾, as even as possible (a trapezoid or diamond, upper lines preferred longer);
    None when no such break exists. Tries every set of break points (titles have few words)."""
    text = "".join(words)
    cuts = [0]
    for w in words:
        cuts.append(cuts[-1] + len(w))
    inner = [c for c in cuts[1:-1] if _ok_break(text[:c], text[c:])]
    best: tuple[float, list[str]] | None = None
    mean = len(text) / n

    def search(start: int, k: int, chosen: list[int]) -> None:
        nonlocal best
        if k == 1:
            if len(text) - start > per:
                return
            bounds = [0, *chosen, len(text)]
            lines = [text[a:b] for a, b in itertools.pairwise(bounds)]
            lens = [len(x) for x in lines]
            cost = sum((x - mean) ** 2 for x in lens)
            # an upright trapezoid (each line longer than the one above) reads worst: prefer the others
            if all(a < b for a, b in itertools.pairwise(lens)):
                cost += 0.5
            if best is None or cost < best[0]:
                best = (cost, lines)
            return
        for c in inner:
            if c <= start:
                continue
            if c - start > per:
                break
            search(c, k - 1, [*chosen, c])

    search(0, n, [])
    return None if best is None else best[1]


def starts_badly(line: str) -> bool:
    return bool(line) and line[0] in NO_START
