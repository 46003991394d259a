"""The bridge's line to the hall: the SMS topics and its own status (docs/protocol.md).

Hears ``sms/outbox`` (texts to send, offered again by the hall until answered),
``sms/cancel`` (texts withdrawn, offered again until each id is answered) and
``hall/status`` (a hint to hand received messages over now); publishes ``sms/sent``
and its retained status with a Last Will; hands received messages over as
``sms/inbox`` v5 requests. A payload is never logged: the SMS topics carry full
phone numbers.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future

from pydantic import ValidationError

from bus.client import BusClient, Message
from bus.payloads import MAX_PAYLOAD_BYTES, SmsCancel, SmsOutbox
from bus.topics import Topics
from firmware_bridge.store import Incoming
from paihao.accounts import account_name
from paihao.config import HallConfig
from paihao.credentials import connection

log = logging.getLogger(__name__)

LAST_WILL = {"online": False, "state": "offline", "last_error": None}


class BridgeLink:
    """``on_outbox(SmsOutbox)``, ``on_cancel(SmsCancel)``, ``on_connected()`` and ``on_hall_online()``
    run in the network thread."""

    def __init__(self, config: HallConfig, bridge_id: str, *, on_outbox: Callable[[SmsOutbox], None],
                 on_cancel: Callable[[SmsCancel], None] = lambda cancel: None,
                 on_connected: Callable[[], None] = lambda: None,
                 on_hall_online: Callable[[], None] = lambda: None) -> None:
        self.topics = Topics(config.site.id)
        self.status_topic = self.topics.device_status("bridge", bridge_id)
        self._on_outbox, self._on_connected, self._on_hall_online = on_outbox, on_connected, on_hall_online
        self._on_cancel = on_cancel
        self._published: dict | None = None
        self._status_lock = threading.Lock()
        name = account_name("bridge", bridge_id)  # its broker account, and the replies only it may read
        self.bus = BusClient(
            f"paihao-{name}", will=(self.status_topic, json.dumps(LAST_WILL)),
            reply_topic=self.topics.replies(name), on_connected=self._connected, **connection(config, name),
        )
        self.bus.subscribe(self.topics.sms_outbox, self._outbox)
        self.bus.subscribe(self.topics.sms_cancel, self._cancel)
        self.bus.subscribe(self.topics.hall_status, self._hall_status)

    def start(self) -> BridgeLink:
        self.bus.start(wait=None)  # the modem starts at once; what it does waits in the store meanwhile
        return self

    def stop(self, last_word: dict) -> None:
        """Say so (retained) while still connected, then disconnect without the Last Will."""
        if self.bus.connected.is_set():
            try:
                self.bus.wait_published(self.status_topic, last_word, retain=True, timeout=2)
            except (RuntimeError, ValueError, OSError):
                log.warning("could not publish the bridge's last status")
        self.bus.stop()

    @property
    def connected(self) -> bool:
        return self.bus.connected.is_set()

    # -- what the hall says -----------------------------------------------------------------------------
    def _connected(self) -> None:
        self._publish()
        self._on_connected()

    def _hall_status(self, message: Message) -> None:
        if message.payload == b"online":
            self._on_hall_online()

    def _outbox(self, message: Message) -> None:
        if len(message.payload) > MAX_PAYLOAD_BYTES:
            log.warning("ignored an sms/outbox message of %d bytes (at most %d)", len(message.payload),
                        MAX_PAYLOAD_BYTES)
            return
        try:
            raw = json.loads(message.payload)
        except (ValueError, UnicodeDecodeError):
            log.warning("ignored an sms/outbox message that is not JSON")
            return
        try:
            offer = SmsOutbox.model_validate(raw)
        except ValidationError as exc:
            # Only where it is wrong: the values may hold a phone number.
            fields = ", ".join(".".join(map(str, e["loc"])) or "(payload)" for e in exc.errors())
            log.warning("ignored an invalid sms/outbox message (%s)", fields)
            sms_id = raw.get("id") if isinstance(raw, dict) else None
            if isinstance(sms_id, str) and 0 < len(sms_id) <= 64:
                # Answered, so that the hall does not offer it again every minute; nothing is recorded.
                self.sent({"id": sms_id, "ok": False,
                           "error": {"code": "bad_request", "message": f"invalid sms/outbox payload: {fields}"}})
            return
        self._on_outbox(offer)

    def _cancel(self, message: Message) -> None:
        """A malformed cancel is logged and dropped: without valid ids there is nobody to answer,
        and the hall, hearing nothing, offers its cancels again (well-formed, one hopes)."""
        if len(message.payload) > MAX_PAYLOAD_BYTES:
            log.warning("ignored an sms/cancel message of %d bytes (at most %d)", len(message.payload),
                        MAX_PAYLOAD_BYTES)
            return
        try:
            cancel = SmsCancel.model_validate(json.loads(message.payload))
        except (ValueError, UnicodeDecodeError) as exc:  # ValidationError is a ValueError
            where = ", ".join(".".join(map(str, e["loc"])) or "(payload)" for e in exc.errors()) \
                if isinstance(exc, ValidationError) else "not JSON"
            log.warning("ignored an invalid sms/cancel message (%s)", where)
            return
        self._on_cancel(cancel)

    # -- what the bridge says ---------------------------------------------------------------------------
    def sent(self, answer: dict) -> None:
        """``sms/sent``: the outcome of one outbox id."""
        self.bus.publish(self.topics.sms_sent, answer)

    def hand_over(self, message: Incoming) -> Future:
        """Ask the hall to take a received message: a future of its answer (cancel it to give up)."""
        payload = {"request_id": message.request_id, "phone": message.phone, "text": message.text,
                   "received_at": message.received_at}
        return self.bus.request_async(self.topics.sms_inbox, payload)

    def set_status(self, status: dict) -> None:
        """Publish the status, retained, if it differs from the last one published."""
        with self._status_lock:
            if status == self._published:
                return
            self._published = status
        self._publish()

    def _publish(self) -> None:
        with self._status_lock:
            status = self._published
        if status is not None and self.bus.connected.is_set():
            self.bus.publish(self.status_topic, status, retain=True)
