"""Shared fixtures: a real mosquitto, a real SQLite file, the real controller.

Synchronisation is by awaited events (a message arriving, a reply), never by
sleeping.
"""

from __future__ import annotations

import gc
import itertools
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bus.broker import LocalBroker
from bus.client import BusClient, Message
from bus.topics import Topics
from hall.service import HallService
from paihao.config import HallConfig, load_config

TESTS = Path(__file__).parent
BASE_CONFIG = TESTS / "hall.toml"
_sites = itertools.count(1)
# 09:00 on a Friday in Chongqing: the hall is open.
START = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)


class FakeClock:
    """The hall's clock, moved by the test."""

    def __init__(self, start: datetime = START) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


class Monotonic:
    """A device's monotonic clock (idle timers, banner turns), moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """Subscribes to a topic pattern and keeps every message; tests wait on it."""

    def __init__(self, client: BusClient, pattern: str) -> None:
        self.messages: list[Message] = []
        self._cond = threading.Condition()
        client.subscribe(pattern, self._add)

    def _add(self, message: Message) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def mark(self) -> int:
        """A bookmark: pass it as ``after`` to wait only for messages from now on."""
        with self._cond:
            return len(self.messages)

    def wait_for(self, predicate: Callable[[Message], bool], timeout: float = 5.0, after: int = 0) -> Message:
        """The first recorded message matching ``predicate``, waiting for it if need be."""
        with self._cond:
            found: list[Message] = []

            def ready() -> bool:
                found[:] = [m for m in self.messages[after:] if predicate(m)][:1]
                return bool(found)

            if not self._cond.wait_for(ready, timeout):
                raise AssertionError(f"no matching message within {timeout} s")
            return found[0]

    def latest(self, topic: str, timeout: float = 5.0) -> dict:
        """The newest payload on ``topic`` once one has arrived."""
        self.wait_for(lambda m: m.topic == topic, timeout)
        with self._cond:
            return json.loads([m for m in self.messages if m.topic == topic][-1].payload)

    def payloads(self, topic: str) -> list[dict]:
        with self._cond:
            return [json.loads(m.payload) for m in self.messages if m.topic == topic]


@pytest.fixture(autouse=True)
def collect_garbage() -> Iterator[None]:
    """An unclosed socket or file is reported by the test that leaked it, not by a later one."""
    yield
    gc.collect()


@pytest.fixture(scope="session")
def broker() -> Iterator[LocalBroker]:
    with LocalBroker() as running:
        yield running


def write_config(directory: Path, port: int, *, site: str | None = None, windows: int = 0) -> Path:
    """The test hall's config on ``port``, with its own site id (retained topics do not
    leak between tests) and optionally ``windows`` extra windows for department 02."""
    site = site or f"t{next(_sites)}"
    text = BASE_CONFIG.read_text(encoding="utf-8")
    text = text.replace('id = "testhall"', f'id = "{site}"').replace("port = 1883", f"port = {port}")
    for n in range(windows):
        text += f'\n[[windows]]\nid = "x{n}"\ndepts = ["02"]\n\n[[clerks]]\nid = "x{n}"\nname = "职员{n}"\n'
    path = directory / "hall.toml"
    path.write_text(text, encoding="utf-8")
    return path


class RunningHall:
    """The controller in a thread of the test process, on a real broker and database."""

    def __init__(self, config: HallConfig, clock: FakeClock) -> None:
        self.config, self.clock = config, clock
        self.topics = Topics(config.site.id)
        self.stop_event = threading.Event()
        self.service: HallService | None = None
        self.thread: threading.Thread | None = None

    def start(self, watcher: BusClient) -> RunningHall:
        online = Recorder(watcher, self.topics.hall_status)
        self.stop_event.clear()
        self.service = HallService(self.config, clock=self.clock)
        self.thread = threading.Thread(target=self.service.run, args=(self.stop_event,), daemon=True)
        self.thread.start()
        online.wait_for(lambda m: m.payload == b"online")
        return self

    def stop(self) -> None:
        self.stop_event.set()
        if self.service:
            self.service.wake()
        if self.thread:
            self.thread.join(10)
        if self.service:
            self.service.close()
        self.service = None


class Peer(BusClient):
    """A device on the bus: sends requests with unique ids and records what it hears."""

    def __init__(self, port: int, topics: Topics, name: str | None = None) -> None:
        name = name or f"peer-{uuid.uuid4().hex[:8]}"
        super().__init__(name, "127.0.0.1", port, reply_topic=topics.replies(name))
        self.topics = topics
        self.heard = Recorder(self, f"{topics.root}/#")
        self.start()

    def __enter__(self) -> Peer:
        return self  # already started

    def ticket(self, dept: str = "02", item: str = "0202", phone: str = "13812345678", kiosk: str = "k1", **extra) -> dict:
        payload = {"request_id": uuid.uuid4().hex, "action": "ticket", "dept": dept, "item": item, "phone": phone}
        return self.request(self.topics.kiosk_request(kiosk), {**payload, **extra}, timeout=5)

    def command(self, window: str, action: str, **fields) -> dict:
        payload = {"request_id": fields.pop("request_id", uuid.uuid4().hex), "action": action, **fields}
        return self.request(self.topics.window_command(window), payload, timeout=5)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hall_config(tmp_path: Path, broker: LocalBroker) -> HallConfig:
    return load_config(write_config(tmp_path, broker.port))


@pytest.fixture
def peer(broker: LocalBroker, hall_config: HallConfig) -> Iterator[Peer]:
    client = Peer(broker.port, Topics(hall_config.site.id))
    yield client
    client.stop()


@pytest.fixture
def hall(hall_config: HallConfig, clock: FakeClock, peer: Peer) -> Iterator[RunningHall]:
    running = RunningHall(hall_config, clock).start(peer)
    yield running
    running.stop()
