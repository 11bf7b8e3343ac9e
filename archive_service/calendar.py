"""Working-day calendar: chinesecalendar's State Council data plus an administrator's override table.

Counting rule (STANDARDS.md §6): the start day is not counted; count forward one working day at a
time. Years that chinesecalendar does not cover and that have no override fall back to Monday–Friday,
and the calendar says so (``fallback_years`` and a log warning).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, timedelta

import chinese_calendar

log = logging.getLogger(__name__)


def _package_years() -> tuple[int, int]:
    years = sorted({d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays})
    return years[0], years[-1]


PACKAGE_FIRST_YEAR, PACKAGE_LAST_YEAR = _package_years()


class Calendar:
    def __init__(self, overrides: Mapping[date, bool] | None = None):
        self.overrides = dict(overrides or {})
        self._override_years = {d.year for d in self.overrides}
        self._warned: set[int] = set()

    def covered_by_package(self, year: int) -> bool:
        return PACKAGE_FIRST_YEAR <= year <= PACKAGE_LAST_YEAR

    def is_fallback(self, d: date) -> bool:
        """True when ``d`` is judged by weekday alone (no holiday data for its year)."""
        return not self.covered_by_package(d.year) and d.year not in self._override_years

    def is_workday(self, d: date) -> bool:
        if d in self.overrides:
            return self.overrides[d]
        if self.covered_by_package(d.year):
            return chinese_calendar.is_workday(d)
        if d.year not in self._override_years and d.year not in self._warned:
            self._warned.add(d.year)
            log.warning("no holiday data for %s: counting Monday–Friday as working days", d.year)
        return d.weekday() < 5

    def add_workdays(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (start not counted); n < 0 counts backwards."""
        step = 1 if n >= 0 else -1
        d, left = start, abs(n)
        while left:
            d += timedelta(days=step)
            if self.is_workday(d):
                left -= 1
        return d

    def workdays_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``."""
        count, d = 0, start
        while d < end:
            d += timedelta(days=1)
            count += self.is_workday(d)
        return count

    def fallback_years(self, years) -> list[int]:
        return [y for y in years if self.is_fallback(date(y, 1, 1))]
