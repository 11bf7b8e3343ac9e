"""Working days: State Council data for 2025–2026, overrides, and the plain-weekday fallback."""
import logging
from datetime import date

import pytest

from archive_service.calendar import Calendar


@pytest.fixture
def cal():
    return Calendar()


@pytest.mark.parametrize("day, workday", [
    (date(2025, 1, 1), False),    # New Year
    (date(2025, 1, 26), True),    # Sunday make-up workday before Spring Festival
    (date(2025, 2, 8), True),     # Saturday make-up workday
    (date(2025, 2, 4), False),    # Spring Festival
    (date(2025, 9, 28), True),    # Sunday make-up workday before National Day
    (date(2025, 10, 8), False),   # last day of the National Day holiday
    (date(2025, 10, 11), True),   # Saturday make-up workday
    (date(2025, 10, 9), True),    # an ordinary Thursday
    (date(2026, 2, 16), False),   # Spring Festival 2026 (a Monday)
    (date(2026, 10, 1), False),
])
def test_state_council_days(cal, day, workday):
    assert cal.is_workday(day) is workday


def test_start_day_is_not_counted(cal):
    assert cal.add_workdays(date(2025, 3, 3), 1) == date(2025, 3, 4)     # Monday + 1 → Tuesday
    assert cal.add_workdays(date(2025, 3, 7), 1) == date(2025, 3, 10)    # Friday + 1 → Monday


def test_saturday_start(cal):
    # Saturday 2025-09-27: the next working day is the make-up Sunday 2025-09-28 (find_workday gets this wrong)
    assert cal.add_workdays(date(2025, 9, 27), 1) == date(2025, 9, 28)
    # an ordinary Saturday: Monday is the first working day, Wednesday the third
    assert cal.add_workdays(date(2025, 3, 8), 3) == date(2025, 3, 12)


def test_counting_across_national_day(cal):
    # 2025-09-30 (Tue) + 3 working days: Oct 1–8 are holidays, Oct 9 (Thu), 10 (Fri), 11 (Sat, make-up)
    assert cal.add_workdays(date(2025, 9, 30), 3) == date(2025, 10, 11)
    # three working days before a meeting on 2025-10-09: Oct 9 → Sep 30, 29, 28 (make-up Sunday)
    assert cal.add_workdays(date(2025, 10, 9), -3) == date(2025, 9, 28)


def test_spring_festival_2026(cal):
    # 2026-02-13 (Fri) + 1: the holiday runs Feb 15–23, with Feb 14 (Sat) a make-up workday
    assert cal.add_workdays(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert cal.add_workdays(date(2026, 2, 14), 1) == date(2026, 2, 24)


def test_fallback_to_weekdays_is_announced(cal, caplog):
    with caplog.at_level(logging.WARNING):
        assert cal.is_workday(date(2027, 2, 8)) is True   # a Monday; no data for 2027
        assert cal.is_workday(date(2027, 2, 6)) is False  # Saturday
    assert cal.is_fallback(date(2027, 2, 8))
    assert any("2027" in r.getMessage() for r in caplog.records)


def test_overrides_win_and_end_the_fallback():
    cal = Calendar({date(2027, 2, 8): False, date(2027, 2, 20): True, date(2025, 10, 9): False})
    assert cal.is_workday(date(2027, 2, 8)) is False
    assert cal.is_workday(date(2027, 2, 20)) is True
    assert cal.is_workday(date(2025, 10, 9)) is False   # a local change inside a covered year
    assert not cal.is_fallback(date(2027, 5, 5))
    assert cal.add_workdays(date(2027, 2, 5), 1) == date(2027, 2, 9)


def test_workdays_between(cal):
    assert cal.workdays_between(date(2025, 9, 30), date(2025, 10, 11)) == 3
