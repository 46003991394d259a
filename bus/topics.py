"""Topic names of protocol v1, in one place (docs/protocol.md describes each)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bus import PROTOCOL_VERSION

ID_RE = re.compile(r"^[a-z0-9_-]{1,32}$")

EVENT_TYPES = (
    "ticket_issued",
    "called",
    "recalled",
    "skipped",
    "requeued",
    "completed",
    "accepted",
    "case_done",
    "transferred",
    "card",
    "window_login",
    "window_logout",
    "window_paused",
    "window_resumed",
    "evaluated",  # a citizen's SMS rating was stored (issue 6)
    "complaint",  # ... and it was "unsatisfied": for the supervisor, at once
    "sms_opted_out",  # a number answered TD
    "tickets_expired",  # a new day: past days' waiting and skipped tickets expired
    "phones_erased",  # phone numbers past their retention were erased
)


@dataclass(frozen=True)
class Topics:
    """Builds every topic of one site: ``paihao/v1/{site}/...``."""

    site: str

    @property
    def root(self) -> str:
        return f"paihao/{PROTOCOL_VERSION}/{self.site}"

    # Retained state, published by the hall controller only.
    @property
    def hall_status(self) -> str:
        return f"{self.root}/hall/status"

    def queue(self, dept: str) -> str:
        return f"{self.root}/queues/{dept}"

    def window(self, window: str) -> str:
        return f"{self.root}/windows/{window}"

    @property
    def recent_calls(self) -> str:
        return f"{self.root}/calls/recent"

    @property
    def active_cards(self) -> str:
        return f"{self.root}/cards/active"

    @property
    def cards_today(self) -> str:
        return f"{self.root}/cards/today"

    # Stream of events, not retained.
    def event(self, event_type: str) -> str:
        return f"{self.root}/events/{event_type}"

    # Requests to the controller.
    def kiosk_request(self, kiosk: str) -> str:
        return f"{self.root}/kiosks/{kiosk}/request"

    def window_command(self, window: str) -> str:
        return f"{self.root}/windows/{window}/command"

    def device_status(self, kind: str, device: str) -> str:
        """A device's own retained availability: ``{root}/kiosks/k1/status``."""
        return f"{self.root}/{kind}/{device}/status"

    def replies(self, client: str) -> str:
        """Where a device asks its replies to go (one per device, see protocol.md)."""
        return f"{self.root}/replies/{client}"

    # The SMS path (issue 6): the only topics besides requests that carry a full phone number,
    # so the broker's ACL lets only the controller and the SMS bridge near them.
    @property
    def sms_outbox(self) -> str:
        """hall -> bridge: {id, phone, text}; resent by the hall until ``sms/sent`` names the id."""
        return f"{self.root}/sms/outbox"

    @property
    def sms_sent(self) -> str:
        """bridge -> hall: {id, ok, error}: the modem sent it (or gave up for good, or it was cancelled)."""
        return f"{self.root}/sms/sent"

    @property
    def sms_cancel(self) -> str:
        """hall -> bridge: {ids}: texts withdrawn (TD); resent by the hall until ``sms/sent`` names each id."""
        return f"{self.root}/sms/cancel"

    @property
    def sms_inbox(self) -> str:
        """bridge -> hall, a v5 request: {request_id, phone, text, received_at}."""
        return f"{self.root}/sms/inbox"

    def report(self, month: str) -> str:
        """Retained summary of a month's scores: ``{root}/reports/2026-11``."""
        return f"{self.root}/reports/{month}"

    def parse(self, topic: str) -> tuple[str, ...]:
        """The levels after the root, or () for a topic of another site or version."""
        prefix = self.root + "/"
        return tuple(topic[len(prefix):].split("/")) if topic.startswith(prefix) else ()
