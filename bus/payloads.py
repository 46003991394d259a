"""Request payloads of protocol v1, validated the same way by every party.

Unknown fields are refused: a misspelt ``tikcet`` must fail loudly rather
than be treated as absent.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_PAYLOAD_BYTES = 16 * 1024

RequestId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=40)]

WINDOW_ACTIONS = (
    "login",
    "logout",
    "next",
    "recall",
    "skip",
    "requeue",
    "complete",
    "accept",
    "case_done",
    "transfer",
    "pause",
    "resume",
)

WindowAction = Literal[
    "login", "logout", "next", "recall", "skip", "requeue",
    "complete", "accept", "case_done", "transfer", "pause", "resume",
]

# Which optional fields each window action needs.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "login": ("clerk",),
    "requeue": ("ticket",),
    "case_done": ("case",),
    "transfer": ("dept",),
}


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    request_id: RequestId


class KioskRequest(Request):
    """``{root}/kiosks/{kiosk}/request``: take a ticket."""

    action: Literal["ticket"]
    dept: ShortText
    item: ShortText
    phone: ShortText


class WindowCommand(Request):
    """``{root}/windows/{window}/command``: a clerk's action at a window."""

    action: WindowAction
    clerk: ShortText | None = None
    ticket: ShortText | None = None
    dept: ShortText | None = None
    item: ShortText | None = None
    case: ShortText | None = Field(None, description="case id, YYYYMMDD-number")

    def missing_fields(self) -> list[str]:
        return [name for name in REQUIRED_FIELDS.get(self.action, ()) if getattr(self, name) is None]


# --- the SMS path (issue 6) ---------------------------------------------------------------------

SmsId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
SmsText = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class SmsOutbox(BaseModel):
    """``{root}/sms/outbox``, hall -> bridge: send this text once, whatever number of times it arrives."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: SmsId
    phone: ShortText
    text: SmsText


class SmsError(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    code: ShortText
    message: Annotated[str, StringConstraints(max_length=500)] = ""


# The sms/sent error code of a text the bridge dropped on an sms/cancel before any of it went out.
CANCELLED = "cancelled"
# Ids per sms/cancel message: 100 ids of 64 characters stay far below MAX_PAYLOAD_BYTES.
MAX_CANCEL_IDS = 100


class SmsSent(BaseModel):
    """``{root}/sms/sent``, bridge -> hall: the outcome of one outbox id (ok, failed for good, or
    cancelled: error code ``cancelled``)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: SmsId
    ok: bool
    error: SmsError | None = None


class SmsCancel(BaseModel):
    """``{root}/sms/cancel``, hall -> bridge: drop these texts unless they have begun to go out.

    Offered again until ``sms/sent`` names each id (cancelled, or what really happened).
    No phone number: only the ids the hall gave on ``sms/outbox``.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    ids: Annotated[list[SmsId], Field(min_length=1, max_length=MAX_CANCEL_IDS)]


class SmsInbox(Request):
    """``{root}/sms/inbox``, bridge -> hall, a v5 request: a text a citizen sent to the hall's number.

    ``request_id`` is the bridge's own id for the message, so a message the bridge sends
    again (it does until the hall answers) is recorded once.
    """

    phone: ShortText
    text: Annotated[str, StringConstraints(max_length=2000)]
    received_at: ShortText = Field(description="ISO 8601 with offset, as the network stamped it")
