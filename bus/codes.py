"""Error codes a request can be answered with; documented in docs/protocol.md."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    BAD_JSON = "bad_json"  # payload is not a JSON object in UTF-8
    BAD_REQUEST = "bad_request"  # a field is missing, of the wrong type, or the payload too large
    UNKNOWN_TOPIC = "unknown_topic"  # a request on a topic the controller does not serve
    UNKNOWN_ACTION = "unknown_action"  # action not in the list for this topic
    UNKNOWN_WINDOW = "unknown_window"
    UNKNOWN_DEPT = "unknown_dept"
    UNKNOWN_ITEM = "unknown_item"  # also: an item of another department
    UNKNOWN_CLERK = "unknown_clerk"
    UNKNOWN_TICKET = "unknown_ticket"  # no such ticket today, or not in the state the action needs
    UNKNOWN_CASE = "unknown_case"
    BAD_PHONE = "bad_phone"  # not a mainland mobile number
    LIMIT_REACHED = "limit_reached"  # this phone already holds the maximum of waiting tickets
    NOT_LOGGED_IN = "not_logged_in"  # the window has no clerk
    NO_WAITING = "no_waiting"  # next, with nobody waiting for this window
    WRONG_STATE = "wrong_state"  # the action does not fit the window's or ticket's state
    INTERNAL = "internal"  # a fault in the controller; nothing was changed


def error_reply(code: ErrorCode, message: str, message_zh: str = "") -> dict:
    error = {"code": str(code), "message": message}
    if message_zh:
        error["message_zh"] = message_zh
    return {"ok": False, "error": error}
