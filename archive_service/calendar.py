"""Working-day calendar: chinesecalendar's State Council data, estimated holidays for later years, and an
administrator's override table.

Counting rule (STANDARDS.md §6): the start day is not counted; count forward one working day at a
time. For years that chinesecalendar does not cover and whose State Council notice has not been entered
(``confirmed_years``), the statutory holidays of the 全国年节及纪念日放假办法 are computed (元旦, 春节 from
除夕 by the lunar calendar, 清明 by the solar term, 劳动节, 端午, 中秋, 国庆; a holiday on a weekend gets
the next weekday off, 补假) and marked as estimated; the notice's 调休 days cannot be predicted. Entering
the notice (overrides for its days plus the year marked confirmed) ends the estimate.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar
from lunar_python import Lunar, Solar

log = logging.getLogger(__name__)


def _package_years() -> tuple[int, int]:
    years = sorted({d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays})
    return years[0], years[-1]


PACKAGE_FIRST_YEAR, PACKAGE_LAST_YEAR = _package_years()


@lru_cache(maxsize=64)
def statutory_holidays(year: int) -> dict[date, str]:
    """The estimated days off of ``year`` under the 全国年节及纪念日放假办法 (2024 revision), by name.

    Days fixed by the 办法 itself plus 补假 for a holiday that falls on a Saturday or Sunday; the State
    Council's 调休 (weekend days worked to join holidays up) are not estimated."""
    days: dict[date, str] = {}

    def put(d: date, name: str) -> None:
        days.setdefault(d, name)

    put(date(year, 1, 1), "元旦")
    new_year = Lunar.fromYmd(year, 1, 1).getSolar()
    first = date(new_year.getYear(), new_year.getMonth(), new_year.getDay())
    for i in range(-1, 3):                       # 除夕 and 初一–初三
        put(first + timedelta(days=i), "春节")
    qingming = Solar.fromYmd(year, 4, 15).getLunar().getJieQiTable()["清明"]
    put(date(qingming.getYear(), qingming.getMonth(), qingming.getDay()), "清明节")
    put(date(year, 5, 1), "劳动节")
    put(date(year, 5, 2), "劳动节")
    for month, day, name in ((5, 5, "端午节"), (8, 15, "中秋节")):
        s = Lunar.fromYmd(year, month, day).getSolar()
        put(date(s.getYear(), s.getMonth(), s.getDay()), name)
    for i in range(1, 4):
        put(date(year, 10, i), "国庆节")
    # 补假: each holiday on a weekend moves to the next weekday that is not already off
    for d, name in sorted(days.items()):
        if d.weekday() >= 5:
            sub = d + timedelta(days=1)
            while sub.weekday() >= 5 or sub in days:
                sub += timedelta(days=1)
            days[sub] = f"{name}（补假）"
    return {d: n for d, n in days.items() if d.year == year}


@dataclass(frozen=True)
class Deadline:
    """A computed day and whether any day counted on the way was an estimate."""
    day: date
    estimated: bool

    def label(self) -> str:
        return "（含估算的节假日，待国务院通知录入后确认）" if self.estimated else ""


class Calendar:
    def __init__(self, overrides: Mapping[date, bool] | None = None, confirmed_years: Iterable[int] = ()):
        self.overrides = dict(overrides or {})
        self.confirmed_years = set(confirmed_years)
        self._warned: set[int] = set()

    def covered_by_package(self, year: int) -> bool:
        return PACKAGE_FIRST_YEAR <= year <= PACKAGE_LAST_YEAR

    def is_estimated(self, d: date) -> bool:
        """True when ``d``'s status comes from the computed holidays, not from a State Council notice."""
        return not self.covered_by_package(d.year) and d.year not in self.confirmed_years

    def estimated_holidays(self, year: int) -> dict[date, str]:
        """The estimated days off of ``year`` (empty when the year's notice is known)."""
        if not self.is_estimated(date(year, 1, 1)):
            return {}
        return statutory_holidays(year)

    def is_workday(self, d: date) -> bool:
        if d in self.overrides:
            return self.overrides[d]
        if self.covered_by_package(d.year):
            return chinese_calendar.is_workday(d)
        if d.year not in self.confirmed_years:
            if d.year not in self._warned:
                self._warned.add(d.year)
                log.warning("no State Council notice for %s: using estimated statutory holidays", d.year)
            if d in statutory_holidays(d.year):
                return False
        return d.weekday() < 5

    def add_workdays(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (start not counted); n < 0 counts backwards."""
        return self.deadline(start, n).day

    def deadline(self, start: date, n: int) -> Deadline:
        """Like ``add_workdays``, and says whether an estimated day was counted or skipped on the way."""
        step = 1 if n >= 0 else -1
        d, left, estimated = start, abs(n), False
        while left:
            d += timedelta(days=step)
            estimated = estimated or self.is_estimated(d)
            if self.is_workday(d):
                left -= 1
        return Deadline(d, estimated)

    def workdays_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``."""
        count, d = 0, start
        while d < end:
            d += timedelta(days=1)
            count += self.is_workday(d)
        return count

    def span_estimated(self, a: date, b: date) -> bool:
        """True when any day from ``a`` to ``b`` (either order, both included) has estimated holidays."""
        lo, hi = min(a, b), max(a, b)
        return any(self.is_estimated(date(y, 1, 1)) for y in range(lo.year, hi.year + 1))

    def estimated_years(self, years) -> list[int]:
        return [y for y in years if self.is_estimated(date(y, 1, 1))]


_WORK_MARKS = ("班", "workday", "上班", "补班", "调休上班")
_OFF_MARKS = ("休", "holiday", "放假")


def parse_notice(text: str) -> dict[date, tuple[bool, str]]:
    """The days of a State Council holiday notice as ``{day: (is_workday, note)}``.

    Two formats: CSV lines ``日期,休|班[,说明]`` (a header line and blank lines are skipped; ``holiday`` /
    ``workday`` also accepted), or an iCalendar file whose all-day VEVENTs span the days and whose SUMMARY
    says 班 (调休上班) or otherwise 休. Raises ValueError naming the offending line."""
    if "BEGIN:VCALENDAR" in text[:2000].upper():
        return _parse_ics(text)
    days: dict[date, tuple[bool, str]] = {}
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.replace("，", ",").split(",")]
        try:
            day = date.fromisoformat(cells[0].replace("/", "-"))
        except ValueError:
            if no == 1:
                continue                         # a header line
            raise ValueError(f"第 {no} 行日期无效：{cells[0]}") from None
        mark = cells[1] if len(cells) > 1 else ""
        if mark.lower() not in _WORK_MARKS + _OFF_MARKS:
            raise ValueError(f"第 {no} 行须注明“休”或“班”：{line}")
        days[day] = (mark.lower() in _WORK_MARKS, (cells[2] if len(cells) > 2 else "")[:200])
    return days


def _ics_date(value: str) -> date:
    v = value.split(":")[-1].strip()[:8]
    return date(int(v[:4]), int(v[4:6]), int(v[6:8]))


def _parse_ics(text: str) -> dict[date, tuple[bool, str]]:
    # unfold continuation lines (RFC 5545 §3.1)
    lines: list[str] = []
    for raw in text.splitlines():
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        else:
            lines.append(raw.strip())
    days: dict[date, tuple[bool, str]] = {}
    event: dict[str, str] | None = None
    for line in lines:
        upper = line.upper()
        if upper == "BEGIN:VEVENT":
            event = {}
        elif upper == "END:VEVENT" and event is not None:
            if "DTSTART" not in event:
                raise ValueError("日历文件中有缺少 DTSTART 的事件")
            try:
                start = _ics_date(event["DTSTART"])
                end = _ics_date(event["DTEND"]) if "DTEND" in event else start + timedelta(days=1)
            except ValueError:
                raise ValueError(f"日历文件中的日期无效：{event['DTSTART']}") from None
            summary = event.get("SUMMARY", "")
            work = "班" in summary or "work" in summary.lower()
            d = start
            while d < max(end, start + timedelta(days=1)):
                days[d] = (work, summary[:200])
                d += timedelta(days=1)
            event = None
        elif event is not None and ":" in line:
            name = line.split(":", 1)[0].split(";", 1)[0].upper()
            if name in ("DTSTART", "DTEND"):
                event[name] = line
            elif name == "SUMMARY":
                event[name] = line.split(":", 1)[1].replace("\\,", ",")
    return days
