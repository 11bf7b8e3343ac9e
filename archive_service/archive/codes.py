"""档号 (archival code): ``全宗号-门类代码·年度-保管期限-机构(问题)代码-件号`` (DA/T 22-2015).

e.g. ``J012-WS·2025-D30-BGS-0042``: 全宗号 4 letters/digits, 门类 two letters (文书 = WS), 年度 four digits,
保管期限 Y / D30 / D10, 机构代码 1–10 capital letters/digits, 件号 four digits, zero-padded, from 0001.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .models import RETENTIONS

FONDS_RE = re.compile(r"^[A-Z0-9]{4}$")
UNIT_RE = re.compile(r"^[A-Z0-9]{1,10}$")
CODE_RE = re.compile(
    r"^(?P<fonds>[A-Z0-9]{4})-(?P<category>[A-Z]{2})·(?P<year>\d{4})-(?P<retention>Y|D30|D10)"
    r"-(?P<unit>[A-Z0-9]{1,10})-(?P<number>\d{4})$")
MIN_YEAR, MAX_YEAR = 1900, 2999


@dataclass(frozen=True)
class ArchivalCode:
    fonds: str
    category: str
    year: int
    retention: str
    unit: str
    number: int

    def __str__(self) -> str:
        return format_code(self.fonds, self.year, self.retention, self.unit, self.number, self.category)


def format_code(fonds: str, year: int, retention: str, unit: str, number: int, category: str = "WS") -> str:
    code = f"{fonds}-{category}·{year:04d}-{retention}-{unit}-{number:04d}"
    problem = code_problem(code)
    if problem:
        raise ValueError(problem)
    return code


def code_problem(code: str) -> str | None:
    """None when ``code`` is a well-formed 档号; otherwise why not (Chinese)."""
    if not isinstance(code, str) or not code:
        return "档号为空"
    m = CODE_RE.match(code)
    if m is None:
        return f"档号“{code}”格式应为 全宗号-WS·年度-保管期限-机构代码-件号，例如 J012-WS·2025-D30-BGS-0042"
    year, number = int(m["year"]), int(m["number"])
    if not MIN_YEAR <= year <= MAX_YEAR:
        return f"档号“{code}”的年度 {year} 超出范围"
    if m["retention"] not in RETENTIONS:
        return f"档号“{code}”的保管期限应为 Y、D30 或 D10"
    if number < 1:
        return f"档号“{code}”的件号须从 0001 起"
    return None


def is_well_formed(code: str) -> bool:
    return code_problem(code) is None


def parse_code(code: str) -> ArchivalCode:
    problem = code_problem(code)
    if problem:
        raise ValueError(problem)
    m = CODE_RE.match(code)
    if m is None:  # code_problem() found none, so the pattern matches
        raise ValueError(f"档号格式无效：{code}")
    return ArchivalCode(m["fonds"], m["category"], int(m["year"]), m["retention"], m["unit"], int(m["number"]))
