"""A BusClient without a network thread, for a process whose own loop does everything.

The hall controller uses it: its loop then is the only thread. With paho's
thread beside it, every SQLite call (which releases the GIL) had to wait to
get the GIL back, which made the controller several times slower; and
requests that arrive together are read together and committed together.
"""

from __future__ import annotations

import logging
import select
import time

import paho.mqtt.client as mqtt

from bus.client import BusClient
from paihao.errors import BrokerError

log = logging.getLogger(__name__)

MAX_RETRY_S = 10.0


class PolledBusClient(BusClient):
    """Call ``poll()`` regularly from one thread; callbacks run inside it."""

    _retry_at = 0.0
    _retry_delay = 1.0

    def start(self, wait: float | None = 10.0) -> PolledBusClient:
        self._client.connect_async(self.host, self.port, self.keepalive, clean_start=True)
        if wait is not None:
            deadline = time.monotonic() + wait
            while not self.connected.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.stop()
                    raise BrokerError(f"no MQTT broker answered at {self.host}:{self.port} within {wait:g} s")
                self.poll(min(remaining, 0.1))
        return self

    def poll(self, timeout: float, max_packets: int = 64) -> None:
        """Wait up to ``timeout`` for traffic and handle it; reconnect with backoff when lost."""
        client = self._client
        if client.socket() is None:
            self._reconnect(timeout)
            return
        if client.loop(timeout) != mqtt.MQTT_ERR_SUCCESS:
            return  # paho closed the connection; the next poll reconnects
        for _ in range(max_packets):  # whatever else is waiting already: one batch
            sock = client.socket()
            if sock is None or not select.select([sock], [], [], 0)[0]:
                break
            if client.loop_read() != mqtt.MQTT_ERR_SUCCESS:
                break

    def _reconnect(self, timeout: float) -> None:
        now = time.monotonic()
        if now < self._retry_at:
            time.sleep(min(timeout, self._retry_at - now))
            return
        try:
            self._client.reconnect()
            self._retry_delay = 1.0
        except OSError as exc:
            log.warning("MQTT broker %s:%s unreachable (%s); retrying in %.0f s",
                        self.host, self.port, exc, self._retry_delay)
            self._retry_at = now + self._retry_delay
            self._retry_delay = min(self._retry_delay * 2, MAX_RETRY_S)

    def socket(self) -> object | None:
        """The connection's socket, to wait on several clients at once with select()."""
        return self._client.socket()

    def wake(self) -> None:
        """From another thread: end the current ``poll()`` wait now."""
        pipe = getattr(self._client, "_sockpairW", None)  # paho's own wake-up pipe
        if pipe is not None:
            try:
                pipe.send(b"\0")
            except OSError:
                pass

    def wait_published(self, topic: str, payload: dict | str | bytes, *, retain: bool = False,
                       timeout: float = 5) -> None:
        from bus.client import encode

        info = self._client.publish(topic, encode(payload), qos=1, retain=retain)
        deadline = time.monotonic() + timeout
        while not info.is_published() and time.monotonic() < deadline and self._client.socket() is not None:
            self.poll(0.05)

    def stop(self) -> None:
        self.connected.clear()
        sock = self._client.socket()
        self._client.disconnect()  # with no network thread, sent at once
        if sock is not None:
            sock.close()
        self._client._reset_sockets(sockpair_only=True)  # see BusClient.stop
