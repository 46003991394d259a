"""The hall as protocol v1 describes it, parsed into small immutable records.

Every payload from the bus goes through one of these parsers; a malformed one
raises ValueError and is dropped by the caller with a log line, so a bad
message can never blank a screen that was showing good state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


def iso_seconds(at: str) -> str:
    """Events carry milliseconds, calls/recent whole seconds: one form to compare them."""
    return datetime.fromisoformat(at).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Call:
    ticket: str
    window: str
    at: str  # ISO 8601 to the second, with the hall's offset

    @property
    def key(self) -> tuple[str, str, str]:
        return self.ticket, self.window, self.at

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.at)

    def as_json(self) -> dict:
        return {"ticket": self.ticket, "window": self.window, "at": self.at}


@dataclass(frozen=True)
class QueueInfo:
    dept: str
    name: str
    waiting: int


@dataclass(frozen=True)
class WindowInfo:
    id: str
    name: str
    status: str  # open, paused, closed
    clerk: str | None
    clerk_name: str | None
    ticket: str | None  # whom it serves now
    dept: str | None
    card: str  # none, yellow, red


@dataclass(frozen=True)
class Card:
    level: str  # red or yellow
    dept: str
    window: str | None
    clerk: str | None
    ref: str  # the ticket number, or the case id
    is_case: bool
    since: str
    overdue_s: int


def parse_call(data: dict) -> Call:
    return Call(str(data["ticket"]), str(data["window"]), iso_seconds(str(data["at"])))


def parse_queue(data: dict) -> QueueInfo:
    return QueueInfo(str(data["dept"]), str(data.get("name") or data["dept"]), int(data["waiting"]))


def parse_window(data: dict) -> WindowInfo:
    serving = data.get("serving") or {}
    if not isinstance(serving, dict):
        raise TypeError("serving is not an object")
    window = str(data["window"])
    return WindowInfo(
        id=window, name=str(data.get("name") or f"{window}号窗口"), status=str(data["status"]),
        clerk=data.get("clerk"), clerk_name=data.get("clerk_name"),
        ticket=serving.get("ticket"), dept=serving.get("dept"), card=str(serving.get("card") or "none"),
    )


def parse_card(data: dict) -> Card:
    level = str(data["level"])
    if level not in ("red", "yellow"):
        raise ValueError(f"unknown card level {level!r}")
    ref = data.get("ticket") or data.get("case")
    if not ref:
        raise ValueError("a card names neither a ticket nor a case")
    return Card(level=level, dept=str(data["dept"]), window=data.get("window"), clerk=data.get("clerk"),
                ref=str(ref), is_case=not data.get("ticket"), since=str(data["since"]),
                overdue_s=int(data.get("overdue_s") or 0))


@dataclass(frozen=True)
class TodayCards:
    """``cards/today``: the hall's own count of the day's cards, dept -> (yellow, red)."""

    day: date
    counts: dict[str, tuple[int, int]]


def parse_today(data: dict) -> TodayCards:
    counts = {}
    for entry in data["depts"]:
        yellow, red = int(entry["yellow"]), int(entry["red"])
        if yellow < 0 or red < 0:
            raise ValueError("a negative count of cards")
        counts[str(entry["dept"])] = (yellow, red)
    return TodayCards(day=date.fromisoformat(data["day"]), counts=counts)


def parse_recent(data: dict) -> list[Call]:
    calls = data["calls"]
    if not isinstance(calls, list):
        raise TypeError("calls is not a list")
    return [parse_call(c) for c in calls]


def parse_cards(data: dict) -> list[Card]:
    cards = [parse_card(c) for c in data["cards"]]
    # The controller sends red first; the wall relies on it, so it does not trust it.
    return sorted(cards, key=lambda c: (c.level != "red", -c.overdue_s))
