"""One window's call-pad as a state machine: keys in, commands and feedback out.

No threads, no MQTT, no clock reads: the pad (caller/pad.py) feeds it keys
with their time, the controller's replies and retained state, and whether
the hall can be reached; it answers with the command to send, if any, and
which beep to give. Everything the LEDs and the LCD show is derived from
what the controller said (``state``), never from what was asked.

The guards a clerk relies on:

- a key pressed again while its command is in flight, or within
  ``repeat_s`` of its previous press, is ignored: a nervous double press
  calls one citizen, and the Enter that confirmed an entry is not taken
  for "done" a moment later;
- another command key while one is in flight is refused (``Busy``), never
  queued; so is every command while the hall cannot be reached.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from caller import screen
from caller.keymap import BUTTONS, DIGITS, FORM_DIGITS, HOLD_KEYS, MENU, SINGLE_KEYS

ACTION_OF_KEY = {"next": "next", "recall": "recall", "skip": "skip", "complete": "complete",
                 "accept": "accept", "pause": "pause", **SINGLE_KEYS}


@dataclass
class Command:
    action: str
    key: str  # the key that sent it: the guards are per key
    request_id: str
    fields: dict[str, str] = field(default_factory=dict)
    auto: bool = False  # the pad's own login after a restart, not a key

    def payload(self) -> dict:
        return {"request_id": self.request_id, "action": self.action, **self.fields}


@dataclass(frozen=True)
class Decision:
    command: Command | None = None  # send this now
    beep: str | None = None  # "ok" or "error"


@dataclass(frozen=True)
class PadView:
    green: bool  # serving a citizen
    amber: bool  # paused
    red_blink: bool  # not connected, or the last thing asked did not happen
    lines: tuple[str, str]


def resolve_clerk(typed: str, clerk_ids: Sequence[str]) -> str:
    """The clerk id for the digits typed: c007 is typed 7, 07 or 007 (if that is unambiguous).

    Anything else is sent as typed, and the controller answers unknown_clerk.
    """
    if typed in clerk_ids:
        return typed
    digits = {cid: re.sub(r"\D", "", cid) for cid in clerk_ids}
    same = [cid for cid, d in digits.items() if d == typed]
    if len(same) != 1 and typed.isdigit():
        same = [cid for cid, d in digits.items() if d and int(d) == int(typed)]
    return same[0] if len(same) == 1 else typed


class PadFlow:
    def __init__(self, window_id: str, *, depts: Sequence[str], clerk_ids: Sequence[str],
                 new_request_id: Callable[[], str], repeat_s: float = 0.4) -> None:
        self.window_id = window_id
        self.depts = tuple(depts)
        self.clerk_ids = tuple(clerk_ids)
        self.repeat_s = repeat_s
        self._new_id = new_request_id
        self.state: dict | None = None  # the window, as the controller last said
        self.waiting: dict[str, int] = {}
        self.offline: str | None = screen.OFFLINE  # None once the hall can be reached
        self.form: str | None = None  # "menu", or an entry form of keymap.MENU
        self.digits = ""
        self.in_flight: Command | None = None
        self.error: str | None = None
        self.last_ticket: dict | None = None
        self._pressed: dict[str, float] = {}

    # -- what the controller and the link say ----------------------------------------
    def window_state(self, state: dict) -> None:
        self.state = state
        if state.get("status") != "closed" and self.form == "login":
            self.form, self.digits = None, ""  # logged in elsewhere meanwhile: the entry is moot

    def queue_state(self, dept: str, waiting: int) -> None:
        if dept in self.depts:
            self.waiting[dept] = waiting

    @property
    def status(self) -> str | None:
        return self.state.get("status") if self.state else None

    # -- keys ----------------------------------------------------------------------------
    def key(self, key: str, at: float) -> Decision:
        """A key from a button, the keypad or the terminal, pressed at monotonic time ``at``."""
        if key in BUTTONS or key in HOLD_KEYS:
            return self._action(key, at)  # buttons act whatever the keypad is in the middle of
        if self.form is None and key in DIGITS:
            if self.status != "closed":
                return self._refuse(screen.PRESS_STAR)
            self.form = "login"  # nobody logged in: typing a number is logging in
        if self.form == "menu":
            return self._menu(key)
        if self.form:
            return self._entry(key, at)
        if key == "star":
            self.form = "menu"
        elif key in SINGLE_KEYS:
            return self._action(key, at)
        return Decision()

    def _menu(self, key: str) -> Decision:
        if key in ("star", "backspace"):
            self.form = None
        elif key in MENU:
            self.form, self.digits = MENU[key], ""
        else:
            self.form = None
            return self._refuse(screen.BAD_MENU)
        return Decision()

    def _entry(self, key: str, at: float) -> Decision:
        form = self.form or ""
        if key in DIGITS:
            if len(self.digits) >= FORM_DIGITS[form]:
                return self._refuse(screen.TOO_LONG)
            self.digits += key
        elif key == "backspace" and self.digits:
            self.digits = self.digits[:-1]
        elif key in ("star", "backspace"):
            self.form, self.digits = None, ""
        elif key == "enter":
            if FORM_DIGITS[form] and not self.digits:
                return self._refuse(screen.TYPE_NUMBER)
            return self._send(form, key, at, **self._fields(form))
        else:
            return self._refuse(screen.ENTER_OR_STAR)
        return Decision()

    def _fields(self, form: str) -> dict[str, str]:
        if form == "login":
            return {"clerk": resolve_clerk(self.digits, self.clerk_ids)}
        if form == "transfer":
            return {"dept": self.digits}
        if form == "requeue":
            return {"ticket": self.digits}
        return {}

    def _action(self, key: str, at: float) -> Decision:
        if key in HOLD_KEYS:
            if self.form != "transfer" or len(self.digits) != FORM_DIGITS["transfer"]:
                return self._refuse(screen.PICK_DEPT)
            return self._send("transfer", key, at, dept=self.digits)
        action = ACTION_OF_KEY[key]
        if action == "pause" and self.status == "paused":
            action = "resume"
        return self._send(action, key, at)

    def _send(self, action: str, key: str, at: float, **fields: str) -> Decision:
        previous = self._pressed.get(key)
        self._pressed[key] = at
        if self.in_flight is not None and self.in_flight.key == key:
            return Decision()  # the same key again while it is on its way
        if previous is not None and at - previous < self.repeat_s:
            return Decision()  # a double press
        if self.in_flight is not None:
            return self._refuse(screen.BUSY)
        if self.offline:
            return self._refuse(screen.NOT_SENT)  # the LCD says OFFLINE while it lasts, then "Not sent"
        self.in_flight = Command(action, key, self._new_id(), fields)
        self.form, self.digits = None, ""
        return Decision(command=self.in_flight)

    def _refuse(self, text: str) -> Decision:
        self.error = text
        return Decision(beep="error")

    def auto_login(self, clerk: str) -> Command | None:
        """After a restart or reconnect: log the remembered clerk in again (a no-op if still in)."""
        if self.in_flight is not None or self.offline:
            return None
        self.in_flight = Command("login", "auto_login", self._new_id(), {"clerk": clerk}, auto=True)
        return self.in_flight

    # -- answers -------------------------------------------------------------------------
    def finished(self, command: Command, reply: dict | None, failure: str | None = None) -> Decision:
        """The controller's reply (its window state already applied), or why there was none."""
        if self.in_flight is command:
            self.in_flight = None
        if reply is None:
            self.error = failure or screen.NO_REPLY
            return Decision(beep="error")
        if reply.get("ok"):
            self.error = None
            self.last_ticket = reply.get("ticket") or self.last_ticket
            return Decision(beep="ok")
        code = str((reply.get("error") or {}).get("code", "internal"))
        self.error = screen.ERROR_TEXT.get(code, code)
        return Decision(beep="error")

    # -- output --------------------------------------------------------------------------
    def view(self, now: datetime) -> PadView:
        state = self.state or {}
        known = [self.waiting[d] for d in self.depts if d in self.waiting]
        lines = screen.lcd_lines(
            self.window_id, self.state, now, form=self.form, digits=self.digits, error=self.error,
            offline=self.offline, waiting=sum(known) if known else None, clerk=state.get("clerk"),
        )
        return PadView(green=bool(state.get("serving")), amber=state.get("status") == "paused",
                       red_blink=bool(self.offline or self.error), lines=lines)
