"""The display's line to the hall: it only listens (protocol v1's retained topics
and events), and publishes its own status and heartbeat.

Subscriptions are renewed on every reconnect by the bus client, and the broker
then sends every retained topic again: that is how a display that starts, or
comes back after the broker went away, learns the whole hall with no request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from bus.client import BusClient, Message
from bus.topics import Topics
from display.hallstate import HallState
from paihao.accounts import account_name
from paihao.config import HallConfig
from paihao.credentials import connection

log = logging.getLogger(__name__)

OFFLINE = {"online": False}


class DisplayLink:
    def __init__(self, config: HallConfig, display_id: str, state: HallState,
                 status: Callable[[], dict] = lambda: {"online": True}) -> None:
        self.topics = Topics(config.site.id)
        self.state = state
        self._status = status
        self.status_topic = self.topics.device_status("displays", display_id)
        name = account_name("display", display_id)
        self.bus = BusClient(
            f"paihao-{name}", will=(self.status_topic, json.dumps(OFFLINE)), on_connected=self.publish_status,
            **connection(config, name),  # its own account, which may only read and say it is alive
        )
        t = self.topics
        for pattern in (t.hall_status, t.queue("+"), t.window("+"), t.recent_calls, t.active_cards, t.cards_today,
                        t.event("+")):
            self.bus.subscribe(pattern, self._message)

    def start(self) -> DisplayLink:
        self.bus.start(wait=None)  # the screen comes up at once, under its "reconnecting" strip
        return self

    def stop(self) -> None:
        if self.connected:
            self.bus.wait_published(self.status_topic, OFFLINE, retain=True, timeout=2)
        self.bus.stop()

    @property
    def connected(self) -> bool:
        return self.bus.connected.is_set()

    def _message(self, message: Message) -> None:
        self.state.apply(self.topics.parse(message.topic), message.payload)

    def publish_status(self) -> None:
        """The heartbeat, retained on the display's status topic."""
        if self.connected:
            self.bus.publish(self.status_topic, self._status(), retain=True)
