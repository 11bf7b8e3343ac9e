"""Working days: State Council data for 2025–2026, overrides, and the plain-weekday fallback."""
import logging
from datetime import date, timedelta

import pytest

from archive_service.calendar import Calendar, Deadline, parse_notice, statutory_holidays


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


def test_estimated_holidays_are_announced(cal, caplog):
    with caplog.at_level(logging.WARNING):
        assert cal.is_workday(date(2027, 2, 8)) is False  # 初三 of 2027's Spring Festival (a Monday)
        assert cal.is_workday(date(2027, 2, 11)) is True  # an ordinary Thursday after the 补假 days
        assert cal.is_workday(date(2027, 2, 6)) is False  # Saturday
    assert cal.is_estimated(date(2027, 2, 8)) and not cal.is_estimated(date(2026, 2, 8))
    assert any("2027" in r.getMessage() for r in caplog.records)


def test_statutory_holidays_2027_from_the_lunar_calendar():
    days = statutory_holidays(2027)
    assert days[date(2027, 1, 1)] == "元旦"
    # 除夕 2027-02-05 (Fri) to 初三 02-08 (Mon); Sat/Sun 02-06/07 give 补假 on 02-09 and 02-10
    assert [d for d, n in sorted(days.items()) if n.startswith("春节")] == [
        date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10)]
    assert days[date(2027, 4, 5)] == "清明节"                  # the solar term
    assert days[date(2027, 5, 1)] == days[date(2027, 5, 2)] == "劳动节"
    assert days[date(2027, 6, 9)] == "端午节" and days[date(2027, 9, 15)] == "中秋节"
    assert {date(2027, 10, i) for i in (1, 2, 3)} <= set(days)
    # Oct 2–3 are a Saturday and a Sunday: two 补假 days
    assert days[date(2027, 10, 4)] == days[date(2027, 10, 5)] == "国庆节（补假）"
    # the computation matches chinesecalendar's statutory days for covered years (春节 2026: 除夕 Feb 16)
    assert {date(2026, 2, 16), date(2026, 2, 17), date(2026, 9, 25), date(2026, 6, 19)} <= set(statutory_holidays(2026))


def test_2027_deadlines_skip_new_year_and_national_day_and_say_estimated(cal):
    assert cal.deadline(date(2026, 12, 31), 1) == Deadline(date(2027, 1, 4), True)   # not 元旦 (Fri)
    sep30 = cal.deadline(date(2027, 9, 30), 1)
    assert sep30.day == date(2027, 10, 6) and sep30.estimated                       # Oct 1–5 off
    assert cal.deadline(date(2027, 1, 4), -3) == Deadline(date(2026, 12, 29), True)  # back over 元旦
    assert cal.deadline(date(2026, 3, 2), 3) == Deadline(date(2026, 3, 5), False)
    for start in (date(2026, 12, 20) + timedelta(days=i) for i in range(320)):
        for n in (1, 3, 5, -3):
            d = cal.add_workdays(start, n)
            assert d not in (date(2027, 1, 1), date(2027, 10, 1), date(2027, 10, 2), date(2027, 10, 3))


def test_overrides_win_and_a_confirmed_year_ends_the_estimate():
    cal = Calendar({date(2027, 2, 8): False, date(2027, 2, 20): True, date(2025, 10, 9): False,
                    date(2027, 2, 9): True}, confirmed_years=[2027])
    assert cal.is_workday(date(2027, 2, 8)) is False
    assert cal.is_workday(date(2027, 2, 20)) is True
    assert cal.is_workday(date(2027, 2, 10)) is True    # confirmed year: no estimated 补假
    assert cal.is_workday(date(2025, 10, 9)) is False   # a local change inside a covered year
    assert not cal.is_estimated(date(2027, 5, 5)) and cal.is_estimated(date(2028, 5, 5))
    assert cal.add_workdays(date(2027, 2, 5), 1) == date(2027, 2, 9)
    # an override in an unconfirmed year wins over the estimate for that day only
    cal = Calendar({date(2027, 2, 9): True})
    assert cal.is_workday(date(2027, 2, 9)) and not cal.is_workday(date(2027, 2, 10))


CSV_2027 = """日期,类型,说明
2027-01-01,休,元旦
2027-02-05,休,春节
2027-02-06,休,春节
2027-02-07,休,春节
2027-02-08,休,春节
2027-02-09,休,春节
2027-02-10,休,春节
2027-02-11,休,春节
2027-02-20,班,春节调休
"""

ICS_2027 = "\r\n".join([
    "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//CN",
    "BEGIN:VEVENT", "UID:a", "DTSTART;VALUE=DATE:20271001", "DTEND;VALUE=DATE:20271008", "SUMMARY:国庆节 休",
    "END:VEVENT",
    "BEGIN:VEVENT", "UID:b", "DTSTART;VALUE=DATE:20270926", "SUMMARY:国庆节 ",
    " 调休上班（班）", "END:VEVENT", "END:VCALENDAR", ""])


def test_notice_files_parse():
    days = parse_notice(CSV_2027)
    assert days[date(2027, 2, 11)] == (False, "春节") and days[date(2027, 2, 20)] == (True, "春节调休")
    ics = parse_notice(ICS_2027)
    assert [d for d, (w, _) in sorted(ics.items()) if not w] == [date(2027, 10, i) for i in range(1, 8)]
    assert ics[date(2027, 9, 26)][0] is True
    with pytest.raises(ValueError, match="第 3 行"):
        parse_notice("2027-01-01,休\n2027-01-02,休\n2027-13-01,休\n")
    with pytest.raises(ValueError, match="休"):
        parse_notice("2027-01-01,maybe\n")


def test_workdays_between(cal):
    assert cal.workdays_between(date(2025, 9, 30), date(2025, 10, 11)) == 3
