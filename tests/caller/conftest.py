"""The real call-pad app — gpiozero's mock pins, the fake keypad and the fake LCD that
ship in caller/ — against the real controller on a real mosquitto."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator

import pytest

from caller.app import CallerApp
from caller.pad import WindowPad
from caller.simulated import press_button
from tests.conftest import Peer


class PressClock:
    """The buttons' monotonic clock: each press reads it once, and it moves ``step`` seconds
    a read, so presses are a second apart (no double press) unless a test says otherwise."""

    def __init__(self, step: float = 1.0) -> None:
        self.t, self.step = 1000.0, step
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self.t += self.step
            return self.t


@pytest.fixture
def press_clock() -> PressClock:
    return PressClock()


@pytest.fixture
def pad_app(hall_config, clock, press_clock) -> Iterator[CallerApp]:
    app = CallerApp(hall_config, hall_config.caller("p1"), now=clock, monotonic=press_clock)
    app.start()
    yield app
    app.close()


def ready(pad: WindowPad, timeout: float = 5.0) -> WindowPad:
    """Until the pad hears the hall, knows its window, and has nothing in flight."""
    assert pad.wait_for(lambda f: f.offline is None and f.state is not None and pad.idle.is_set(), timeout), \
        f"window {pad.window_id} never became ready: {pad.flow.offline}"
    return pad


def typed(app: CallerApp, window: str, *keys: str) -> WindowPad:
    """Type on the window's fake keypad; return once every key and its command are handled."""
    pad = app.pads[window]
    keypad = app.keypad(window)
    keypad.type(*keys)
    assert keypad.wait_drained()
    assert pad.wait_for(lambda _f: pad.idle.is_set())
    return pad


def press(app: CallerApp, window: str, button: str, *, hold: bool = False) -> WindowPad:
    assert press_button(app, window, button, hold=hold), f"{button} was not handled"
    return app.pads[window]


def login(app: CallerApp, window: str = "2", digits: str = "01") -> WindowPad:
    pad = ready(app.pads[window])
    typed(app, window, digits, "enter")
    assert pad.flow.status == "open", pad.flow.error
    return pad


def commands(peer: Peer, window: str) -> list[dict]:
    """Every command the controller was sent for ``window``, as the peer overheard them."""
    return peer.heard.payloads(peer.topics.window_command(window))


def events(peer: Peer, kind: str) -> list[dict]:
    return peer.heard.payloads(peer.topics.event(kind))


def wait_event(peer: Peer, kind: str, after: int = 0, **fields: object) -> dict:
    topic = peer.topics.event(kind)
    message = peer.heard.wait_for(
        lambda m: m.topic == topic and all(json.loads(m.payload).get(k) == v for k, v in fields.items()),
        after=after)
    return json.loads(message.payload)


def heard_from_pad(peer: Peer, app: CallerApp) -> None:
    """Once this returns, the peer has heard everything the pad published before: a marker
    sent by the pad's own client arrives after them (one publisher, one subscriber, in order)."""
    topic = f"{peer.topics.root}/tests/barrier/{uuid.uuid4().hex}"  # the controller ignores it
    app.link.bus.publish(topic, "barrier")
    peer.heard.wait_for(lambda m: m.topic == topic)


def heard_from_hall(peer: Peer) -> None:
    """Once this returns, the peer has heard every event of the requests the controller has
    applied: its answer to a request of the peer's own comes after them."""
    assert peer.command("zz", "next")["error"]["code"] == "unknown_window"
