"""The query language: terms AND-ed, ``"exact phrase"``, ``OR``, ``-exclude`` and filters.

    审批 监管              both (every term is matched as a contiguous string)
    "行政 审批"            the phrase, with any punctuation or space between the words
    审批 OR 备案           either (OR binds tighter than the implicit AND: a b OR c = a AND (b OR c))
    -撤销                 must not contain
    type:文件 dept:SCJG year:2026 year:2020-2023 文号:石审〔2026〕3号 档号:…   filters

A malformed query raises ``QuerySyntaxError`` with a Chinese message (the API answers 400).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .analysis import is_cjk, literal, query_terms

FILTER_KEYS = {"type": "type", "类型": "type", "dept": "dept", "部门": "dept", "year": "year", "年度": "year",
               "文号": "numbers", "档号": "numbers"}
MAX_QUERY = 500
MAX_UNITS = 32


class QuerySyntaxError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Unit:
    """One searched string: ``mode`` "chars" (a single CJK character) or "grams" (a phrase).

    ``words`` are index terms; a word that is a one-character CJK run at the edge of a unit next to
    a Latin/digit token becomes a regex ("年.?"), because in the body it may be part of a bigram.
    """
    text: str
    mode: str
    words: tuple[str, ...]
    regex: bool = False


@dataclass
class ParsedQuery:
    groups: list[list[Unit]] = field(default_factory=list)  # AND of ORs
    excludes: list[Unit] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    depts: list[str] = field(default_factory=list)
    years: tuple[int, int] | None = None
    numbers: list[Unit] = field(default_factory=list)

    @property
    def positive_units(self) -> list[Unit]:
        return [u for g in self.groups for u in g] + list(self.numbers)

    @property
    def is_empty(self) -> bool:
        return not (self.groups or self.excludes or self.kinds or self.depts or self.years or self.numbers)


def make_unit(text: str) -> Unit | None:
    mode, words = query_terms(text)
    if not words:
        return None
    if mode == "chars":
        return Unit(literal(text), "chars", tuple(words))
    out, regex = list(words), False
    if len(words) > 1:
        for i in (0, len(words) - 1):
            w = words[i]
            if len(w) == 1 and is_cjk(w):
                out[i] = f".?{w}" if i == 0 else f"{w}.?"
                regex = True
    if regex:
        out = [w if w.startswith(".?") or w.endswith(".?") else re.escape(w) for w in out]
    return Unit(literal(text), "grams", tuple(out), regex)


_TOKEN = re.compile(r'\s*(-?)(?:"([^"]*)"|(\S+))')


def _lex(q: str):
    """Yield (negated, text, quoted) triples; raises on an unbalanced quote."""
    pos = 0
    while pos < len(q):
        if q[pos:].strip() == "":
            return
        m = _TOKEN.match(q, pos)
        if m is None or (m.group(2) is None and m.group(3) is not None and '"' in m.group(3)):
            raise QuerySyntaxError("引号不成对，请检查查询中的 \" 是否闭合")
        neg, quoted, bare = m.group(1), m.group(2), m.group(3)
        pos = m.end()
        yield bool(neg), quoted if quoted is not None else bare, quoted is not None


def _year_range(value: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", value)
    if not m:
        raise QuerySyntaxError(f"年度格式有误：{value}（应为 2026 或 2020-2023）")
    lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
    if lo > hi:
        raise QuerySyntaxError(f"年度范围有误：{value}")
    return lo, hi


def parse(q: str | None, *, kinds=(), depts=(), years: str | None = None) -> ParsedQuery:
    """Parse the query string; ``kinds``/``depts``/``years`` are extra filters from form fields."""
    q = unicodedata.normalize("NFKC", q or "").replace("“", '"').replace("”", '"')
    if len(q) > MAX_QUERY:
        raise QuerySyntaxError(f"查询过长（不超过 {MAX_QUERY} 个字符）")
    pq = ParsedQuery(kinds=[k for k in kinds if k], depts=[d for d in depts if d])
    if years:
        pq.years = _year_range(years.strip())
    pending_or = False
    for neg, text, quoted in _lex(q):
        if not quoted and not neg and text == "OR":
            if not pq.groups or pending_or:
                raise QuerySyntaxError("OR 两侧都需要查询词")
            pending_or = True
            continue
        if not quoted and ":" in text[1:]:
            key, value = text.split(":", 1)
            target = FILTER_KEYS.get(key.lower() if key.isascii() else key)
            if target is not None:
                if neg or pending_or:
                    raise QuerySyntaxError(f"筛选条件 {key}: 不能与 - 或 OR 组合")
                value = value.strip('"')
                if not value:
                    raise QuerySyntaxError(f"筛选条件 {key}: 缺少取值")
                if target == "type":
                    pq.kinds.append(value)
                elif target == "dept":
                    pq.depts.append(value)
                elif target == "year":
                    pq.years = _year_range(value)
                else:
                    unit = make_unit(value)
                    if unit is None:
                        raise QuerySyntaxError(f"筛选条件 {key}: 的取值没有可搜索的字符")
                    pq.numbers.append(unit)
                continue
        if (neg and not text) or (not quoted and text == "-"):
            raise QuerySyntaxError("“-” 后面需要要排除的词")
        unit = make_unit(text)
        if unit is None:
            if pending_or:
                raise QuerySyntaxError("OR 两侧都需要查询词")
            continue  # only punctuation: nothing to search for
        if neg:
            if pending_or:
                raise QuerySyntaxError("OR 后面不能是排除条件")
            pq.excludes.append(unit)
        elif pending_or:
            pq.groups[-1].append(unit)
            pending_or = False
        else:
            pq.groups.append([unit])
    if pending_or:
        raise QuerySyntaxError("OR 两侧都需要查询词")
    if len(pq.positive_units) + len(pq.excludes) > MAX_UNITS:
        raise QuerySyntaxError(f"查询词过多（不超过 {MAX_UNITS} 个）")
    if pq.excludes and not (pq.groups or pq.numbers or pq.kinds or pq.depts or pq.years):
        raise QuerySyntaxError("只有排除条件：请至少输入一个要查找的词或筛选条件")
    return pq
