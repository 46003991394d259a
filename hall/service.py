"""The controller's MQTT service: topics in, engine calls, replies and state out.

One thread, the hall loop, does everything: it polls the broker, applies
the requests that arrived in order (so two windows pressing next at the same
moment are simply two requests, one after the other), commits them
together, answers each, then publishes the events and the retained state
that changed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

from pydantic import ValidationError

from bus.client import Message
from bus.codes import ErrorCode, error_reply
from bus.payloads import MAX_PAYLOAD_BYTES, KioskRequest, Request, SmsInbox, SmsSent, WindowCommand
from bus.polled import PolledBusClient
from bus.topics import ID_RE, Topics
from hall.engine import Engine
from hall.outcome import Outcome
from hall.publisher import Publisher
from hall.reporter import MonthlyReports
from hall.store import open_store, transaction
from hall.supervisor import Supervisor
from hall.workdays import WorkCalendar
from paihao.accounts import HALL
from paihao.config import HallConfig, parse_duration
from paihao.credentials import connection

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class HallService:
    def __init__(self, config: HallConfig, *, clock: Clock = utc_now) -> None:
        self.config = config
        self.clock = clock
        self.topics = Topics(config.site.id)
        self.db = open_store(config.storage.db)
        calendar = WorkCalendar(config.calendar.extra_workdays, config.calendar.extra_holidays)
        self.engine = Engine(self.db, config, calendar)
        self.supervisor = Supervisor(self.engine)
        self.tick_s = parse_duration(config.supervision.tick).total_seconds()
        self._inbox: list[Message] = []
        self._republish_due = False
        self.bus = PolledBusClient(
            f"paihao-hall-{config.site.id}",
            will=(self.topics.hall_status, "offline"),
            on_connected=self._connected,
            **connection(config, HALL),  # its own account: the only one that may write state
        )
        self.publisher = Publisher(self.bus, self.topics, self.engine, self.supervisor)
        self.reports = MonthlyReports(config, self.db, wake=self.bus.wake)
        # The whole site, so that a request on a misspelt topic still gets an
        # answer; no_local: not the controller's own state, events and replies.
        self.bus.subscribe(f"{self.topics.root}/#", self._inbox.append, no_local=True)

    # -- the hall loop -----------------------------------------------------
    def run(self, stop: threading.Event, *, alive: Callable[[], None] = lambda: None) -> None:
        """Serve until ``stop`` is set; ``alive`` is called on every turn (the watchdog).

        One thread does everything: network, requests, ticks. Requests read in
        one poll are applied and committed as one batch.
        """
        self.bus.start(wait=None)
        next_tick = time.monotonic()
        while not stop.is_set():
            alive()
            self.bus.poll(self._wait(next_tick))
            if self._republish_due:
                self._republish_due = False
                self._guarded(self.publisher.everything, self.clock())
            if self._inbox:
                batch, self._inbox[:] = list(self._inbox), []
                self._guarded(self.handle_batch, batch)
                self.bus.poll(0)  # more requests waiting already? the state can wait for them
            # Retained state: at once after a quiet spell, then every 50 ms while requests
            # come. Requests already read go first, unless the state is an interval late.
            if self.publisher.due_in() == 0 and (not self._inbox or self.publisher.late()):
                self._guarded(self.publisher.flush, self.clock())
            if time.monotonic() >= next_tick:
                self._guarded(self._tick)
                next_tick = time.monotonic() + self.tick_s
            if self.reports.ready():
                self._guarded(self._report_made)

    def _wait(self, next_tick: float) -> float:
        """How long the next poll may wait: not at all while requests wait (the poll
        after a batch reads them), else until the next tick or the state is due."""
        if self._inbox:
            return 0.0
        state_due = self.publisher.due_in()
        return max(0.0, min(next_tick - time.monotonic(), 0.5, 1.0 if state_due is None else state_due))

    def _connected(self) -> None:
        self._republish_due = True
        self.engine.outbox.forget_offers()  # the broker may have lost them: offer all pending (and cancels) again

    def _guarded(self, func: Callable, *args: object) -> None:
        try:
            func(*args)
        except Exception:
            # A bug must cost one batch, not the hall: the transaction was
            # rolled back, nobody was told ok, and the loop goes on.
            log.exception("internal error in the hall loop")

    def wake(self) -> None:
        """From another thread: make the loop look at its stop event now."""
        self.bus.wake()

    def close(self) -> None:
        """Say offline (retained) and let go of the broker and the database."""
        try:
            if self.bus.connected.is_set():
                self.bus.wait_published(self.topics.hall_status, "offline", retain=True, timeout=3)
        finally:
            self.reports.stop()
            self.bus.stop()
            self.db.close()

    # -- requests ------------------------------------------------------------
    def handle_message(self, message: Message) -> None:
        self.handle_batch([message])

    def handle_batch(self, messages: list[Message]) -> None:
        """Apply queued requests in one transaction (group commit), then answer them all.

        Each request runs in its own savepoint, so a refusal or a bug rolls back
        that request alone; no one hears ok before the commit.
        """
        now = self.clock()
        answered: list[tuple[Message, Outcome]] = []
        batch = Outcome(reply={})
        with self.db.atomic():
            # A request just after midnight must not meet yesterday's queue.
            self.supervisor.roll_day(now, batch)
            for message in messages:
                if self.topics.parse(message.topic) == ("sms", "sent"):
                    self._sms_sent(message, now)
                    continue
                routed = self._route(message)
                if routed is None:
                    continue
                try:
                    outcome = self.engine.handle(*routed, now)
                except Exception:
                    log.exception("internal error on %s; the request was rolled back", message.topic)
                    outcome = Outcome(reply=error_reply(ErrorCode.INTERNAL, "internal error; nothing was changed"))
                answered.append((message, outcome))
        for message, outcome in answered:
            self._answer(message, outcome.reply, outcome.reply_json)
            batch.merge(outcome)
        self.publisher.events(batch)
        self.publisher.sms_cancel(batch.sms_cancel, now)
        self.publisher.sms(batch.sms, now)
        log.debug("batch of %d requests applied", len(messages))

    def _route(self, message: Message) -> tuple[str, Request] | None:
        """(source, request) for a valid request; otherwise answer the error and None."""
        levels = self.topics.parse(message.topic)
        if levels == ("sms", "inbox"):
            request = self._parse(message, SmsInbox)
            if request is not None and not message.response_topic:
                log.warning("an SMS on %s has no response topic; ignored (the bridge sends it again)", message.topic)
                return None
            return ("sms/inbox", request) if request is not None else None
        if len(levels) == 3 and levels[0] == "kiosks" and levels[2] == "request":
            model: type[Request] = KioskRequest
        elif len(levels) == 3 and levels[0] == "windows" and levels[2] == "command":
            model = WindowCommand
        elif message.response_topic:
            self._refuse(message, ErrorCode.UNKNOWN_TOPIC, "this topic takes no requests; see docs/protocol.md")
            return None
        else:
            return None  # other devices' own traffic (status, heartbeats): not for the controller
        device = levels[1]
        if not ID_RE.match(device):
            self._refuse(message, ErrorCode.BAD_REQUEST, "device ids are [a-z0-9_-], at most 32")
            return None
        if model is WindowCommand and self.config.window(device) is None:
            self._refuse(message, ErrorCode.UNKNOWN_WINDOW, f"no window {device!r}")
            return None
        request = self._parse(message, model)
        if request is not None and not message.response_topic:
            # Bad input too (protocol v1): nobody could hear the outcome, so nothing changes.
            log.warning("a request on %s has no response topic; ignored", message.topic)
            return None
        return (f"{levels[0]}/{device}", request) if request is not None else None

    def _sms_sent(self, message: Message, now: datetime) -> None:
        """The bridge's word on an outbox text: not a request, nobody to answer."""
        sent = self._parse(message, SmsSent)
        if sent is None:
            return
        try:
            with transaction(self.db):
                self.engine.outbox.confirm(sent, now)
        except Exception:
            log.exception("internal error on %s; rolled back, the bridge will confirm again", message.topic)

    def _parse(self, message: Message, model: type[Request] | type[SmsSent]) -> Request | SmsSent | None:
        if len(message.payload) > MAX_PAYLOAD_BYTES:
            self._refuse(message, ErrorCode.BAD_REQUEST, f"payload larger than {MAX_PAYLOAD_BYTES} bytes")
            return None
        try:
            data = json.loads(message.payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self._refuse(message, ErrorCode.BAD_JSON, "payload is not JSON in UTF-8")
            return None
        if not isinstance(data, dict):
            self._refuse(message, ErrorCode.BAD_JSON, "payload must be a JSON object")
            return None
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "payload"
            code = ErrorCode.UNKNOWN_ACTION if first["loc"] == ("action",) else ErrorCode.BAD_REQUEST
            self._refuse(message, code, f"{where}: {first['msg']}")
            return None

    def _refuse(self, message: Message, code: ErrorCode, text: str) -> None:
        # The payload is never logged: it may hold a phone number.
        log.warning("refused a message on %s: %s: %s", message.topic, code, text)
        self._answer(message, error_reply(code, text))

    def _answer(self, message: Message, reply: dict, encoded: str | None = None) -> None:
        if not self.bus.reply(message, encoded or reply):
            if not reply.get("ok"):
                log.warning("no response topic on %s, so the error could not be answered", message.topic)

    def _tick(self) -> None:
        now = self.clock()
        self.publisher.events(self.supervisor.tick(now))
        self.publisher.cards(now, force=False)
        self.publisher.sms_cancel(self.engine.outbox.due_cancels(now), now)
        self.publisher.sms(self.engine.outbox.due(now), now)
        self.reports.check(now)

    def _report_made(self) -> None:
        summary = self.reports.collect()
        if summary is not None:
            self.publisher.report(summary)
