"""What the pad's 16x2 character LCD says, as two plain strings.

An HD44780 has no Chinese glyphs (its ROM holds ASCII and katakana), so the
pad speaks in short ASCII: the number being served, its time against its
limit and a card mark on the first line; on the second the entry being
typed, that the hall cannot be reached, the last error, or how many wait for
this window and who is logged in.

    02001 Y12:05/20m      <- number, card mark (Y yellow, R red), elapsed/limit
    Wait 3       c01      <- waiting for this window, clerk
"""

from __future__ import annotations

from datetime import datetime

COLS = 16

# Short texts of refusals, by the controller's error code (docs/protocol.md).
ERROR_TEXT = {
    "not_logged_in": "Log in: *1 id",
    "no_waiting": "Nobody waiting",
    "wrong_state": "Not possible now",
    "unknown_clerk": "Unknown clerk",
    "unknown_dept": "Unknown dept",
    "unknown_item": "Unknown item",
    "unknown_ticket": "Unknown ticket",
    "unknown_case": "Unknown case",
    "unknown_window": "Unknown window",
    "bad_request": "Bad request",
    "internal": "Hall fault",
}
NO_REPLY = "No reply"
NOT_SENT = "Not sent"  # pressed while the hall could not be reached
OFFLINE = "OFFLINE"
HALL_OFFLINE = "HALL OFFLINE"
BUSY = "Busy, wait"
PRESS_STAR = "* first: *1..*4"
PICK_DEPT = "Dept? *2 code"
BAD_MENU = "Menu: 1-4 or 0"
TYPE_NUMBER = "Type a number"
TOO_LONG = "Too many digits"
ENTER_OR_STAR = "Enter, or * back"

MENU_HINT = "1in2xf3rq4ac0out"
PROMPTS = {"login": "Clerk>", "transfer": "To dept>", "requeue": "Ticket>",
           "accept": "Accept? Enter", "logout": "Logout? Enter"}
CARD_MARKS = {"yellow": "Y", "red": "R"}


def fit(text: str) -> str:
    """Exactly 16 printable ASCII characters: anything else would show as ROM garbage."""
    clean = "".join(c if " " <= c <= "}" else "?" for c in text)
    return clean[:COLS].ljust(COLS)


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds >= 100 * 60:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}"
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def limit_text(limit_s: int) -> str:
    if limit_s < 100:
        return f"{limit_s}s"
    minutes = round(limit_s / 60)
    return f"{minutes}m" if minutes < 100 else f"{minutes // 60}h"


def serving_line(serving: dict, now: datetime) -> str:
    """``02001 Y12:05/20m``: the number is never cut, nor the card mark, nor the time;
    the limit gives way first (a number of seven or more characters)."""
    called = datetime.fromisoformat(serving["called_at"])
    elapsed = (now - called).total_seconds()
    left = serving["ticket"].ljust(6) + CARD_MARKS.get(serving.get("card", "none"), " ")
    right = f"{clock(elapsed)}/{limit_text(int(serving['limit_s']))}"
    if len(left) + len(right) > COLS:
        right = clock(elapsed)
    return left + right.rjust(COLS - len(left))


def first_line(window_id: str, state: dict | None, now: datetime) -> str:
    if state is None:
        return f"Win {window_id} ..."
    if state.get("serving"):
        return serving_line(state["serving"], now)
    status = state.get("status")
    if status == "paused":
        return f"Win {window_id} PAUSED"
    if status == "closed":
        return "Log in: id Enter"
    return f"Win {window_id} ready"


def second_line(*, form: str | None, digits: str, error: str | None, offline: str | None,
                waiting: int | None, clerk: str | None) -> str:
    if form == "menu":
        return MENU_HINT
    if form:
        prompt = PROMPTS[form]
        return prompt if form in ("accept", "logout") else f"{prompt}{digits}_"
    if offline:  # first: while it lasts, nothing else the pad says can be acted on
        return offline
    if error:
        return error
    count = "?" if waiting is None else str(waiting)
    left = f"Wait {count}"
    return left + (clerk or "").rjust(COLS - len(left))


def lcd_lines(window_id: str, state: dict | None, now: datetime, **second: object) -> tuple[str, str]:
    return fit(first_line(window_id, state, now)), fit(second_line(**second))  # type: ignore[arg-type]
