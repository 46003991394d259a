"""Working days: the official Chinese calendar, with makeup workdays.

chinesecalendar only knows the years the State Council has published; for
any other year (2027 today) we fall back to Monday-Friday plus the config's
override table, and say so once in the log, never crash.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

import chinese_calendar

log = logging.getLogger(__name__)


class WorkCalendar:
    def __init__(self, extra_workdays: Iterable[str] = (), extra_holidays: Iterable[str] = ()) -> None:
        self.extra_workdays = {date.fromisoformat(d) for d in extra_workdays}
        self.extra_holidays = {date.fromisoformat(d) for d in extra_holidays}
        self._warned_years: set[int] = set()

    def is_workday(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if day.year not in self._warned_years:
                self._warned_years.add(day.year)
                log.warning(
                    "the official calendar has no data for %d: using Monday-Friday "
                    "and [calendar] overrides from the config; update chinesecalendar",
                    day.year,
                )
            return day.weekday() < 5

    def add_workdays(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (start itself not counted)."""
        day = start
        remaining = count
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                remaining -= 1
        return day
