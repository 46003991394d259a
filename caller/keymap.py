"""The call-pad's key names, and how a USB keypad and a terminal produce them.

Two kinds of input reach a window's pad (docs/config.md, "The keypad", is the
clerk's reference):

- buttons, one per action: ``next``, ``recall``, ``skip``, ``complete``,
  ``accept``, ``pause`` and ``hold_next`` (next held for ``hold_s``);
- keypad keys: ``0``–``9``, ``enter``, ``plus``, ``minus``, ``star``,
  ``slash``, ``dot``, ``backspace``, ``hold_plus`` (``+`` held for ``hold_s``).

The codes below are Linux input event codes (``linux/input-event-codes.h``, a
stable kernel ABI), written out so that the key map needs no python-evdev:
the tests and the terminal pad run without it.
"""

from __future__ import annotations

BUTTONS = ("next", "recall", "skip", "complete", "accept", "pause")
HOLD_KEYS = ("hold_next", "hold_plus")  # held for hold_s: transfer to the department typed
DIGITS = tuple("0123456789")
KEYPAD_KEYS = (*DIGITS, "enter", "plus", "minus", "star", "slash", "dot", "backspace")

EV_KEY = 1
KEY_DOWN, KEY_UP, KEY_REPEAT = 1, 0, 2  # an EV_KEY event's value

# Keypad keys first; the number row of a full keyboard too, for a laptop's keyboard
# plugged into a Pi; the navigation codes of the few keypads that keep their own
# NumLock and send "End" for 1 when it is off. NumLock itself is ignored.
EVDEV_KEYS: dict[int, str] = {
    82: "0", 79: "1", 80: "2", 81: "3", 75: "4", 76: "5", 77: "6", 71: "7", 72: "8", 73: "9",
    96: "enter", 78: "plus", 74: "minus", 55: "star", 98: "slash", 83: "dot", 121: "dot",
    11: "0", 2: "1", 3: "2", 4: "3", 5: "4", 6: "5", 7: "6", 8: "7", 9: "8", 10: "9",
    28: "enter", 13: "plus", 12: "minus", 53: "slash", 52: "dot", 14: "backspace",
    110: "0", 107: "1", 108: "2", 109: "3", 105: "4", 106: "6", 102: "7", 103: "8", 104: "9", 111: "dot",
}
KEY_CODES: dict[str, int] = {  # the keypad's own code of each key, for the fake keypad
    "0": 82, "1": 79, "2": 80, "3": 81, "4": 75, "5": 76, "6": 77, "7": 71, "8": 72, "9": 73,
    "enter": 96, "plus": 78, "minus": 74, "star": 55, "slash": 98, "dot": 83, "backspace": 14,
}

# A terminal delivers characters, not key codes: the same keys by their characters.
TTY_KEYS: dict[str, str] = {
    **{d: d for d in DIGITS},
    "\r": "enter", "\n": "enter", "+": "plus", "-": "minus", "*": "star", "/": "slash", ".": "dot",
    "\x7f": "backspace", "\b": "backspace",
}

# The keys that do something by themselves when no entry form is open.
SINGLE_KEYS: dict[str, str] = {
    "plus": "next", "dot": "recall", "minus": "skip", "enter": "complete", "slash": "pause",
}
# "*" opens a menu; the digit after it chooses an entry form.
MENU: dict[str, str] = {"1": "login", "2": "transfer", "3": "requeue", "4": "accept", "0": "logout"}
# How many digits each form takes; a form with 0 is a confirmation ("Enter to accept").
FORM_DIGITS: dict[str, int] = {"login": 12, "transfer": 2, "requeue": 8, "accept": 0, "logout": 0}

# The clerk's reference, printed by ``paihao caller --tty`` and kept in docs/config.md.
# Lines of at most 80 characters: a terminal of 80 columns must not wrap them.
HELP = (
    "+ next  . recall  - no-show  Enter done  / pause|resume\n"
    "*1 id Enter login  *2 dept Enter transfer  *3 number Enter requeue\n"
    "*4 Enter accept  *0 Enter logout  (on a keypad, + held: transfer)\n"
    "Backspace deletes a digit; * or Backspace on an empty entry leaves it"
)
HELP_WINDOWS = "Tab: the keys go to the next window (marked >)"
