"""Yellow and red cards: the supervision of the Rongchang hall.

A service's timer starts at the call: past its limit it earns a yellow
card, past limit x red_factor a red one. A promised case past its due day
is yellow, past twice its span of working days red. Each card is recorded
once per service and level for the monthly assessment; the active list
shows each overdue service once, at its current level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LEVELS = ("none", "yellow", "red")


def service_card(called_at: float, limit_s: float, now: float, red_factor: float) -> str:
    elapsed = now - called_at
    if elapsed > limit_s * red_factor:
        return "red"
    if elapsed > limit_s:
        return "yellow"
    return "none"


def day_end(day: str, tz: ZoneInfo) -> float:
    """The moment a local day is over: a case due that day is late from then on."""
    midnight = datetime.combine(date.fromisoformat(day) + timedelta(days=1), time(0), tz)
    return midnight.timestamp()


@dataclass(frozen=True)
class Overdue:
    """One service or case that is over its limit now."""

    level: str
    dept: str
    window: str | None
    clerk: str | None
    ticket: str | None
    case: str | None
    since: float  # when the current level began
    late_from: float  # when the limit was first crossed
    ticket_id: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return ("case", self.case) if self.case else ("ticket", self.ticket or "")


def serving_overdue(row: dict, now: float, red_factor: float) -> Overdue | None:
    level = service_card(row["called_at"], row["limit_s"], now, red_factor)
    if level == "none":
        return None
    late_from = row["called_at"] + row["limit_s"]
    since = row["called_at"] + row["limit_s"] * red_factor if level == "red" else late_from
    return Overdue(level, row["dept"], row["window"], row["clerk"], row["number"], None, since, late_from, row["id"])


def case_overdue(row: dict, now: float, tz: ZoneInfo) -> Overdue | None:
    late_from = day_end(row["due_date"], tz)
    if now < late_from:
        return None
    red_from = day_end(row["red_date"], tz)
    level, since = ("red", red_from) if now >= red_from else ("yellow", late_from)
    return Overdue(level, row["dept"], row["window"], row["clerk"], None, row["id"], since, late_from)
