"""The call-pad of windows 2 and 5 (tests/hall.toml, [[callers]] p1) against the real
controller: buttons on gpiozero's mock pins, the fake keypad, the fake LCD."""

from __future__ import annotations

import json
import threading

from tests.caller.conftest import (
    commands, events, heard_from_hall, heard_from_pad, login, press, ready, typed, wait_event,
)


def lcd(app, window="2") -> tuple[str, str]:
    app.tick()  # renders now, as the app's own one-second tick would
    return app.lcds[window].lcd.lines


def test_log_in_on_the_keypad_then_every_button(hall, peer, pad_app, clock):
    for phone in ("13800000001", "13800000002", "13800000003"):
        assert peer.ticket(phone=phone)["ok"]
    assert peer.ticket(dept="02", item="0201", phone="13800000004")["ok"]  # a promised matter
    pad = login(pad_app)
    assert wait_event(peer, "window_login", window="2")["clerk"] == "c01"
    leds = pad_app.leds["2"]

    def button(name: str, event: str, hold: bool = False) -> dict:
        mark = peer.heard.mark()
        press(pad_app, "2", name, hold=hold)
        return wait_event(peer, event, after=mark, window="2")

    assert button("next", "called")["ticket"] == "02001"
    assert leds.lit == {"green": True, "amber": False, "red": False}
    assert pad_app.pin_factory.pin(17).state  # the green LED's pin is driven high
    assert button("recall", "recalled")["ticket"] == "02001"
    assert button("skip", "skipped")["ticket"] == "02001"
    assert leds.lit["green"] is False

    mark = peer.heard.mark()
    typed(pad_app, "2", "*3", "02001", "enter")  # the citizen came back
    assert wait_event(peer, "requeued", after=mark)["ticket"] == "02001"
    assert button("next", "called")["ticket"] == "02001"
    assert button("complete", "completed")["ticket"] == "02001"

    assert button("next", "called")["ticket"] == "02002"
    typed(pad_app, "2", "*2", "06")  # the department for a transfer, then next held
    transferred = button("next", "transferred", hold=True)
    assert (transferred["ticket"], transferred["dept"]) == ("02002", "06")
    assert len(events(peer, "called")) == 3  # the hold called nobody

    assert button("next", "called")["ticket"] == "02003"
    button("complete", "completed")
    assert button("next", "called")["ticket"] == "02004"
    assert button("accept", "accepted")["ticket"] == "02004"

    button("pause", "window_paused")
    assert leds.lit == {"green": False, "amber": True, "red": False}
    button("pause", "window_resumed")  # the same button resumes
    assert leds.lit["amber"] is False
    assert len(events(peer, "called")) == 5
    assert leds.beeps[-1] == "ok" and "error" not in leds.beeps
    assert pad.flow.error is None


def test_the_keypad_alone_runs_a_window(hall, peer, pad_app):
    """Window 5's pad has only two buttons: everything else on the keypad."""
    for _ in range(3):
        assert peer.ticket(dept="06", item="0601")["ok"]
    pad = login(pad_app, "5", "2")  # clerk c02 types 2

    def keys(*typing: str, event: str) -> dict:
        mark = peer.heard.mark()
        typed(pad_app, "5", *typing)
        return wait_event(peer, event, after=mark, window="5")

    assert keys("+", event="called")["ticket"] == "06001"
    assert keys(".", event="recalled")["ticket"] == "06001"
    assert keys("enter", event="completed")["ticket"] == "06001"
    assert keys("+", event="called")["ticket"] == "06002"
    assert keys("-", event="skipped")["ticket"] == "06002"
    assert keys("+", event="called")["ticket"] == "06003"
    assert keys("*2", "02", "enter", event="transferred")["dept"] == "02"
    keys("/", event="window_paused")
    keys("/", event="window_resumed")
    pad_app.keypad("5").press("plus", hold_s=1.0)  # held past hold_s (0.3) with no department typed
    assert pad_app.keypad("5").wait_drained() and pad.wait_for(lambda _f: pad.idle.is_set())
    assert pad.flow.error == "Dept? *2 code" and pad_app.leds["5"].beeps[-1] == "error"
    typed(pad_app, "5", "*0", "enter")
    wait_event(peer, "window_logout", window="5")
    assert pad.flow.status == "closed"


def test_the_lcd_shows_number_time_against_limit_card_and_queue(hall, peer, pad_app, clock):
    for _ in range(2):
        assert peer.ticket()["ok"]
    pad = ready(pad_app.pads["2"])
    assert pad.wait_for(lambda f: f.waiting == {"02": 2, "05": 0})
    assert lcd(pad_app) == ("Log in: id Enter", "Wait 2          ")
    login(pad_app)
    assert lcd(pad_app) == ("Win 2 ready     ", "Wait 2       c01")
    press(pad_app, "2", "next")
    assert pad.wait_for(lambda f: f.waiting.get("02") == 1)
    assert lcd(pad_app) == ("02001  00:00/10m", "Wait 1       c01")
    clock.advance(minutes=11)  # over the 10 minutes of item 0202: a yellow card
    assert pad.wait_for(lambda f: f.state["serving"]["card"] == "yellow")
    assert lcd(pad_app)[0] == "02001 Y11:00/10m"
    clock.advance(minutes=10)
    assert pad.wait_for(lambda f: f.state["serving"]["card"] == "red")
    assert lcd(pad_app)[0] == "02001 R21:00/10m"
    typed(pad_app, "2", "*2", "0")
    assert lcd(pad_app)[1] == "To dept>0_      "
    typed(pad_app, "2", "backspace", "backspace", "*")
    assert lcd(pad_app)[1] == "1in2xf3rq4ac0out"
    typed(pad_app, "2", "*")
    press(pad_app, "2", "accept")  # 0202 is an immediate matter: refused, and said so
    assert lcd(pad_app)[1] == "Not possible now"
    assert pad_app.leds["2"].lit["red"] and pad_app.leds["2"].beeps[-1] == "error"
    assert pad.flow.state["serving"]["ticket"] == "02001"  # still served: nothing was guessed


def test_a_nervous_double_press_calls_one_citizen(hall, peer, pad_app, press_clock):
    for _ in range(3):
        assert peer.ticket()["ok"]
    pad = login(pad_app)
    press_clock.step = 0.15  # presses 150 ms apart
    pin = pad_app.pin_factory.pin(5)
    before = pad.presses
    for _ in range(2):
        pin.drive_low()
        pin.drive_high()
    assert pad.wait_for(lambda _f: pad.presses == before + 2 and pad.idle.is_set())
    heard_from_pad(peer, pad_app)
    heard_from_hall(peer)
    assert [c["action"] for c in commands(peer, "2")].count("next") == 1
    assert len(events(peer, "called")) == 1 and pad.flow.error is None


def test_presses_while_the_hall_is_slow_are_ignored_and_the_answer_decides(hall, peer, pad_app):
    """The link held up (a slow hall): the same key again is ignored, another is refused."""
    assert peer.ticket()["ok"]
    pad = login(pad_app)
    gate, entered = threading.Event(), threading.Event()
    send = pad_app.link.command

    def slow(window, payload, on_reply):  # the reply is handled only once the gate opens
        entered.set()
        return send(window, payload, lambda reply, seq: gate.wait(5) and on_reply(reply, seq))

    pad_app.link.command = slow
    pin = pad_app.pin_factory.pin(5)
    pin.drive_low()
    pin.drive_high()
    assert entered.wait(5)
    assert pad_app.leds["2"].lit["green"] is False  # nothing shown before the hall says so
    for _ in range(3):
        pad.key("next", at=pad.monotonic() + 10)  # long after: not a double press, but in flight
    assert pad.flow.error is None
    pad.key("recall")
    assert pad.flow.error == "Busy, wait"
    gate.set()
    assert pad.wait_for(lambda _f: pad.idle.is_set() and pad.replies >= 2)
    heard_from_pad(peer, pad_app)
    heard_from_hall(peer)
    assert len(events(peer, "called")) == 1 and [c["action"] for c in commands(peer, "2")] == ["login", "next"]
    assert pad_app.leds["2"].lit["green"] and pad.flow.error is None


def test_no_reply_is_asked_again_with_the_same_request_id(hall_config, peer, pad_app):
    """A controller (played by the test) that misses the first request answers the second."""
    topics = peer.topics
    peer.wait_published(topics.hall_status, "online", retain=True)
    seen: list[dict] = []
    window = {"window": "2", "status": "open", "clerk": "c01", "serving": None, "depts": ["02", "05"]}
    peer.publish(topics.window("2"), window, retain=True)

    def controller(message):
        seen.append(json.loads(message.payload))
        if len(seen) > 1:
            peer.reply(message, {"ok": True, "window": {**window, "status": "paused"}})

    peer.subscribe(topics.window_command("2"), controller)
    pad = ready(pad_app.pads["2"])
    press(pad_app, "2", "pause")
    assert [s["action"] for s in seen] == ["pause", "pause"]
    assert seen[0]["request_id"] == seen[1]["request_id"]
    assert pad.flow.status == "paused" and pad_app.leds["2"].beeps == ["ok"]


def test_nothing_is_called_before_a_clerk_logs_in(hall, peer, pad_app):
    assert peer.ticket()["ok"]
    pad = ready(pad_app.pads["2"])
    assert pad.flow.status == "closed"
    press(pad_app, "2", "next")
    assert lcd(pad_app) == ("Log in: id Enter", "Log in: *1 id   ")  # the hall's not_logged_in, said
    assert pad_app.leds["2"].beeps == ["error"] and pad_app.leds["2"].lit["red"]
    heard_from_hall(peer)
    assert events(peer, "called") == []
    login(pad_app)
    assert press(pad_app, "2", "next").flow.state["serving"]["ticket"] == "02001"


def test_the_buttons_bounce_and_hold_times_come_from_the_config(pad_app):
    buttons = pad_app.buttons["2"].devices
    assert set(buttons) == {"next", "recall", "skip", "complete", "accept", "pause"}
    assert {(b.pin.bounce, b.hold_time) for b in buttons.values()} == {(0.05, 0.3)}  # tests/hall.toml
    assert set(pad_app.buttons["5"].devices) == {"next", "complete"}


def test_closing_the_pad_with_a_command_in_flight_ends_it_quietly(hall_config, peer, pad_app, caplog):
    """A controller (played by the test) that never answers; the pad is stopped meanwhile."""
    topics = peer.topics
    peer.wait_published(topics.hall_status, "online", retain=True)
    peer.publish(topics.window("2"), {"window": "2", "status": "open", "clerk": "c01", "serving": None,
                                      "depts": ["02", "05"]}, retain=True)
    asked = threading.Event()
    peer.subscribe(topics.window_command("2"), lambda m: asked.set())
    pad = ready(pad_app.pads["2"])
    pin = pad_app.pin_factory.pin(19)  # complete: acts when pressed
    pin.drive_low()
    assert asked.wait(5) and not pad.idle.is_set()
    pad_app.close()
    assert pad.idle.wait(5) and pad.flow.error == "No reply"
    assert [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")] == []
