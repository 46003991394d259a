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
