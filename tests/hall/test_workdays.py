"""Working days: the official Chinese calendar, and Monday-Friday plus overrides beyond it."""

from __future__ import annotations

import logging
from datetime import date

import chinese_calendar
import pytest

from hall.workdays import WorkCalendar

WARNING = ("hall.workdays", logging.WARNING)


@pytest.mark.parametrize("day, workday", [
    (date(2026, 10, 1), False),  # Thursday, National Day
    (date(2026, 10, 7), False),  # Wednesday, still the Golden Week
    (date(2026, 10, 8), True),  # Thursday after it
    (date(2026, 10, 10), True),  # Saturday, a makeup workday (调休)
    (date(2026, 10, 11), False),  # an ordinary Sunday
    (date(2026, 2, 14), True),  # Saturday worked before the Spring Festival
    (date(2026, 2, 17), False),  # Tuesday, Spring Festival
    (date(2026, 9, 25), False),  # Friday, Mid-autumn Festival
    (date(2026, 11, 27), True),  # an ordinary Friday
])
def test_the_official_calendar_decides_2026(day, workday):
    assert WorkCalendar().is_workday(day) is workday
    assert chinese_calendar.is_workday(day) is workday


@pytest.mark.parametrize("start, count, due", [
    (date(2026, 9, 30), 1, date(2026, 10, 8)),  # the whole Golden Week is skipped
    (date(2026, 9, 29), 5, date(2026, 10, 12)),  # 30 Sep, 8, 9, 10 (Saturday) and 12 Oct
    (date(2026, 9, 24), 1, date(2026, 9, 28)),  # Mid-autumn Friday and the weekend skipped
    (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday to Monday
    (date(2026, 11, 27), 0, date(2026, 11, 27)),
])
def test_add_workdays_across_holidays(start, count, due):
    assert WorkCalendar().add_workdays(start, count) == due
    if count:
        assert chinese_calendar.find_workday(count, start) == due


@pytest.mark.parametrize("day, workday", [
    (date(2027, 1, 4), True),  # Monday
    (date(2027, 1, 8), True),  # Friday
    (date(2027, 1, 9), False),  # Saturday
    (date(2027, 1, 10), False),  # Sunday
])
def test_beyond_the_official_data_monday_to_friday_are_workdays(day, workday):
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(day)  # the package really has no data: the fallback is exercised
    assert WorkCalendar().is_workday(day) is workday


def test_the_fallback_carries_add_workdays_into_2027():
    calendar = WorkCalendar()
    assert calendar.add_workdays(date(2027, 1, 8), 1) == date(2027, 1, 11)
    assert calendar.add_workdays(date(2026, 12, 30), 3) == date(2027, 1, 4)  # 31 Dec, 1 Jan (a Friday), 4 Jan


@pytest.mark.parametrize("day, workday", [
    (date(2027, 2, 7), True),  # a Sunday listed as worked
    (date(2027, 2, 8), False),  # a Monday listed as off
    (date(2027, 2, 9), False),
    (date(2027, 2, 10), True),  # not listed: Monday-Friday
    (date(2026, 10, 9), False),  # the overrides take precedence over the official calendar
    (date(2026, 10, 11), True),
])
def test_config_overrides_apply(day, workday):
    calendar = WorkCalendar(
        extra_workdays=["2027-02-07", "2026-10-11"], extra_holidays=["2027-02-08", "2027-02-09", "2026-10-09"]
    )
    assert calendar.is_workday(day) is workday


def test_overrides_move_a_deadline_in_a_fallback_year():
    plain = WorkCalendar()
    new_year = WorkCalendar(extra_holidays=["2027-01-01"])
    assert plain.add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 1)
    assert new_year.add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)
    worked_sunday = WorkCalendar(extra_workdays=["2027-01-10"])
    assert worked_sunday.add_workdays(date(2027, 1, 8), 1) == date(2027, 1, 10)


def test_the_fallback_is_logged_once_per_year_and_never_raises(caplog):
    caplog.set_level(logging.WARNING, logger="hall.workdays")
    calendar = WorkCalendar()
    for day in range(1, 29):
        calendar.is_workday(date(2027, 2, day))
    calendar.add_workdays(date(2027, 3, 1), 30)
    warnings = [r.getMessage() for r in caplog.records if (r.name, r.levelno) == WARNING]
    assert len(warnings) == 1
    assert "2027" in warnings[0] and "Monday-Friday" in warnings[0]
    assert calendar.is_workday(date(2028, 5, 1))  # a Monday of another year without data: said once more
    warnings = [r.getMessage() for r in caplog.records if (r.name, r.levelno) == WARNING]
    assert len(warnings) == 2 and "2028" in warnings[1]


def test_official_years_and_overrides_log_no_warning(caplog):
    caplog.set_level(logging.WARNING, logger="hall.workdays")
    calendar = WorkCalendar(extra_workdays=["2027-02-07"])
    calendar.add_workdays(date(2026, 9, 1), 60)
    assert calendar.is_workday(date(2027, 2, 7))
    assert not [r for r in caplog.records if r.name == "hall.workdays"]
