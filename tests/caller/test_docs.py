"""What docs/config.md tells a clerk about the keypad and the LCD is what the pad does,
and the terminal pad's own help (keymap.HELP) says the same."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from caller import screen
from caller.flow import PadFlow
from caller.keymap import HELP

DOC = (Path(__file__).parents[2] / "docs" / "config.md").read_text(encoding="utf-8")
KEY_NAMES = {"+": "plus", ".": "dot", "-": "minus", "/": "slash", "*": "star", "Enter": "enter",
             "Backspace": "backspace", **{d: d for d in "0123456789"}}
# What a placeholder in the docs stands for when typed: clerk c007, department 06, ticket 02005.
TYPED = {"clerk number": "7", "department code": "06", "ticket number": "02005", "id": "7", "dept": "06",
         "number": "02005"}
# The verb of each row, Chinese as on the pads' labels, and the command it sends.
VERBS = {"呼叫": "next", "重呼": "recall", "过号": "skip", "办结": "complete", "暂停": "pause",
         "登录": "login", "转办": "transfer", "重排": "requeue", "受理": "accept", "退出": "logout"}


def keypad_rows() -> list[tuple[str, str]]:
    section = DOC[DOC.index("### The keypad"):]
    section = section[:section.index("\n\n", section.index("| keys | does |"))]
    rows = [line.split("|")[1:3] for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    return [(keys.strip(), does.strip()) for keys, does in rows[1:]]


def presses(keys: str) -> list[str]:
    """`*` `2` department code `Enter` -> star 2 0 6 enter; `+` held `hold_s` -> hold_plus."""
    if keys.endswith("held `hold_s`"):
        return ["hold_plus"]
    out = []
    for token in re.findall(r"`([^`]+)`|([a-z][a-z ]*[a-z])", keys):
        key, words = token
        out += [KEY_NAMES[key]] if key else list(TYPED[words])
    return out


def make_flow(status: str) -> PadFlow:
    ids = itertools.count()
    flow = PadFlow("2", depts=["02"], clerk_ids=["c01", "c007"], new_request_id=lambda: f"r{next(ids)}")
    flow.window_state({"window": "2", "status": status, "clerk": None if status == "closed" else "c01",
                       "serving": None})
    flow.offline = None
    return flow


def sent(flow: PadFlow, keys: list[str]) -> list[str]:
    actions = []
    for n, key in enumerate(keys):
        command = flow.key(key, at=float(n)).command
        if command:
            actions.append(command.action)
            flow.finished(command, {"ok": True})
    return actions


COMMAND_ROWS = [(keys, does) for keys, does in keypad_rows() if any(v in does for v in VERBS)]


def test_the_docs_keypad_table_is_whole():
    assert len(COMMAND_ROWS) == 11 and len(keypad_rows()) == 13


@pytest.mark.parametrize("keys, does", COMMAND_ROWS, ids=[k for k, _ in COMMAND_ROWS])
def test_each_documented_key_does_what_the_docs_say(keys, does):
    verb = next(v for v in VERBS if does.startswith(v))
    flow = make_flow("open")
    if keys.startswith("`+` held"):  # held, it transfers to the department typed before
        sent(flow, ["star", "2", "0", "6"])
    assert sent(flow, presses(keys)) == [VERBS[verb]]
    if verb == "暂停":  # "when paused, 恢复 resume"
        assert "恢复 resume" in does and sent(make_flow("paused"), presses(keys)) == ["resume"]
    if verb == "登录":  # "While nobody is logged in, just type the number and `Enter`"
        assert sent(make_flow("closed"), ["7", "enter"]) == ["login"]


def test_backspace_and_star_leave_an_entry_as_documented():
    rows = dict(keypad_rows())
    assert rows["`Backspace`"] == "delete the last digit; on an empty entry, leave it"
    assert rows["`*` in an entry"] == "leave the entry"
    flow = make_flow("open")
    sent(flow, ["star", "3", "0", "2", "backspace"])
    assert flow.digits == "0"
    sent(flow, ["backspace", "backspace"])
    assert flow.form is None
    sent(flow, ["star", "2", "0", "star"])
    assert flow.form is None


def test_the_terminal_help_says_the_same():
    lines = HELP.splitlines()
    assert max(len(line) for line in lines) <= 80  # no wrapping in an 80-column terminal
    assert lines[2].endswith("(on a keypad, + held: transfer)")
    entries = [entry for line in (lines[0], lines[1], lines[2].rsplit("(", 1)[0])
               for entry in re.split(r"\s{2,}", line.strip())]
    actions = {"no-show": "skip", "done": "complete", "pause|resume": "pause"}
    chars = {"+": "plus", ".": "dot", "-": "minus", "/": "slash", "*": "star", "Enter": "enter"}
    assert len(entries) == 10
    for entry in entries:
        *keys, word = entry.split()
        typed = []
        for token in keys:
            if token in chars or token in TYPED:
                typed += [chars[token]] if token in chars else list(TYPED[token])
            else:  # *1, *2 ...
                typed += [chars.get(c, c) for c in token]
        assert sent(make_flow("open"), typed) == [actions.get(word, word)], entry
    assert lines[3] == "Backspace deletes a digit; * or Backspace on an empty entry leaves it"


def test_the_docs_lcd_example_is_what_the_lcd_shows():
    example = DOC[DOC.index("The LCD (16×2"):]
    lines = re.search(r"```\n(.{16}).*\n(.{16}).*\n```", example).groups()
    called = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    serving = {"ticket": "02001", "dept": "02", "item": "0201", "called_at": called.isoformat(),
               "limit_s": 1200, "card": "yellow"}
    shown = screen.lcd_lines("2", {"status": "open", "serving": serving}, called + timedelta(minutes=12, seconds=5),
                             form=None, digits="", error=None, offline=None, waiting=3, clerk="c01")
    assert shown == lines
    assert f"{lines[0]}      <- " in screen.__doc__ and f"{lines[1]}      <- " in screen.__doc__
    assert "1in2xf3rq4ac0out" in DOC and screen.MENU_HINT == "1in2xf3rq4ac0out"
