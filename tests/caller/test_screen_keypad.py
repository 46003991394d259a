"""The LCD's text, the keypad's events and the terminal's characters, each alone."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from caller import screen
from caller.keymap import EVDEV_KEYS, KEY_CODES, TTY_KEYS
from caller.keypad import FakeKeypad, KeyEvent, KeypadReader

CALLED = "2026-11-27T09:00:00+08:00"
NOW = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)


def serving(ticket="02001", limit_s=600, card="none"):
    return {"ticket": ticket, "dept": "02", "item": "0202", "called_at": CALLED, "limit_s": limit_s, "card": card}


@pytest.mark.parametrize("state, elapsed_s, line", [
    ({"status": "open", "serving": serving()}, 0, "02001  00:00/10m"),
    ({"status": "open", "serving": serving(card="yellow")}, 725, "02001 Y12:05/10m"),
    ({"status": "open", "serving": serving(card="red", limit_s=90)}, 200, "02001 R03:20/90s"),
    ({"status": "open", "serving": serving(ticket="021000", card="red")}, 7200, "021000R 2h00/10m"),
    # Four-digit sequences: the number whole, the card mark against it, the time whole.
    ({"status": "open", "serving": serving(ticket="021000")}, 0, "021000 00:00/10m"),
    ({"status": "open", "serving": serving(ticket="021000", card="yellow")}, 725, "021000Y12:05/10m"),
    ({"status": "open", "serving": serving(ticket="029999", card="red", limit_s=5400)}, 5999, "029999R99:59/90m"),
    ({"status": "open", "serving": serving(ticket="021000", limit_s=7200)}, 7500, "021000   2h05/2h"),
    # Past 9999 the limit gives way, never the number or the time.
    ({"status": "open", "serving": serving(ticket="0210000", card="red")}, 725, "0210000R   12:05"),
    ({"status": "open", "serving": None}, 0, "Win 2 ready     "),
    ({"status": "paused", "serving": None}, 0, "Win 2 PAUSED    "),
    ({"status": "closed", "serving": None}, 0, "Log in: id Enter"),
    (None, 0, "Win 2 ...       "),
])
def test_the_first_line_shows_number_card_and_time_against_limit(state, elapsed_s, line):
    from datetime import timedelta

    first, _ = screen.lcd_lines("2", state, NOW + timedelta(seconds=elapsed_s), form=None, digits="",
                                error=None, offline=None, waiting=3, clerk="c01")
    assert first == line and len(line) == 16


@pytest.mark.parametrize("second, line", [
    ({}, "Wait 3       c01"),
    ({"waiting": None, "clerk": None}, "Wait ?          "),
    ({"form": "menu"}, "1in2xf3rq4ac0out"),
    ({"form": "transfer", "digits": "06"}, "To dept>06_     "),
    ({"form": "requeue", "digits": "02015"}, "Ticket>02015_   "),
    ({"form": "accept"}, "Accept? Enter   "),
    ({"error": "Nobody waiting"}, "Nobody waiting  "),
    ({"offline": "HALL OFFLINE"}, "HALL OFFLINE    "),
    ({"form": "login", "digits": "01", "error": "Unknown clerk"}, "Clerk>01_       "),
])
def test_the_second_line_shows_the_entry_then_the_error_then_the_queue(second, line):
    fields = {"form": None, "digits": "", "error": None, "offline": None, "waiting": 3, "clerk": "c01", **second}
    assert screen.lcd_lines("2", None, NOW, **fields)[1] == line


def test_only_printable_ascii_reaches_the_lcd():
    assert screen.fit("张敏 c01\x07") == "?? c01?         "


# -- the keypad ------------------------------------------------------------------------------

class Keys:
    def __init__(self):
        self.got: list[tuple[str, float]] = []

    def __call__(self, key: str, at: float) -> None:
        self.got.append((key, at))


def reader(keys: Keys, keypad: FakeKeypad | None = None) -> KeypadReader:
    return KeypadReader(lambda: keypad or FakeKeypad(), keys, hold_s=2.0)


def feed(r: KeypadReader, keypad: FakeKeypad) -> None:
    for event in keypad.events(0):
        r.handle(event)


def test_keys_act_when_pressed_and_a_held_digit_types_once():
    keys, keypad = Keys(), FakeKeypad(start=0.0)
    r = reader(keys, keypad)
    keypad.type("*1")
    keypad.press("0", hold_s=1.5)  # held: the kernel repeats it; typed once
    keypad.type("1", "enter")
    feed(r, keypad)
    assert [k for k, _ in keys.got] == ["star", "1", "0", "1", "enter"]
    assert [round(t, 2) for _, t in keys.got] == [0.5, 1.08, 1.66, 3.66, 4.24]


def test_plus_is_next_when_tapped_and_transfer_when_held():
    keys, keypad = Keys(), FakeKeypad(start=0.0)
    r = reader(keys, keypad)
    keypad.press("plus")
    keypad.press("plus", hold_s=2.5)
    keypad.press("plus", hold_s=1.9)
    feed(r, keypad)
    assert [k for k, _ in keys.got] == ["plus", "hold_plus", "plus"]


def test_numlock_and_other_codes_are_ignored():
    keys, r = Keys(), reader(Keys())
    r._key = keys
    for code in (69, 30, 59):  # NumLock, A, F1
        r.handle(KeyEvent(1, 0, 1, code, 1))
    r.handle(KeyEvent(1, 0, 4, 4, 458840))  # EV_MSC scan code
    assert keys.got == []


def test_the_key_tables_agree():
    assert all(EVDEV_KEYS[code] == name for name, code in KEY_CODES.items())
    # The values of linux/input-event-codes.h that everything rests on.
    assert (KEY_CODES["0"], KEY_CODES["1"], KEY_CODES["enter"], KEY_CODES["plus"], KEY_CODES["star"]) == (82, 79, 96, 78, 55)
    assert {TTY_KEYS[c] for c in "+-*/.\r\x7f"} == {"plus", "minus", "star", "slash", "dot", "enter", "backspace"}


def test_a_keypad_that_cannot_be_opened_is_a_fault_not_a_crash():
    def missing():
        raise FileNotFoundError("/dev/input/by-id/usb-keypad-event-kbd")

    r = KeypadReader(missing, Keys(), hold_s=2.0, name="keypad of window 2").start()
    try:
        assert r.fault and "keypad of window 2" in r.fault
    finally:
        r.stop()
