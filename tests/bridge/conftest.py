"""The SMS bridge against a real mosquitto and the fake modem on its pseudo-terminal.

The hall's side of the SMS path is a stand-in here (``HallStandIn``): it offers texts on
``sms/outbox`` and withdraws them on ``sms/cancel`` as the controller does, hears ``sms/sent``,
and takes ``sms/inbox`` requests — or, told to, does not answer, as a hall that is down.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bus.client import BusClient, Message
from bus.topics import Topics
from firmware_bridge.app import BridgeApp, serial_opener
from firmware_bridge.fake_modem import FakeModem
from paihao.config import HallConfig, load_config
from tests.conftest import Recorder, write_config

# Small waits, so that the backoff (and its doubling) shows within a test.
BRIDGE = """
[[bridges]]
id = "gsm1"
retry_min_s = 0.05
retry_max_s = 0.4
poll_s = 0.5
command_timeout_s = 1.0
send_timeout_s = 2.0
reply_timeout_s = 0.5
"""


def bridge_config(directory: Path, port: int, extra: str = "", modem: str = 'modem = { type = "fake" }') -> HallConfig:
    path = write_config(directory, port)
    path.write_text(path.read_text(encoding="utf-8") + BRIDGE + modem + "\n" + extra, encoding="utf-8")
    return load_config(path)


class HallStandIn(BusClient):
    """The controller's part of the SMS path, and a listener to the bridge's status."""

    def __init__(self, port: int, topics: Topics, *, answering: bool = True) -> None:
        super().__init__(f"hall-standin-{uuid.uuid4().hex[:8]}", "127.0.0.1", port)
        self.topics = topics
        self.answering = answering
        self.reply_with: dict = {"ok": True}
        self.requests: list[dict] = []  # every sms/inbox request heard, repeats included
        self.taken: dict[str, dict] = {}  # what the hall recorded: once per request_id
        self._cond = threading.Condition()
        self.sent = Recorder(self, topics.sms_sent)
        self.status = Recorder(self, topics.device_status("bridge", "gsm1"))
        self.subscribe(topics.sms_inbox, self._inbox)
        self.start()

    def offer(self, sms_id: str, phone: str = "13812345678", text: str = "请回复1") -> None:
        self.publish(self.topics.sms_outbox, {"id": sms_id, "phone": phone, "text": text})

    def cancel(self, *ids: str) -> None:
        """Withdraw texts, as the controller does after a TD."""
        self.publish(self.topics.sms_cancel, {"ids": list(ids)})

    def answer_of(self, sms_id: str, after: int = 0, timeout: float = 10.0) -> dict:
        message = self.sent.wait_for(lambda m: json.loads(m.payload).get("id") == sms_id, timeout, after)
        return json.loads(message.payload)

    def answers(self, sms_id: str) -> list[dict]:
        return [p for p in self.sent.payloads(self.topics.sms_sent) if p.get("id") == sms_id]

    def _inbox(self, message: Message) -> None:
        request = json.loads(message.payload)
        with self._cond:
            self.requests.append(request)
            if self.answering:
                self.taken.setdefault(request["request_id"], request)
                self.reply(message, self.reply_with)
            self._cond.notify_all()

    def wait_taken(self, count: int, timeout: float = 10.0) -> list[dict]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.taken) >= count, timeout), \
                f"the hall took {len(self.taken)} of {count} messages"
            return list(self.taken.values())

    def wait_requests(self, count: int, timeout: float = 10.0) -> list[dict]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def wait_status(self, predicate: Callable[[dict], bool], after: int = 0, timeout: float = 10.0) -> dict:
        message = self.status.wait_for(lambda m: predicate(json.loads(m.payload)), timeout, after)
        return json.loads(message.payload)

    def statuses(self, after: int = 0) -> list[dict]:
        return self.status.payloads(self.topics.device_status("bridge", "gsm1"))[after:]


@pytest.fixture
def fake() -> Iterator[FakeModem]:
    with FakeModem() as modem:
        yield modem


@pytest.fixture
def config(tmp_path, broker) -> HallConfig:
    return bridge_config(tmp_path, broker.port)


@pytest.fixture
def hall(broker, config) -> Iterator[HallStandIn]:
    standin = HallStandIn(broker.port, Topics(config.site.id))
    yield standin
    standin.stop()


@pytest.fixture
def bridge(config, fake, hall) -> Iterator[BridgeApp]:
    app = BridgeApp(config, config.bridges[0], fake=fake).start()
    connected(hall)
    yield app
    app.close()


def connected(hall: HallStandIn, after: int = 0) -> dict:
    """Until the bridge's status is heard: it is connected, and subscribed to sms/outbox (its
    subscriptions go to the broker before the status, and the broker takes them in order)."""
    return hall.wait_status(lambda s: s["online"], after)


def open_port(fake: FakeModem):
    """The fake's port, opened as the bridge opens a real one."""
    return serial_opener(lambda: fake.port, 115200)()


def ready(hall: HallStandIn, after: int = 0, timeout: float = 10.0) -> dict:
    """Until the bridge says its modem is ready and registered."""
    return hall.wait_status(lambda s: s["state"] == "online", after, timeout)
