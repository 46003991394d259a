"""The controller's MQTT service: topics in, engine calls, replies and state out.

paho's network thread only puts messages on a queue; the hall loop (one
thread, the one writer) takes them off in order, so two windows pressing
next at the same moment are simply two requests, one after the other.
For each: validate, apply and commit, reply, then publish events and the
retained state that changed.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

from pydantic import ValidationError

from bus.client import BusClient, Message
from bus.codes import ErrorCode, error_reply
from bus.payloads import MAX_PAYLOAD_BYTES, KioskRequest, Request, WindowCommand
from bus.topics import ID_RE, Topics
from hall.engine import Engine
from hall.outcome import Outcome
from hall.state import RecentCalls, queue_state
from hall.store import open_store
from hall.supervisor import Supervisor
from hall.workdays import WorkCalendar
from paihao.config import HallConfig, parse_duration

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
BATCH_MAX = 64  # requests that queued up meanwhile are committed together (group commit)
CARDS_REFRESH_S = 60  # republish cards/active this often even if unchanged, for overdue_s


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
        self.recent_calls = RecentCalls(self.engine)
        self.tick_s = parse_duration(config.supervision.tick).total_seconds()
        self._jobs: queue.Queue[Message | str] = queue.Queue()
        self._cards_shown: tuple = ()
        self._cards_at = 0.0
        self.bus = BusClient(
            f"paihao-hall-{config.site.id}",
            config.mqtt.host,
            config.mqtt.port,
            will=(self.topics.hall_status, "offline"),
            username=config.mqtt.username,
            password=config.mqtt.password,
            keepalive=config.mqtt.keepalive_s,
            tcp_nodelay=config.mqtt.tcp_nodelay,
            on_connected=lambda: self._jobs.put("republish"),
        )
        # The whole site, so that a request on a misspelt topic still gets an
        # answer; no_local: not the controller's own state, events and replies.
        self.bus.subscribe(f"{self.topics.root}/#", self._jobs.put, no_local=True)

    # -- the hall loop -----------------------------------------------------
    def run(self, stop: threading.Event, *, alive: Callable[[], None] = lambda: None) -> None:
        """Serve until ``stop`` is set; ``alive`` is called on every turn (the watchdog)."""
        self.bus.start(wait=None)
        next_tick = time.monotonic()
        while not stop.is_set():
            alive()
            jobs = self._take_jobs(timeout=max(0.0, min(next_tick - time.monotonic(), 0.5)))
            if "republish" in jobs:
                self._guarded(self.republish)
            messages = [job for job in jobs if isinstance(job, Message)]
            if messages:
                self._guarded(self.handle_batch, messages)
            if time.monotonic() >= next_tick:
                self._guarded(self._tick)
                next_tick = time.monotonic() + self.tick_s

    def _take_jobs(self, timeout: float) -> list[Message | str]:
        """The next job, and whatever else is already queued behind it (up to BATCH_MAX)."""
        try:
            jobs = [self._jobs.get(timeout=timeout)]
        except queue.Empty:
            return []
        while len(jobs) < BATCH_MAX:
            try:
                jobs.append(self._jobs.get_nowait())
            except queue.Empty:
                break
        return jobs

    def _guarded(self, func: Callable, *args: object) -> None:
        try:
            func(*args)
        except Exception:
            # A bug must cost one batch, not the hall: the transaction was
            # rolled back, nobody was told ok, and the loop goes on.
            log.exception("internal error in the hall loop")

    def wake(self) -> None:
        """Make the loop look at its stop event now rather than at its next timeout."""
        self._jobs.put("wake")

    def close(self) -> None:
        """Say offline (retained) and let go of the broker and the database."""
        try:
            if self.bus.connected.is_set():
                self.bus.wait_published(self.topics.hall_status, "offline", retain=True, timeout=3)
        finally:
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
            self._answer(message, outcome.reply)
            batch.merge(outcome)
        self.publish(batch)
        log.debug("batch of %d requests applied", len(messages))

    def _route(self, message: Message) -> tuple[str, Request] | None:
        """(source, request) for a valid request; otherwise answer the error and None."""
        levels = self.topics.parse(message.topic)
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

    def _parse(self, message: Message, model: type[Request]) -> Request | None:
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

    def _answer(self, message: Message, reply: dict) -> None:
        if not self.bus.reply(message, reply):
            if not reply.get("ok"):
                log.warning("no response topic on %s, so the error could not be answered", message.topic)

    # -- publishing ------------------------------------------------------------
    def publish(self, outcome: Outcome) -> None:
        """Events first (in seq order), then the retained state they changed."""
        for event in outcome.events:
            self.bus.publish(self.topics.event(event["type"]), event)
            self.journal_handed(event)
            if self.recent_calls.add(event):
                outcome.calls = True
        now = self.clock()
        for dept in sorted(outcome.depts):
            self.bus.publish(self.topics.queue(dept), queue_state(self.engine, dept), retain=True)
        for window in sorted(outcome.windows):
            self.bus.publish(self.topics.window(window), self.engine.window_state(window, now), retain=True)
        if outcome.calls:
            self.bus.publish(self.topics.recent_calls, self.recent_calls.state(), retain=True)
        if outcome.cards:
            self._publish_cards(now, force=False)

    def journal_handed(self, event: dict) -> None:
        self.engine.journal.mark_handed(event["seq"])

    def _publish_cards(self, now: datetime, *, force: bool) -> None:
        cards = self.supervisor.active_cards(now)
        shown = tuple((c["level"], c.get("ticket") or c.get("case")) for c in cards["cards"])
        if force or shown != self._cards_shown or time.monotonic() - self._cards_at >= CARDS_REFRESH_S:
            self.bus.publish(self.topics.active_cards, cards, retain=True)
            self._cards_shown, self._cards_at = shown, time.monotonic()

    def _tick(self) -> None:
        now = self.clock()
        outcome = self.supervisor.tick(now)
        self.publish(outcome)
        self._publish_cards(now, force=False)

    def republish(self) -> None:
        """Every retained topic, then events that may not have gone out, then "online"."""
        now = self.clock()
        for event in self.engine.journal.unpublished():
            self.bus.publish(self.topics.event(event["type"]), event)
            self.journal_handed(event)
        for dept in self.config.departments:
            self.bus.publish(self.topics.queue(dept.code), queue_state(self.engine, dept.code), retain=True)
        for window in self.config.windows:
            self.bus.publish(self.topics.window(window.id), self.engine.window_state(window.id, now), retain=True)
        self.bus.publish(self.topics.recent_calls, self.recent_calls.state(), retain=True)
        self._publish_cards(now, force=True)
        self.bus.publish(self.topics.hall_status, "online", retain=True)
        log.info("published the hall's state; online")
