"""What the display knows of the hall: the last word on every retained topic,
the new calls not yet shown, and today's card tally.

Written by the MQTT thread (``apply``), read by the drawing loop
(``snapshot``, ``take_calls``); one lock between them. Nothing is ever cleared
on a disconnect: the wall keeps showing the last known state under its
"reconnecting" strip, and a message that does not parse changes nothing.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from display.calls import CallGate
from display.model import (
    Call,
    Card,
    QueueInfo,
    TodayCards,
    WindowInfo,
    parse_call,
    parse_cards,
    parse_queue,
    parse_recent,
    parse_today,
    parse_window,
)
from display.tally import CardTally

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    hall_online: bool | None  # None: not heard yet
    queues: tuple[QueueInfo, ...]
    windows: dict[str, WindowInfo]
    recent: tuple[Call, ...]
    cards: tuple[Card, ...]
    tally: dict[str, tuple[int, int]]
    tally_note: str
    version: int


class HallState:
    def __init__(self, tz: tzinfo, now: Callable[[], datetime], saved: dict | None = None,
                 on_change: Callable[[], None] = lambda: None) -> None:
        saved = saved or {}
        self.tz, self.now, self._on_change = tz, now, on_change
        self._lock = threading.Lock()
        self.version = 0
        self.hall_online: bool | None = None
        self.queues: dict[str, QueueInfo] = {}
        self.windows: dict[str, WindowInfo] = {}
        self.recent: list[Call] = []
        self.cards: list[Card] = []
        # The hall's own count (cards/today) wins over what this display heard: it has
        # no gaps. The display's tally stays for a controller that does not send one.
        self.today: TodayCards | None = None
        self.tally = CardTally.from_json(saved.get("tally"), tz, now())
        known = []
        for entry in saved.get("calls", []):
            try:
                known.append(parse_call(entry))
            except (KeyError, TypeError, ValueError):
                pass
        self.gate = CallGate(known)
        self._incoming: list[Call] = []
        self.unsaved = False  # something the state file keeps has changed

    # -- from the bus (the MQTT thread) -----------------------------------------------
    def apply(self, levels: tuple[str, ...], payload: bytes) -> None:
        """One message, by its topic levels after the root: ('queues', '02'), ('events', 'called'), …"""
        try:
            with self._lock:
                if not self._apply(levels, payload):
                    return
                self.version += 1
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("ignored a malformed message on %s: %s", "/".join(levels), exc)
            return
        self._on_change()

    def _apply(self, levels: tuple[str, ...], payload: bytes) -> bool:
        head = levels[0] if levels else ""
        if levels == ("hall", "status"):
            self.hall_online = payload == b"online"
            return True
        if levels == ("cards", "active"):
            self.cards = parse_cards(json.loads(payload))
            self.tally.active(self.cards)
            self.unsaved = True
            return True
        if levels == ("cards", "today"):
            self.today = parse_today(json.loads(payload))
            return True
        if levels == ("calls", "recent"):
            self.recent = parse_recent(json.loads(payload))
            self._calls(self.gate.recent(self.recent, self.now()))
            return True
        if head == "queues" and len(levels) == 2:
            queue = parse_queue(json.loads(payload))
            self.queues[queue.dept] = queue
            return True
        if head == "windows" and len(levels) == 2:
            window = parse_window(json.loads(payload))
            self.windows[window.id] = window
            return True
        if head == "events" and len(levels) == 2:
            return self._event(json.loads(payload))
        return False

    def _event(self, event: dict) -> bool:
        seq, at = int(event["seq"]), datetime.fromisoformat(event["at"])
        if self.tally.is_duplicate(seq, at):
            return False
        self.tally.heard(seq, at, event)
        self.unsaved = True
        if event.get("type") in ("called", "recalled"):
            call = parse_call(event)
            self._calls([call] if self.gate.event(call) else [])
        return event.get("type") in ("called", "recalled", "card")

    def _calls(self, fresh: list[Call]) -> None:
        if fresh:
            self._incoming.extend(fresh)

    # -- for the drawing loop -------------------------------------------------------------
    def take_calls(self) -> list[Call]:
        """New calls since the last take, oldest first: each is shown and announced once."""
        with self._lock:
            calls, self._incoming = self._incoming, []
            return calls

    def snapshot(self, now: datetime) -> Snapshot:
        with self._lock:
            if self.tally.roll(now):
                self.version += 1
                self.unsaved = True
            if self.today is not None and self.today.day == now.astimezone(self.tz).date():
                tally, note = self.today.counts, ""
            else:
                tally, note = self.tally.counts(), self.tally.gap_note()
            return Snapshot(
                hall_online=self.hall_online, queues=tuple(sorted(self.queues.values(), key=lambda q: q.dept)),
                windows=dict(self.windows), recent=tuple(self.recent), cards=tuple(self.cards),
                tally=tally, tally_note=note, version=self.version,
            )

    def saved(self) -> dict:
        """What the state file keeps: the calls already announced and today's tally."""
        with self._lock:
            self.unsaved = False
            return {"calls": [c.as_json() for c in self.gate.known], "tally": self.tally.to_json()}
