"""What the controller tells the hall: events at once, retained state when it changed.

Events go out as soon as their change is committed. Retained state is
marked dirty and published at most once every ``STATE_INTERVAL_S``: a lone
request's state goes out at once, but under a stream of requests a
department's queue is published twenty times a second rather than once per
ticket, which is all a screen can show.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from bus.payloads import MAX_CANCEL_IDS
from bus.polled import PolledBusClient
from bus.topics import Topics
from hall.engine import Engine
from hall.outcome import Outcome
from hall.reporter import saved_summaries
from hall.state import RecentCalls, queue_state
from hall.supervisor import Supervisor

log = logging.getLogger(__name__)

STATE_INTERVAL_S = 0.05
CARDS_REFRESH_S = 60  # republish cards/active this often even if unchanged, for overdue_s


class Publisher:
    def __init__(self, bus: PolledBusClient, topics: Topics, engine: Engine, supervisor: Supervisor) -> None:
        self.bus, self.topics, self.engine, self.supervisor = bus, topics, engine, supervisor
        self.recent_calls = RecentCalls(engine)
        self._dirty = Outcome(reply={})
        self._flushed_at = time.monotonic() - STATE_INTERVAL_S
        self._cards_shown: tuple = ()
        self._cards_at = 0.0
        self._today_shown: dict | None = None

    def events(self, outcome: Outcome) -> None:
        """Publish the outcome's events now (in seq order) and note the state they changed."""
        for event in outcome.events:
            self._event(event)
            if self.recent_calls.add(event):
                outcome.calls = True
        self._dirty.merge(Outcome(reply={}, depts=outcome.depts, windows=outcome.windows,
                                  calls=outcome.calls, cards=outcome.cards))

    def _event(self, event: dict) -> None:
        self.bus.publish(self.topics.event(event["type"]), event)
        self.engine.journal.mark_handed(event["seq"])

    @property
    def dirty(self) -> bool:
        d = self._dirty
        return bool(d.depts or d.windows or d.calls or d.cards)

    def due_in(self) -> float | None:
        """Seconds until the changed state may be published (0: now); None if nothing changed."""
        if not self.dirty:
            return None
        return max(0.0, self._flushed_at + STATE_INTERVAL_S - time.monotonic())

    def late(self) -> bool:
        """Changed state has waited two intervals: publish it even before waiting requests."""
        return self.dirty and time.monotonic() - self._flushed_at >= 2 * STATE_INTERVAL_S

    def flush(self, now: datetime) -> None:
        """Publish the retained state that changed since the last flush."""
        dirty, self._dirty, self._flushed_at = self._dirty, Outcome(reply={}), time.monotonic()
        for dept in sorted(dirty.depts):
            self.bus.publish(self.topics.queue(dept), queue_state(self.engine, dept), retain=True)
        for window in sorted(dirty.windows):
            self.bus.publish(self.topics.window(window), self.engine.window_state(window, now), retain=True)
        if dirty.calls:
            self.bus.publish(self.topics.recent_calls, self.recent_calls.state(), retain=True)
        # Cards start and end with what windows do (next, complete, accept, case_done...)
        # or with time, which the tick looks after: a ticket issued changes none.
        if dirty.windows or dirty.cards:
            self.cards(now, force=False)

    def cards(self, now: datetime, *, force: bool) -> None:
        """cards/active when its list changed, every CARDS_REFRESH_S, or when forced;
        cards/today when today's count changed (a card, or midnight), or when forced."""
        cards = self.supervisor.active_cards(now)
        shown = tuple((c["level"], c.get("ticket") or c.get("case")) for c in cards["cards"])
        if force or shown != self._cards_shown or time.monotonic() - self._cards_at >= CARDS_REFRESH_S:
            self.bus.publish(self.topics.active_cards, cards, retain=True)
            self._cards_shown, self._cards_at = shown, time.monotonic()
        today = self.supervisor.today(now)
        if force or today != self._today_shown:
            self.bus.publish(self.topics.cards_today, today, retain=True)
            self._today_shown = today

    def sms(self, payloads: list[dict], now: datetime) -> None:
        """Offer outbox texts to the SMS bridge (after their commit); the resend clock starts now."""
        for payload in payloads:
            self.bus.publish(self.topics.sms_outbox, payload)
        self.engine.outbox.offered(payloads, now)
        if payloads:
            log.debug("offered %d texts on sms/outbox", len(payloads))

    def sms_cancel(self, ids: list[str], now: datetime) -> None:
        """Withdraw outbox texts from the SMS bridge (after their commit); the resend clock starts now."""
        for start in range(0, len(ids), MAX_CANCEL_IDS):
            self.bus.publish(self.topics.sms_cancel, {"ids": ids[start:start + MAX_CANCEL_IDS]})
        self.engine.outbox.cancels_offered(ids, now)
        if ids:
            log.debug("offered %d cancels on sms/cancel", len(ids))

    def report(self, summary: dict) -> None:
        """A month's summary, retained (hall/reporter.py keeps it for the next reconnect)."""
        self.bus.publish(self.topics.report(summary["month"]), summary, retain=True)

    def everything(self, now: datetime) -> None:
        """After a (re)connect: events that may not have gone out, every retained topic, then "online"."""
        for event in self.engine.journal.unpublished():
            self._event(event)
        config = self.engine.config
        self._dirty.merge(Outcome(reply={}, depts={d.code for d in config.departments},
                                  windows={w.id for w in config.windows}, calls=True))
        self.flush(now)
        self.cards(now, force=True)
        for summary in saved_summaries(self.engine.db):
            self.report(summary)
        self.bus.publish(self.topics.hall_status, "online", retain=True)
        log.info("published the hall's state; online")
