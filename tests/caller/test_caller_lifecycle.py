"""The pad without a hall, across restarts, as a process: refused at once when it cannot
reach the hall, its clerk kept across a restart, its availability and Last Will."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import types
from pathlib import Path

from bus.broker import LocalBroker, free_port
from bus.topics import Topics
from caller.app import CallerApp, find_pad, state_path
from caller.simulated import press_button
from paihao.config import load_config
from tests.bus.cable import Cable
from tests.caller.conftest import (
    commands, events, heard_from_hall, heard_from_pad, login, press, ready, typed, wait_event,
)
from tests.conftest import Peer, RunningHall, write_config


def test_without_a_broker_a_press_is_refused_at_once_and_never_sent_later(tmp_path, clock, press_clock):
    port = free_port()  # nothing listens here yet
    config = load_config(write_config(tmp_path, port))
    app = CallerApp(config, config.caller("p1"), now=clock, monotonic=press_clock).start()
    sent: list[dict] = []
    command = app.link.command
    app.link.command = lambda window, payload, on_reply: sent.append(payload) or command(window, payload, on_reply)
    try:
        pad = app.pads["2"]
        assert press_button(app, "2", "next")  # handled at once, not after some timeout
        assert pad.flow.error == "Not sent" and sent == [] and pad.replies == 0
        assert app.leds["2"].beeps == ["error"] and app.leds["2"].lit["red"]
        assert app.lcds["2"].lcd.lines[1] == "OFFLINE         "
        with LocalBroker(port=port):
            peer = Peer(port, Topics(config.site.id))
            hall = RunningHall(config, clock).start(peer)
            try:
                ready(pad, timeout=20)  # the pad's reconnect backs off up to 10 s
                app.tick()
                assert app.lcds["2"].lcd.lines[1] == "Not sent        "  # what was pressed did not happen
                assert app.leds["2"].lit["red"]
                assert peer.ticket()["ok"]
                login(app)
                mark = peer.heard.mark()
                press(app, "2", "next")
                assert wait_event(peer, "called", after=mark)["ticket"] == "02001"
                assert [p["action"] for p in sent] == ["login", "next"]
                assert len(events(peer, "called")) == 1
            finally:
                hall.stop()
                peer.stop()
    finally:
        app.close()


def test_with_the_hall_down_a_press_is_refused_and_nothing_reaches_the_bus(hall_config, peer, clock, press_clock):
    app = CallerApp(hall_config, hall_config.caller("p1"), now=clock, monotonic=press_clock).start()
    try:
        pad = app.pads["2"]
        assert pad.wait_for(lambda f: f.offline == "HALL OFFLINE")
        assert press_button(app, "2", "next")
        assert pad.flow.error == "Not sent" and app.leds["2"].beeps == ["error"]
        assert app.lcds["2"].lcd.lines[1] == "HALL OFFLINE    "
        hall = RunningHall(hall_config, clock).start(peer)
        try:
            ready(pad)
            assert app.leds["2"].lit["red"]  # the refusal still shows: it did not happen
            assert peer.ticket()["ok"]
            login(app)
            press(app, "2", "next")
            wait_event(peer, "called", window="2")
            heard_from_pad(peer, app)
            assert [c["action"] for c in commands(peer, "2")] == ["login", "next"]
            assert app.leds["2"].lit == {"green": True, "amber": False, "red": False}
        finally:
            hall.stop()
    finally:
        app.close()


def test_a_press_into_a_connection_that_died_unnoticed_calls_nobody_later(hall, peer, hall_config, clock,
                                                                          press_clock):
    """The network drops and the pad cannot know yet (its keepalive has not run out): next
    is sent into the dead connection, unanswered, and given up on. When the pad reconnects,
    that next must not reach the controller: nobody is watching for the number any more."""
    assert peer.ticket()["ok"]
    with Cable(hall_config.mqtt.port) as cable:
        config = hall_config.model_copy(update={"mqtt": hall_config.mqtt.model_copy(update={"port": cable.port})})
        pad_config = config.caller("p1").model_copy(update={"reply_timeout_s": 0.3, "attempts": 2})
        app = CallerApp(config, pad_config, now=clock, monotonic=press_clock).start()
        try:
            pad = login(app)
            cable.pull()
            assert press_button(app, "2", "next")
            assert cable.wait_lost() and pad.flow.error == "No reply"
            assert app.leds["2"].lit == {"green": False, "amber": False, "red": True}
            assert app.leds["2"].beeps[-1] == "error"
            cable.cut()  # as the keepalive would, some seconds on: now the pad knows
            assert pad.wait_for(lambda f: f.offline == "OFFLINE")
            assert press_button(app, "2", "next")  # refused at once, and never sent
            assert pad.flow.error == "Not sent" and app.lcds["2"].lcd.lines[1] == "OFFLINE         "
            cable.mend()
            ready(pad, timeout=20)  # connected again, the clerk logged in again by itself
            heard_from_pad(peer, app)  # what paho would have replayed went out before this
            heard_from_hall(peer)
            assert [c["action"] for c in commands(peer, "2")] == ["login", "login"]
            assert events(peer, "called") == []
            press(app, "2", "next")
            assert wait_event(peer, "called", window="2")["ticket"] == "02001"
        finally:
            app.close()


def test_the_clerk_stays_logged_in_across_a_restart(hall, peer, hall_config, clock, press_clock):
    assert peer.ticket()["ok"]
    pad_config = hall_config.caller("p1")
    first = CallerApp(hall_config, pad_config, now=clock, monotonic=press_clock).start()
    try:
        login(first)
    finally:
        first.close()
    path = state_path(hall_config, pad_config)
    assert path.parent == Path(hall_config.storage.db).parent
    assert json.loads(path.read_text()) == {"clerks": {"2": "c01"}}

    second = CallerApp(hall_config, pad_config, now=clock, monotonic=press_clock).start()
    try:
        pad = ready(second.pads["2"])  # it logged c01 in again by itself
        assert pad.flow.state["clerk"] == "c01" and pad.flow.error is None
        heard_from_pad(peer, second)
        heard_from_hall(peer)
        assert [c.get("clerk") for c in commands(peer, "2") if c["action"] == "login"] == ["c01", "c01"]
        assert len(events(peer, "window_login")) == 1  # the second login was "already so"
        press(second, "2", "next")
        assert wait_event(peer, "called", window="2")["clerk"] == "c01"
        press(second, "2", "complete")
        typed(second, "2", "*0", "enter")
        wait_event(peer, "window_logout", window="2")
        assert json.loads(path.read_text()) == {"clerks": {}}
    finally:
        second.close()


def test_a_remembered_clerk_who_logged_in_elsewhere_is_forgotten(hall, peer, hall_config, clock, press_clock):
    pad_config = hall_config.caller("p1")
    state_path(hall_config, pad_config).write_text(json.dumps({"clerks": {"2": "c03"}}))
    assert peer.command("1", "login", clerk="c03")["ok"]
    app = CallerApp(hall_config, pad_config, now=clock, monotonic=press_clock).start()
    try:
        pad = ready(app.pads["2"])
        assert pad.flow.error == "Not possible now" and pad.flow.status == "closed"
        assert app.store.get("2") is None
    finally:
        app.close()


def test_the_pad_says_it_is_online_then_offline(broker, hall_config, peer, pad_app):
    topic = peer.topics.device_status("callers", "p1")
    online = peer.heard.wait_for(lambda m: m.topic == topic)
    assert json.loads(online.payload) == {"online": True, "windows": ["2", "5"], "faults": [], "last_error": None}
    later = Peer(broker.port, peer.topics)  # a dashboard started later hears it too: retained
    try:
        assert later.heard.wait_for(lambda m: m.topic == topic).retain
    finally:
        later.stop()
    mark = peer.heard.mark()  # (a later "online", e.g. with a fault found, may still be on its way)
    pad_app.close()
    peer.heard.wait_for(lambda m: m.topic == topic and json.loads(m.payload)["online"] is False, after=mark)
    assert peer.heard.latest(topic)["online"] is False  # and it is the last word


def test_the_caller_process_stops_on_sigterm_and_its_last_will_says_offline(tmp_path, hall_config, peer):
    topic = peer.topics.device_status("callers", "p1")
    config_path = tmp_path / "hall.toml"

    def spawn() -> subprocess.Popen:
        with open(tmp_path / "caller.log", "ab") as log:
            return subprocess.Popen([sys.executable, "-m", "paihao.cli", "caller", "--config", str(config_path),
                                     "--id", "p1"], stdout=log, stderr=subprocess.STDOUT,
                                    cwd=Path(__file__).parents[2])

    def status(after: int, online: bool) -> dict:
        """The first status saying ``online`` after ``after`` (a pad may say "online" twice as it starts)."""
        return json.loads(peer.heard.wait_for(
            lambda m: m.topic == topic and json.loads(m.payload)["online"] is online, timeout=20, after=after).payload)

    mark = peer.heard.mark()
    process = spawn()
    try:
        status(mark, True)
        mark = peer.heard.mark()
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        status(mark, False)
        mark = peer.heard.mark()
        process = spawn()
        status(mark, True)
        mark = peer.heard.mark()
        process.kill()  # kill -9: only the broker can speak for it now
        process.wait(10)
        assert status(mark, False) == {"online": False, "windows": ["2", "5"], "faults": [], "last_error": None}
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_terminal_pad_shows_what_the_pad_would_and_takes_the_same_keys(hall, peer, hall_config, clock):
    assert peer.ticket(dept="05", item="0501")["ok"]
    out = io.StringIO()
    read_fd, write_fd = os.pipe()
    keys = os.fdopen(read_fd, "r")
    app = CallerApp(hall_config, find_pad(hall_config, None, "3"), tty=out, tty_in=keys, now=clock).start()
    try:
        assert app.pad_config.id == "tty-3" and app.keypads == {}
        pad = ready(app.pads["3"])
        os.write(write_fd, b"3\r")  # clerk c03: nobody is logged in, so digits are the login
        assert pad.wait_for(lambda f: f.status == "open" and pad.idle.is_set())
        os.write(write_fd, b"+")
        assert pad.wait_for(lambda f: bool(f.state.get("serving")) and pad.idle.is_set())
        text = app.panel.text()
        assert "window 3   green ON  amber --  red --   beep" in text
        assert "|05001  00:00/90s|" in text and "*1 id Enter login" in text
    finally:
        app.close()
        os.close(write_fd)
        keys.close()


def test_tab_moves_the_terminal_keys_to_the_next_window(hall, peer, hall_config, clock):
    out = io.StringIO()
    read_fd, write_fd = os.pipe()
    keys = os.fdopen(read_fd, "r")
    app = CallerApp(hall_config, hall_config.caller("p1"), tty=out, tty_in=keys, now=clock).start()
    try:
        assert app.keypads == {} and app.panel.selected == "2"
        ready(app.pads["5"])
        os.write(write_fd, b"\t2\r")
        assert app.pads["5"].wait_for(lambda f: f.status == "open" and app.pads["5"].idle.is_set())
        assert app.pads["2"].flow.status == "closed"
        assert ">window 5" in app.panel.text()
    finally:
        app.close()
        os.close(write_fd)
        keys.close()


class EvdevStandIn(types.ModuleType):
    """python-evdev is compiled, and not in the test environment: what the pad uses of it to
    open a device node, doing what evdev.InputDevice does first (os.open of the path)."""

    class InputDevice:
        def __init__(self, path: str) -> None:
            self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)


def test_a_missing_keypad_or_lcd_is_a_fault_in_the_status_not_a_crash(tmp_path, hall_config, peer, clock,
                                                                       monkeypatch):
    monkeypatch.setitem(sys.modules, "evdev", EvdevStandIn("evdev"))
    path = tmp_path / "hall.toml"
    path.write_text(path.read_text(encoding="utf-8") + '\n[[callers]]\nid = "q1"\n[[callers.windows]]\nwindow = "1"\n'
                    'keypad = "/dev/input/by-id/no-such-keypad-event-kbd"\nlcd = { address = 0x27, port = 19 }\n',
                    encoding="utf-8")
    config = load_config(path)
    app = CallerApp(config, config.caller("q1"), now=clock).start()
    try:
        topic = peer.topics.device_status("callers", "q1")
        peer.heard.wait_for(lambda m: m.topic == topic)
        app.tick()
        status = json.loads(peer.heard.wait_for(lambda m: m.topic == topic and b'"faults":[]' not in m.payload).payload)
        assert status["online"] is True
        assert sorted(status["faults"]) == [
            "keypad of window 1: [Errno 2] No such file or directory: '/dev/input/by-id/no-such-keypad-event-kbd'",
            "lcd of window 1: [Errno 2] No such file or directory: '/dev/i2c-19'"]
        assert app.pads["1"].wait_for(lambda f: f.offline == "HALL OFFLINE")  # the pad itself still works
    finally:
        app.close()
