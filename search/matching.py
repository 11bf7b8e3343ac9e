"""Finding the query's units in folded text (highlighting, snippets, the page of a match).

A unit of several pieces ("审批，批准": pieces 审批 and 批准) matches with any run of separators
(neither CJK nor a-z0-9) between its pieces. As a Python regex that is ``审批[^<CJK>a-z0-9]+批准``,
whose compilation costs ≈ 0.8 ms per class (``re`` expands the BMP ranges of the class one code
point at a time) — more than the rest of a search request's highlighting. So only units of one
piece go into a compiled alternation; a pattern with a multi-piece unit is matched by ``Pattern``
below, which finds the first piece with ``str.find`` and checks the separators with one regex
compiled at import. Both give the matches of the alternation ``part1|part2|…`` (longest first):
the leftmost match, the first alternative at that position.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from .analysis import CJK_CLASS

PIECES = re.compile(f"[{CJK_CLASS}]+|[a-z0-9]+")
_SEP = re.compile(f"[^{CJK_CLASS}a-z0-9]+")


class Match:
    """The part of ``re.Match`` the callers use."""
    __slots__ = ("_end", "_start")

    def __init__(self, start: int, end: int):
        self._start, self._end = start, end

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end

    def span(self) -> tuple[int, int]:
        return self._start, self._end


class Pattern:
    """The alternation of ``parts`` (each a tuple of pieces joined by separator runs), in order."""

    def __init__(self, parts: list[tuple[str, ...]]):
        self.parts = parts

    def _part_at_or_after(self, pieces: tuple[str, ...], text: str, pos: int) -> tuple[int, int] | None:
        first, rest = pieces[0], pieces[1:]
        while (i := text.find(first, pos)) >= 0:
            j = i + len(first)
            for piece in rest:
                m = _SEP.match(text, j)
                if m is None or not text.startswith(piece, m.end()):
                    break
                j = m.end() + len(piece)
            else:
                return i, j
            pos = i + 1
        return None

    def search(self, text: str, pos: int = 0) -> Match | None:
        return next(self._scan(text, pos), None)

    def finditer(self, text: str) -> Iterator[Match]:
        return self._scan(text, 0)

    def _scan(self, text: str, pos: int) -> Iterator[Match]:
        # each part's next match at or after pos, kept until pos passes its start
        found: list[tuple[int, int] | None] = [self._part_at_or_after(p, text, pos) for p in self.parts]
        while True:
            best = -1
            for k, f in enumerate(found):  # in alternation order: on a tie the earlier part wins
                if f is not None and (best < 0 or f[0] < found[best][0]):  # type: ignore[index]
                    best = k
            if best < 0:
                return
            start, end = found[best]  # type: ignore[misc]
            yield Match(start, end)
            pos = end
            for k, f in enumerate(found):
                if f is not None and f[0] < pos:
                    found[k] = self._part_at_or_after(self.parts[k], text, pos)


@lru_cache(maxsize=1024)
def pattern_of(texts: tuple[str, ...]) -> re.Pattern | Pattern | None:
    """One matcher over the folded text for the unit texts ``texts`` (None: nothing searchable)."""
    parts = [tuple(pieces) for text in texts if (pieces := PIECES.findall(text))]
    if not parts:
        return None
    # the order of the former regex alternation: longest regex source first (stable)
    sep_len = len(_SEP.pattern)
    parts.sort(key=lambda p: sum(len(re.escape(x)) for x in p) + sep_len * (len(p) - 1), reverse=True)
    if all(len(p) == 1 for p in parts):
        return re.compile("|".join(re.escape(p[0]) for p in parts))
    return Pattern(parts)
