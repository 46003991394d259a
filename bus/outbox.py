"""QoS 1 messages on their way to the broker: numbered, windowed, resent after a reconnect.

A message stays here from ``publish()`` until the broker's PUBACK, so a
connection lost in between costs nothing: the message goes out again on the
next connection, in its original order (as paho's queue did).
"""

from __future__ import annotations

import logging
from collections import deque

from bus import wire

log = logging.getLogger(__name__)


class Outgoing:
    """One QoS 1 message; ``done`` once the broker has acknowledged it."""

    __slots__ = ("topic", "payload", "retain", "response_topic", "correlation_data", "packet", "done")

    def __init__(self, topic: bytes, payload: bytes, retain: bool, response_topic: bytes | None,
                 correlation_data: bytes | None) -> None:
        self.topic, self.payload, self.retain = topic, payload, retain
        self.response_topic, self.correlation_data = response_topic, correlation_data
        self.packet: bytearray | None = None
        self.done = False


class Outbox:
    """At most ``window`` messages in flight (the broker's Receive Maximum); the rest wait in order."""

    def __init__(self, window: int, limit: int) -> None:
        self.window = window
        self.limit = limit
        self._in_flight: dict[int, Outgoing] = {}  # packet id -> message, in send order
        self._waiting: deque[Outgoing] = deque()
        self._last_mid = 0

    def __len__(self) -> int:
        return len(self._in_flight) + len(self._waiting)

    def add(self, message: Outgoing) -> bool:
        """Queue a message; False (and dropped) when ``limit`` messages already wait."""
        if len(self) >= self.limit:
            return False
        self._waiting.append(message)
        return True

    def sendable(self) -> list[bytearray]:
        """Packets to write now: waiting messages, numbered, as far as the window allows."""
        packets = []
        while self._waiting and len(self._in_flight) < self.window:
            message = self._waiting.popleft()
            mid = self._next_mid()
            message.packet = wire.publish(message.topic, message.payload, qos=1, retain=message.retain, mid=mid,
                                          response_topic=message.response_topic,
                                          correlation_data=message.correlation_data)
            self._in_flight[mid] = message
            packets.append(message.packet)
        return packets

    def acknowledged(self, mid: int, reason: int) -> None:
        message = self._in_flight.pop(mid, None)
        if message is None:
            log.warning("PUBACK for packet %d, which is not in flight", mid)
            return
        message.done = True
        if reason >= 0x80:
            # The broker refused it (e.g. not authorised): resending would not help.
            log.warning("the broker refused a message on %s (reason 0x%02x)", message.topic.decode(), reason)

    def reconnected(self, window: int) -> list[bytearray]:
        """After a new CONNACK: everything unacknowledged again, flagged DUP, then what waits."""
        self.window = window
        packets = []
        for message in self._in_flight.values():
            assert message.packet is not None
            message.packet[0] |= 0x08
            packets.append(message.packet)
        # More in flight than the new window allows: send the surplus again later, renumbered.
        while len(self._in_flight) > window:
            mid = next(reversed(self._in_flight))
            self._waiting.appendleft(self._in_flight.pop(mid))
            packets.pop()
        return packets + self.sendable()

    def _next_mid(self) -> int:
        while True:
            self._last_mid = self._last_mid % 0xFFFF + 1
            if self._last_mid not in self._in_flight:
                return self._last_mid
