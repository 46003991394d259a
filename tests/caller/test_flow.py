"""The pad's state machine alone: keys in, commands and feedback out (no bus, no threads)."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone

import pytest

from caller import screen
from caller.flow import PadFlow, resolve_clerk

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)
SERVING = {"ticket": "02001", "dept": "02", "item": "0202", "called_at": "2026-11-27T09:00:00+08:00",
           "limit_s": 600, "card": "none"}


def make_flow(status: str = "open", serving: dict | None = None, online: bool = True) -> PadFlow:
    ids = itertools.count(1)
    flow = PadFlow("2", depts=["02", "05"], clerk_ids=["c01", "c02", "c007"],
                   new_request_id=lambda: f"r{next(ids)}", repeat_s=0.4)
    flow.window_state({"window": "2", "status": status, "clerk": None if status == "closed" else "c01",
                       "serving": serving})
    flow.offline = None if online else screen.OFFLINE
    return flow


def sent(flow: PadFlow, keys: list[str]) -> list[tuple[str, dict]]:
    """Press ``keys`` a second apart; every command sent is answered ok at once."""
    commands = []
    for n, key in enumerate(keys):
        decision = flow.key(key, at=float(n))
        if decision.command:
            commands.append((decision.command.action, decision.command.fields))
            flow.finished(decision.command, {"ok": True})
    return commands


KEY_MAP = [  # status, keys, the one command they send
    ("open", ["plus"], ("next", {})),
    ("open", ["dot"], ("recall", {})),
    ("open", ["minus"], ("skip", {})),
    ("open", ["enter"], ("complete", {})),
    ("open", ["slash"], ("pause", {})),
    ("paused", ["slash"], ("resume", {})),
    ("open", ["star", "1", "0", "2", "enter"], ("login", {"clerk": "c02"})),
    ("closed", ["0", "1", "enter"], ("login", {"clerk": "c01"})),
    ("closed", ["7", "enter"], ("login", {"clerk": "c007"})),
    ("closed", ["9", "9", "enter"], ("login", {"clerk": "99"})),
    ("open", ["star", "2", "0", "6", "enter"], ("transfer", {"dept": "06"})),
    ("open", ["star", "2", "0", "6", "hold_plus"], ("transfer", {"dept": "06"})),
    ("open", ["star", "2", "0", "6", "hold_next"], ("transfer", {"dept": "06"})),
    ("open", ["star", "3", "0", "2", "0", "0", "5", "enter"], ("requeue", {"ticket": "02005"})),
    ("open", ["star", "4", "enter"], ("accept", {})),
    ("open", ["star", "0", "enter"], ("logout", {})),
    ("open", ["star", "2", "0", "star", "plus"], ("next", {})),
    ("open", ["star", "2", "0", "backspace", "backspace", "plus"], ("next", {})),
    ("open", ["star", "3", "0", "2", "backspace", "5", "enter"], ("requeue", {"ticket": "05"})),
    *[("open", [button], (action, {})) for button, action in
      [("next", "next"), ("recall", "recall"), ("skip", "skip"), ("complete", "complete"),
       ("accept", "accept"), ("pause", "pause")]],
    ("paused", ["pause"], ("resume", {})),
]


@pytest.mark.parametrize("status, keys, command", KEY_MAP, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_the_key_map(status, keys, command):
    assert sent(make_flow(status), keys) == [command]


MISTAKES = [  # status, keys, the error shown; nothing is sent
    ("open", ["1"], screen.PRESS_STAR),
    ("open", ["hold_next"], screen.PICK_DEPT),
    ("open", ["star", "2", "0", "hold_plus"], screen.PICK_DEPT),
    ("open", ["star", "9"], screen.BAD_MENU),
    ("open", ["star", "2", "enter"], screen.TYPE_NUMBER),
    ("open", ["star", "2", "0", "6", "1"], screen.TOO_LONG),
    ("open", ["star", "2", "plus"], screen.ENTER_OR_STAR),
    ("closed", ["enter"], None),  # "complete" is sent: the controller answers not_logged_in
]


@pytest.mark.parametrize("status, keys, error", MISTAKES[:-1])
def test_mistakes_beep_and_send_nothing(status, keys, error):
    flow = make_flow(status)
    decisions = [flow.key(k, at=float(n)) for n, k in enumerate(keys)]
    assert all(d.command is None for d in decisions)
    assert decisions[-1].beep == "error" and flow.error == error
    assert flow.view(NOW).red_blink


def test_a_key_again_while_its_command_is_in_flight_is_ignored():
    flow = make_flow()
    first = flow.key("next", at=0.0)
    assert first.command and first.command.action == "next"
    again = flow.key("next", at=2.0)  # the reply is slow: seconds later, still in flight
    assert again.command is None and again.beep is None and flow.error is None
    other = flow.key("recall", at=2.5)
    assert other.command is None and other.beep == "error" and flow.error == screen.BUSY
    assert flow.finished(first.command, {"ok": True}).beep == "ok"
    assert flow.error is None and flow.key("recall", at=3.0).command is not None


def test_a_double_press_is_ignored_but_a_deliberate_second_press_is_not():
    flow = make_flow()
    first = flow.key("enter", at=0.0)
    flow.finished(first.command, {"ok": True})
    assert flow.key("enter", at=0.3).command is None  # 0.3 s later: the same nervous press
    assert flow.key("enter", at=1.0).command is not None


def test_the_enter_that_confirmed_an_entry_is_not_taken_for_done():
    flow = make_flow(serving=SERVING)
    for n, key in enumerate(["star", "3", "0", "2", "0", "0", "5"]):
        flow.key(key, at=n * 0.2)
    requeue = flow.key("enter", at=2.0).command
    assert requeue and requeue.action == "requeue"
    flow.finished(requeue, {"ok": True})
    assert flow.key("enter", at=2.25).command is None  # would have completed 02001


def test_offline_refuses_at_once_and_keeps_the_entry():
    flow = make_flow(online=False)
    decision = flow.key("next", at=0.0)
    assert decision.command is None and decision.beep == "error" and flow.error == screen.NOT_SENT
    assert flow.view(NOW).lines[1] == "OFFLINE         "  # while it lasts; then "Not sent"
    for n, key in enumerate(["star", "2", "0", "6", "enter"], start=1):
        decision = flow.key(key, at=float(n))
    assert decision.command is None and (flow.form, flow.digits) == ("transfer", "06")
    flow.offline = None
    assert flow.key("enter", at=9.0).command.fields == {"dept": "06"}


@pytest.mark.parametrize("reply, beep, error", [
    ({"ok": True}, "ok", None),
    ({"ok": False, "error": {"code": "no_waiting", "message": "nobody"}}, "error", "Nobody waiting"),
    ({"ok": False, "error": {"code": "something_new"}}, "error", "something_new"),
    (None, "error", screen.NO_REPLY),
])
def test_the_reply_decides_the_feedback(reply, beep, error):
    flow = make_flow()
    flow.error = "earlier"
    command = flow.key("next", at=0.0).command
    assert flow.finished(command, reply).beep == beep
    assert flow.error == error and flow.in_flight is None


REFUSED = {"ok": False, "error": {"code": "wrong_state", "message": "no"}}
LIGHTS = [  # the window as the hall said; the hall reachable?; the last command's answer -> green, amber, red blinking
    (None, screen.OFFLINE, None, (False, False, True)),  # nothing heard yet
    (None, screen.HALL_OFFLINE, None, (False, False, True)),
    ("closed", None, None, (False, False, False)),
    ("closed", None, {"ok": False, "error": {"code": "not_logged_in"}}, (False, False, True)),
    ("open", None, None, (False, False, False)),
    ("open", None, {"ok": True}, (False, False, False)),
    ("open", None, {"ok": False, "error": {"code": "no_waiting"}}, (False, False, True)),
    ("serving", None, None, (True, False, False)),
    ("serving", None, {"ok": True}, (True, False, False)),
    ("serving", None, REFUSED, (True, False, True)),  # still serving: the refusal changed nothing
    ("serving", None, "timeout", (True, False, True)),
    ("paused", None, None, (False, True, False)),
    ("paused", None, REFUSED, (False, True, True)),
    # The hall keeps a window as it is while its pad is cut off: the last word stands, and red blinks.
    ("serving", screen.OFFLINE, None, (True, False, True)),
    ("paused", screen.HALL_OFFLINE, None, (False, True, True)),
    ("open", screen.OFFLINE, None, (False, False, True)),
]


@pytest.mark.parametrize("window, offline, answer, lights", LIGHTS)
def test_the_lights_in_every_window_state(window, offline, answer, lights):
    if window is None:
        flow = make_flow()
        flow.state = None
    else:
        flow = make_flow("open" if window == "serving" else window, serving=SERVING if window == "serving" else None)
    if answer is not None:
        command = flow.key("recall", at=0.0).command
        flow.finished(command, None if answer == "timeout" else answer)
    flow.offline = offline
    view = flow.view(NOW)
    assert (view.green, view.amber, view.red_blink) == lights


def test_a_remembered_clerk_logs_in_again_only_when_nothing_is_in_flight():
    flow = make_flow("closed")
    command = flow.auto_login("c01")
    assert command and command.auto and command.payload()["clerk"] == "c01"
    assert flow.auto_login("c01") is None
    assert flow.key("plus", at=0.0).beep == "error"  # busy logging in


@pytest.mark.parametrize("typed, clerk", [
    ("c01", "c01"), ("01", "c01"), ("1", "c01"), ("7", "c007"), ("007", "c007"), ("3", "3"),
])
def test_clerk_ids_are_typed_by_their_digits(typed, clerk):
    assert resolve_clerk(typed, ["c01", "c02", "c007"]) == clerk


def test_an_ambiguous_clerk_number_is_sent_as_typed():
    assert resolve_clerk("01", ["c01", "d01"]) == "01"
    assert resolve_clerk("1", ["c1", "c01"]) == "c1"  # its digits are exactly those typed
