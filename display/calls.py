"""Which calls are new, and which one the banner shows.

A call is *new* — shown flashing and announced — once: the gate remembers the
keys (ticket, window, second) of the last calls it let through, and the state
file keeps them across restarts, so neither a republished event, nor the
retained ``calls/recent`` a restarted display reads first, announces a call again.

The banner shows calls in the order they came, each for at least ``min_s``
even when several arrive together (none is dropped; they wait their turn),
and a new one flashes for its first ``flash_s``. While the voice is still
saying a call, the next waits (at most ``HOLD_MAX_S``): the wall shows the call
the hall hears.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from display.model import Call

REMEMBERED = 20  # more than calls/recent holds, so a restart sees every listed call as known
CATCHUP = timedelta(seconds=60)  # a call missed while away (broker lost, restart) is still announced this soon
SLACK = timedelta(seconds=2)  # calls of the same second can arrive in either order
FLASH_PERIOD_S = 0.5
HOLD_MAX_S = 15.0  # a voice that hangs must not hold the calls back for longer


class CallGate:
    def __init__(self, known: list[Call] | None = None) -> None:
        self.known: deque[Call] = deque(known or [], maxlen=REMEMBERED)
        self._keys = {c.key for c in self.known}

    @property
    def watermark(self) -> datetime | None:
        return max((c.when for c in self.known), default=None)

    def _new(self, call: Call) -> bool:
        mark = self.watermark
        return call.key not in self._keys and (mark is None or call.when >= mark - SLACK)

    def _remember(self, call: Call) -> None:
        if len(self.known) == self.known.maxlen:
            self._keys.discard(self.known[0].key)
        self.known.append(call)
        self._keys.add(call.key)

    def event(self, call: Call) -> bool:
        """A ``called`` or ``recalled`` event: True if the call is new."""
        if not self._new(call):
            return False
        self._remember(call)
        return True

    def recent(self, calls: list[Call], now: datetime) -> list[Call]:
        """The retained list (newest first): the calls in it that are new and recent, oldest first."""
        fresh = [c for c in reversed(calls) if self._new(c) and now - c.when <= CATCHUP]
        for call in calls:  # everything listed is known from now on, announced or not
            if call.key not in self._keys and call not in fresh:
                self._remember_quietly(call)
        for call in fresh:
            self._remember(call)
        return fresh

    def _remember_quietly(self, call: Call) -> None:
        self._keys.add(call.key)
        if len(self._keys) > 4 * REMEMBERED:  # bounded: old keys are below the watermark anyway
            self._keys = {c.key for c in self.known}


class Banner:
    def __init__(self, min_s: float = 3.0, flash_s: float = 5.0) -> None:
        self.min_s, self.flash_s = min_s, flash_s
        self.current: Call | None = None
        self.fresh = False  # the current call came in while this display was watching
        self.since = 0.0  # monotonic time it was first shown
        self.pending: deque[Call] = deque()

    def push(self, call: Call) -> None:
        self.pending.append(call)

    def show_quietly(self, call: Call, mono: float) -> None:
        """The newest known call, not announced (a restarted display): shown when nothing else is due."""
        if self.pending or (self.current is not None and self.current.when >= call.when):
            return
        if self.current is None or not self.fresh or mono - self.since >= self.min_s:
            self.current, self.fresh, self.since = call, False, mono

    def tick(self, mono: float, hold: bool = False) -> Call | None:
        """The call that becomes current now, if one does; ``hold``: the voice is still saying one."""
        if not self.pending:
            return None
        age = mono - self.since
        if self.current is None or not self.fresh or (age >= self.min_s and not hold) or age >= HOLD_MAX_S:
            self.current, self.fresh, self.since = self.pending.popleft(), True, mono
            return self.current
        return None

    def flash(self, mono: float) -> int | None:
        """None when not flashing, else the phase (0 or 1) of the flash."""
        age = mono - self.since
        if not self.fresh or age >= self.flash_s:
            return None
        return int(age / FLASH_PERIOD_S) % 2

    def next_change(self, mono: float) -> float | None:
        """When the banner will change by itself (for the loop's wait), or None."""
        times = []
        if self.fresh and mono - self.since < self.flash_s:
            times.append(self.since + (int((mono - self.since) / FLASH_PERIOD_S) + 1) * FLASH_PERIOD_S)
        if self.pending:
            times.append(self.since + self.min_s)
        return min(times) if times else None
