"""What an engine call returns, and how it refuses."""

from __future__ import annotations

from dataclasses import dataclass, field

from bus.codes import ErrorCode, error_reply
from paihao.errors import PaihaoError


class Refused(PaihaoError, ValueError):
    """A request that cannot be applied; raised inside the transaction, so nothing changes."""

    def __init__(self, code: ErrorCode, message: str, message_zh: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.message_zh = code, message, message_zh

    def reply(self) -> dict:
        return error_reply(self.code, self.message, self.message_zh)


@dataclass
class Outcome:
    """What a request did: the reply, and what must be published because of it."""

    reply: dict
    events: list[dict] = field(default_factory=list)
    depts: set[str] = field(default_factory=set)
    windows: set[str] = field(default_factory=set)
    calls: bool = False
    cards: bool = False
    # Texts queued in the outbox ({id, phone, text}): offered on sms/outbox after the commit.
    # Full phone numbers: they go nowhere else, not into a reply, an event or a log.
    sms: list[dict] = field(default_factory=list)
    # Outbox ids withdrawn (a TD): offered on sms/cancel after the commit.
    sms_cancel: list[str] = field(default_factory=list)
    reply_json: str | None = None  # the reply as remembered, sent as is (not encoded twice)

    def merge(self, other: Outcome) -> None:
        self.events += other.events
        if other.sms_cancel:
            # Queued earlier in this batch and withdrawn before its commit: never offered at all.
            withdrawn = set(other.sms_cancel)
            self.sms = [payload for payload in self.sms if payload["id"] not in withdrawn]
        self.sms += other.sms
        self.sms_cancel += other.sms_cancel
        self.depts |= other.depts
        self.windows |= other.windows
        self.calls |= other.calls
        self.cards |= other.cards
