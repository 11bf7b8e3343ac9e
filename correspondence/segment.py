"""Word segmentation for line breaks: titles break between words, names are never split.

rjieba (jieba-rs) with a user dictionary: the county's vocabulary below plus what ``learn`` is given —
the departments' names and full names and the matter register's names (``county_words``). The
segmenter is built once per process (about 0.4 s); ``learn`` adds only new words.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable

#: words of the county's correspondence that the general dictionary splits (审/管, 联/络/员 …)
COUNTY_WORDS = ("审管", "审管衔接", "审管互动", "审管联动", "协调联动", "联动机制", "联席会议", "联络员", "告知承诺",
                "行政审批", "审批局", "行政审批局", "市场监督管理局", "监督管理", "食品经营许可", "办法（试行）",
                "承诺制", "石城县", "事中事后监管", "批后监管", "会议纪要", "发文字号", "签发人")

_lock = threading.Lock()
_jieba = None
_known: set[str] = set()


def _segmenter():
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                import rjieba

                j = rjieba.Jieba()
                for w in COUNTY_WORDS:
                    j.add_word(w, None, None)
                _known.update(COUNTY_WORDS)
                _jieba = j
    return _jieba


def learn(words: Iterable[str]) -> None:
    """Add names (departments, matters) to the user dictionary; names are then never split."""
    new = {w.strip() for w in words if w and len(w.strip()) > 1} - _known
    if not new:
        return
    seg = _segmenter()
    with _lock:
        for w in sorted(new):
            seg.add_word(w, None, None)
        _known.update(new)


def words(text: str) -> list[str]:
    """``text`` cut into words (without the HMM guesser: unknown runs stay as single characters)."""
    if not text:
        return []
    return _segmenter().cut(text, False)


def county_words(session) -> list[str]:
    """The departments' names and full names and the matter register's names of this database."""
    from sqlalchemy import inspect, select, text

    from archive_service.models import Department

    names: list[str] = []
    for dept in session.scalars(select(Department)):
        names.append(dept.name)
        full = getattr(dept, "full_name", None)
        if full:
            names.append(full)
    if inspect(session.get_bind()).has_table("exchange_matters"):
        names.extend(session.scalars(text("SELECT name FROM exchange_matters")))
    return names
