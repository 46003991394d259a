"""The kiosk's line to the hall: what it needs to know, and taking a number.

Reads only protocol v1 (docs/protocol.md): ``hall/status`` and the retained
``queues/{dept}``; asks for tickets on its own request topic; publishes its
own availability and printer state, retained, with a Last Will.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable

from bus.client import BusClient, Message
from bus.topics import Topics
from paihao.accounts import account_name
from paihao.config import HallConfig
from paihao.credentials import connection
from paihao.errors import BusTimeout

log = logging.getLogger(__name__)


class HallLink:
    def __init__(self, config: HallConfig, kiosk_id: str, *, reply_timeout_s: float = 3.0,
                 on_change: Callable[[], None] = lambda: None) -> None:
        self.kiosk_id = kiosk_id
        self.topics = Topics(config.site.id)
        self.reply_timeout_s = reply_timeout_s
        self.hall_online = False
        self.waiting: dict[str, int] = {}
        self._on_change = on_change
        self._status: dict = {"online": True, "printer": "unknown", "last_error": None}
        self._status_lock = threading.Lock()
        name = account_name("kiosk", kiosk_id)  # its broker account, and the replies only it may read
        self.status_topic = self.topics.device_status("kiosks", kiosk_id)
        self.bus = BusClient(
            f"paihao-{name}",
            will=(self.status_topic, json.dumps({"online": False, "printer": "unknown", "last_error": None})),
            reply_topic=self.topics.replies(name), on_connected=self._publish_status,
            **connection(config, name),
        )
        self.bus.subscribe(self.topics.hall_status, self._hall_status)
        self.bus.subscribe(self.topics.queue("+"), self._queue)

    def start(self) -> HallLink:
        self.bus.start(wait=None)  # the screen comes up at once; "paused" until the hall is heard
        return self

    def stop(self) -> None:
        with self._status_lock:
            self._status["online"] = False
        if self.bus.connected.is_set():
            self.bus.wait_published(self.status_topic, self._status, retain=True, timeout=2)
        self.bus.stop()

    # -- what the hall says ------------------------------------------------------
    def _hall_status(self, message: Message) -> None:
        self.hall_online = message.payload == b"online"
        self._on_change()

    def _queue(self, message: Message) -> None:
        try:
            state = json.loads(message.payload)
            self.waiting[str(state["dept"])] = int(state["waiting"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed queue state on %s", message.topic)
            return
        self._on_change()

    @property
    def connected(self) -> bool:
        return self.bus.connected.is_set()

    # -- taking a number -----------------------------------------------------------
    def take_ticket(self, dept: str, item: str, phone: str) -> dict:
        """The hall's reply; one retry with the same request_id, so never two tickets.

        Raises BusTimeout when neither attempt was answered: a number may or may
        not have been issued, and the kiosk must say so.
        """
        request = {"request_id": f"{self.kiosk_id}-{uuid.uuid4().hex}", "action": "ticket",
                   "dept": dept, "item": item, "phone": phone}
        topic = self.topics.kiosk_request(self.kiosk_id)
        for attempt in (1, 2):
            try:
                return self.bus.request(topic, request, timeout=self.reply_timeout_s)
            except BusTimeout:
                log.warning("no reply to ticket request %s (attempt %d)", request["request_id"], attempt)
        raise BusTimeout(f"the hall did not answer within {2 * self.reply_timeout_s:g} s")

    # -- the kiosk's own status ------------------------------------------------------
    def set_status(self, printer: str, last_error: str | None) -> None:
        """Publish {online, printer, last_error} retained, when it changed."""
        with self._status_lock:
            changed = (self._status["printer"], self._status["last_error"]) != (printer, last_error)
            self._status.update(printer=printer, last_error=last_error)
        if changed and self.connected:
            self._publish_status()

    def _publish_status(self) -> None:
        with self._status_lock:
            status = dict(self._status)
        self.bus.publish(self.status_topic, status, retain=True)
