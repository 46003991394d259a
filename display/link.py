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
from paihao.config import HallConfig

log = logging.getLogger(__name__)

OFFLINE = {"online": False}


class DisplayLink:
    def __init__(self, config: HallConfig, display_id: str, state: HallState,
                 status: Callable[[], dict] = lambda: {"online": True}) -> None:
        self.topics = Topics(config.site.id)
        self.state = state
        self._status = status
        self.status_topic = self.topics.device_status("displays", display_id)
        self.bus = BusClient(
            f"paihao-display-{display_id}", config.mqtt.host, config.mqtt.port,
            will=(self.status_topic, json.dumps(OFFLINE)),
            username=config.mqtt.username, password=config.mqtt.password,
            keepalive=config.mqtt.keepalive_s, tcp_nodelay=config.mqtt.tcp_nodelay,
            on_connected=self.publish_status,
        )
        t = self.topics
        for pattern in (t.hall_status, t.queue("+"), t.window("+"), t.recent_calls, t.active_cards, t.event("+")):
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
