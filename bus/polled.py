"""A bus client without a network thread, for a process whose own loop does everything.

The hall controller uses it: its loop is the only thread. With paho's
thread beside it, every SQLite call (which releases the GIL) had to wait to
get the GIL back; and requests that arrive together are read together and
committed together.

It speaks MQTT 5 itself (bus/wire.py) rather than through paho: paho's
packet handling (a ``Properties`` object built for every packet, each
packet queued and sent on its own) was over half of the controller's CPU
per request and capped it near 1,000 requests a second on one core. Here one ``poll()`` reads everything that
arrived with one recv, and everything the loop published goes out with one
send. Its interface and behaviour are BusClient's (connect, Last Will,
subscriptions renewed on every connect, v5 request/response, QoS 1 messages
kept until acknowledged and resent after a reconnect, TCP_NODELAY, every
handler guarded), except that everything happens inside ``poll()``: call
it from one thread at a time. What is published goes out at the next
``poll()`` (or ``flush()``), so that a batch of replies costs one send.
"""

from __future__ import annotations

import logging
import select
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future

from paho.mqtt.client import topic_matches_sub

from bus import wire
from bus.client import Handler, Message, encode, resolve_reply
from bus.outbox import Outbox, Outgoing
from paihao.errors import BrokerError, BusTimeout

log = logging.getLogger(__name__)

MAX_RETRY_S = 10.0
CONNECT_TIMEOUT_S = 5.0
# Our own limit on unacknowledged messages (the broker's Receive Maximum, if lower, wins):
# a batch of 100 requests makes 200 messages, and a window smaller than that
# holds replies back by a round trip to the broker.
IN_FLIGHT = 1000
MAX_QUEUED = 10_000
ROUTE_CACHE = 4096
RECV_BYTES = 256 * 1024
# The broker drops larger messages for us (a request is refused above 16 KiB anyway):
# one publish of hundreds of megabytes must not take the controller's memory with it.
MAX_PACKET = 4 * 2**20


class PolledBusClient:
    """Call ``poll()`` regularly from one thread; callbacks run inside it."""

    def __init__(self, client_id: str, host: str = "localhost", port: int = 1883, *,
                 will: tuple[str, str] | None = None, username: str | None = None, password: str | None = None,
                 keepalive: int = 30, tcp_nodelay: bool = True, reply_topic: str | None = None,
                 on_connected: Callable[[], None] | None = None, tls: bool = False,
                 ca_file: str | None = None) -> None:
        self.client_id = client_id
        # TLS as BusClient does it: the broker's certificate checked against ca_file (or the system's CAs).
        self._tls = ssl.create_default_context(cafile=ca_file) if tls else None
        self.host, self.port, self.keepalive = host, port, keepalive
        self.reply_topic = reply_topic
        self.connected = threading.Event()
        self._will = (will[0], encode(will[1])) if will else None
        self._username, self._password = username, password
        self._tcp_nodelay = tcp_nodelay
        self._on_connected = on_connected
        self._subscriptions: list[tuple[str, Handler, bool]] = []
        self._routes: dict[str, list[Handler]] = {}
        self._pending: dict[bytes, Future] = {}
        self._outbox = Outbox(IN_FLIGHT, MAX_QUEUED)
        self._reader = wire.FrameReader(MAX_PACKET)
        self._out = bytearray()
        self._sock: socket.socket | None = None
        self._connecting_until: float | None = None  # CONNECT sent, CONNACK awaited until then
        self._keepalive_s = float(keepalive)
        self._last_out = self._last_in = 0.0
        self._ping_sent: float | None = None
        self._retry_at, self._retry_delay = 0.0, 1.0
        self._sub_mid = 0
        self._stopped = False
        self._wake_r, self._wake_w = _wake_pair()
        if reply_topic:
            self._subscriptions.append((reply_topic, self._handle_reply, False))

    # -- lifecycle -----------------------------------------------------------
    def start(self, wait: float | None = 10.0) -> PolledBusClient:
        """Connect (at the next ``poll()``); with ``wait``, poll until connected or raise BrokerError."""
        self._stopped = False
        self._retry_at = 0.0
        if self._wake_r.fileno() == -1:  # started again after stop()
            self._wake_r, self._wake_w = _wake_pair()
        if wait is not None:
            deadline = time.monotonic() + wait
            while not self.connected.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.stop()
                    raise BrokerError(f"no MQTT broker answered at {self.host}:{self.port} within {wait:g} s")
                self.poll(min(remaining, 0.1))
        return self

    def stop(self) -> None:
        """Disconnect cleanly (no Last Will); pending requests are cancelled."""
        self._stopped = True
        self.connected.clear()
        if self._sock is not None:
            # Blocking for this last write: a DISCONNECT cut short would make
            # the broker publish the Last Will of a client that left cleanly.
            self._out += wire.DISCONNECT_NORMAL
            try:
                self._sock.settimeout(CONNECT_TIMEOUT_S)
                self._sock.sendall(self._out)
            except OSError:
                pass  # the connection was gone already
            self._close()
        for sock in (self._wake_r, self._wake_w):
            sock.close()
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()

    def __enter__(self) -> PolledBusClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def socket(self) -> socket.socket | None:
        """The connection's socket, to wait on several clients at once with select()."""
        return self._sock

    def wake(self) -> None:
        """From another thread: end the current ``poll()`` wait now."""
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass  # already stopped, or a wake-up is pending anyway

    # -- the loop --------------------------------------------------------------
    def poll(self, timeout: float) -> None:
        """Send what is queued, wait up to ``timeout`` for traffic, handle all that came.

        Reconnects with backoff when the connection is lost.
        """
        if self._stopped:
            return
        if self._sock is None:
            self._open(timeout)
            return
        self._flush()
        due = self._keep_alive()
        sock = self._sock
        if sock is None:
            return
        timeout = max(0.0, min(timeout, due - time.monotonic()))
        readable, writable, _ = select.select([sock, self._wake_r], [sock] if self._out else [], [], timeout)
        if self._wake_r in readable:
            self._drain_wake()
        if sock in writable:
            self._flush()
        if sock in readable:
            self._read()
        self._flush()  # PUBACKs, and whatever the handlers published

    def _read(self) -> None:
        self._read_once()
        # TLS: what was decrypted beyond one recv is in the SSL object, not the socket, so
        # select() would not say readable again for it.
        while isinstance(self._sock, ssl.SSLSocket) and self._sock.pending():
            self._read_once()

    def _read_once(self) -> None:
        try:
            data = self._sock.recv(RECV_BYTES)  # type: ignore[union-attr]
        except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return
        except OSError as exc:
            self._lost(str(exc))
            return
        if not data:
            self._lost("connection closed by the broker")
            return
        self._last_in = time.monotonic()
        try:
            for first, body in self._reader.feed(data):
                self._dispatch(first, body)
                if self._sock is None:
                    return  # the broker said DISCONNECT
        except wire.MalformedPacket as exc:
            self._lost(f"malformed packet from the broker: {exc}")

    def _dispatch(self, first: int, body: bytes) -> None:
        kind = first >> 4
        if kind == wire.PUBLISH:
            self._on_publish(first, body)
        elif kind == wire.PUBACK:
            mid, reason = wire.parse_ack(body)
            self._outbox.acknowledged(mid, reason)
            self._send_packets(self._outbox.sendable())
        elif kind == wire.PINGRESP:
            self._ping_sent = None
        elif kind == wire.CONNACK:
            self._on_connack(body)
        elif kind == wire.SUBACK:
            _mid, reasons = wire.parse_suback(body)
            for pattern, reason in zip((s[0] for s in self._subscriptions), reasons):
                if reason >= 0x80:
                    log.error("the MQTT broker refused the subscription to %s (reason 0x%02x)", pattern, reason)
        elif kind == wire.DISCONNECT:
            reason, text = wire.parse_disconnect(body)
            self._lost(f"the broker disconnected us: reason 0x{reason:02x} {text or ''}".strip())
        else:
            raise wire.MalformedPacket(f"unexpected packet type {kind}")

    def _on_publish(self, first: int, body: bytes) -> None:
        packet = wire.parse_publish(first, body)
        if packet.qos == 2:
            raise wire.MalformedPacket("QoS 2 on a subscription made at QoS 1")
        message = Message(packet.topic, packet.payload, packet.retain, packet.response_topic, packet.correlation_data)
        for handler in self._handlers(message.topic):
            try:
                handler(message)
            except Exception:
                # One handler's bug must not starve the others, nor stop the loop.
                log.exception("error while handling a message on %s", message.topic)
        if packet.qos == 1:
            self._out += wire.puback(packet.mid)

    def _handlers(self, topic: str) -> list[Handler]:
        handlers = self._routes.get(topic)
        if handlers is None:
            if len(self._routes) >= ROUTE_CACHE:
                self._routes.clear()  # topics are unbounded (anyone may publish anywhere)
            handlers = [h for pattern, h, _ in self._subscriptions if topic_matches_sub(pattern, topic)]
            self._routes[topic] = handlers
        return handlers

    # -- connecting ----------------------------------------------------------------
    def _open(self, timeout: float) -> None:
        now = time.monotonic()
        if now < self._retry_at:
            readable, _, _ = select.select([self._wake_r], [], [], min(timeout, self._retry_at - now))
            if readable:
                self._drain_wake()
            return
        try:
            sock = socket.create_connection((self.host, self.port), timeout=CONNECT_TIMEOUT_S)
        except OSError as exc:
            log.warning("MQTT broker %s:%s unreachable (%s); retrying in %.0f s",
                        self.host, self.port, exc, self._retry_delay)
            self._retry_at = now + self._retry_delay
            self._retry_delay = min(self._retry_delay * 2, MAX_RETRY_S)
            return
        if self._tcp_nodelay and sock.family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls is not None:
            try:  # the handshake while the socket still blocks (with the connect timeout)
                sock = self._tls.wrap_socket(sock, server_hostname=self.host)
            except (OSError, ssl.SSLError) as exc:
                sock.close()
                log.warning("TLS with MQTT broker %s:%s failed (%s); retrying in %.0f s",
                            self.host, self.port, exc, self._retry_delay)
                self._retry_at = now + self._retry_delay
                self._retry_delay = min(self._retry_delay * 2, MAX_RETRY_S)
                return
        sock.setblocking(False)
        self._sock = sock
        self._reader.clear()
        self._out.clear()
        self._connecting_until = now + CONNECT_TIMEOUT_S
        self._keepalive_s = float(self.keepalive)
        self._last_in = now
        self._ping_sent = None
        self._out += wire.connect(self.client_id, self.keepalive, will=self._will, username=self._username,
                                  password=self._password, max_packet=MAX_PACKET)
        self._flush()

    def _on_connack(self, body: bytes) -> None:
        reason, props = wire.parse_connack(body)
        if reason >= 0x80:
            log.error("MQTT broker %s:%s refused %s: %s (reason 0x%02x)", self.host, self.port, self.client_id,
                      wire.CONNACK_REASONS.get(reason, "refused"), reason)
            self._close()
            self._schedule_retry()
            return
        self._connecting_until = None
        self._retry_delay = 1.0
        if wire.SERVER_KEEP_ALIVE in props:
            self._keepalive_s = float(props[wire.SERVER_KEEP_ALIVE])  # type: ignore[arg-type]
        window = min(IN_FLIGHT, props.get(wire.RECEIVE_MAXIMUM, 65535))  # type: ignore[type-var]
        self._send_subscriptions()
        self._send_packets(self._outbox.reconnected(window))
        log.info("connected to MQTT broker %s:%s as %s", self.host, self.port, self.client_id)
        self.connected.set()
        if self._on_connected:
            try:
                self._on_connected()
            except Exception:
                log.exception("error while handling the MQTT connection")

    def _send_subscriptions(self) -> None:
        if self._subscriptions:
            self._sub_mid = self._sub_mid % 0xFFFF + 1
            self._out += wire.subscribe(self._sub_mid, [(p, wire.options(1, no_local=n))
                                                        for p, _h, n in self._subscriptions])

    def _keep_alive(self) -> float:
        """Ping or give up as the keepalive rules say; return when to look again."""
        now = time.monotonic()
        if self._connecting_until is not None:
            if now > self._connecting_until:
                self._lost("no CONNACK from the broker")
            return self._connecting_until
        if not self._keepalive_s:
            return now + 3600
        if self._ping_sent is not None:
            if now - self._ping_sent > self._keepalive_s:
                self._lost("no PINGRESP from the broker")
            return self._ping_sent + self._keepalive_s
        if now - self._last_out >= self._keepalive_s or now - self._last_in >= self._keepalive_s:
            # We must send something within each keepalive period (the broker drops
            # a silent client), and a broker silent that long may be gone.
            self._out += wire.PINGREQ_PACKET
            self._ping_sent = now
            self._flush()
            return now + self._keepalive_s
        return min(self._last_out, self._last_in) + self._keepalive_s

    def _lost(self, why: str) -> None:
        if self.connected.is_set():
            log.warning("lost the MQTT broker %s:%s (%s); reconnecting", self.host, self.port, why)
        else:
            log.warning("MQTT connection to %s:%s failed (%s)", self.host, self.port, why)
        self._close()
        self._schedule_retry()

    def _schedule_retry(self) -> None:
        self._retry_at = time.monotonic() + self._retry_delay
        self._retry_delay = min(self._retry_delay * 2, MAX_RETRY_S)

    def _close(self) -> None:
        self.connected.clear()
        self._connecting_until = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._out.clear()

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    # -- writing ---------------------------------------------------------------------
    def flush(self) -> None:
        """Send what was published since the last ``poll()`` now, without waiting for traffic."""
        self._flush()

    def _send_packets(self, packets: list[bytearray]) -> None:
        for packet in packets:
            self._out += packet

    def _flush(self) -> None:
        if not self._out or self._sock is None:
            return
        try:
            sent = self._sock.send(self._out)
        except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return  # the kernel's buffer is full: the next poll waits until it drains
        except OSError as exc:
            self._lost(str(exc))
            return
        del self._out[:sent]
        self._last_out = time.monotonic()

    # -- publishing --------------------------------------------------------------------
    def subscribe(self, pattern: str, handler: Handler, *, no_local: bool = False) -> None:
        """Register a handler; it is (re)subscribed on every connect."""
        self._subscriptions.append((pattern, handler, no_local))
        self._routes.clear()
        if self.connected.is_set():
            self._sub_mid = self._sub_mid % 0xFFFF + 1
            self._out += wire.subscribe(self._sub_mid, [(pattern, wire.options(1, no_local=no_local))])

    def publish(self, topic: str, payload: dict | list | str | bytes, *, retain: bool = False, qos: int = 1) -> None:
        """Queue a message; QoS 1 messages are kept until the broker acknowledges them."""
        self._publish(topic.encode("utf-8"), encode(payload), retain, qos, None, None)

    def _publish(self, topic: bytes, payload: bytes, retain: bool, qos: int,
                 response_topic: bytes | None, correlation: bytes | None) -> Outgoing | None:
        if qos == 0:
            if self.connected.is_set():
                self._out += wire.publish(topic, payload, qos=0, retain=retain,
                                          response_topic=response_topic, correlation_data=correlation)
            return None
        message = Outgoing(topic, payload, retain, response_topic, correlation)
        if not self._outbox.add(message):
            log.error("%d messages wait for the MQTT broker; dropped one on %s", MAX_QUEUED, topic.decode())
            return None
        if self.connected.is_set():
            self._send_packets(self._outbox.sendable())
        return message

    def wait_published(self, topic: str, payload: dict | str | bytes, *, retain: bool = False,
                       timeout: float = 5) -> None:
        """Publish at QoS 1 and poll until the broker's PUBACK (the last word before exit)."""
        message = self._publish(topic.encode("utf-8"), encode(payload), retain, 1, None, None)
        deadline = time.monotonic() + timeout
        while message is not None and not message.done and self._sock is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.poll(min(remaining, 0.05))

    def reply(self, request: Message, payload: dict | str | bytes) -> bool:
        """Answer a v5 request on its response topic, echoing its correlation data."""
        if not request.response_topic:
            return False
        self._publish(request.response_topic.encode("utf-8"), encode(payload), False, 1, None,
                      request.correlation_data)
        return True

    # -- request/response ----------------------------------------------------------
    def request_async(self, topic: str, payload: dict | str | bytes) -> Future:
        """Send a v5 request; the future resolves (inside ``poll()``) to the decoded reply."""
        return self._request(topic, payload)[1]

    def request(self, topic: str, payload: dict | str | bytes, timeout: float = 3.0) -> dict:
        """Send a request and poll until its reply; raise BusTimeout if none comes."""
        correlation, future = self._request(topic, payload)
        deadline = time.monotonic() + timeout
        while not future.done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._pending.pop(correlation, None)
                future.cancel()
                raise BusTimeout(f"no reply on {topic} within {timeout:g} s")
            self.poll(min(remaining, 0.1))
        return future.result()

    def _request(self, topic: str, payload: dict | str | bytes) -> tuple[bytes, Future]:
        if not self.reply_topic:
            raise ValueError("this client was made without a reply_topic")
        correlation = uuid.uuid4().bytes
        future: Future = Future()
        self._pending[correlation] = future
        self._publish(topic.encode("utf-8"), encode(payload), False, 1, self.reply_topic.encode("utf-8"), correlation)
        return correlation, future

    def _handle_reply(self, message: Message) -> None:
        resolve_reply(self._pending.pop(message.correlation_data or b"", None), message)


def _wake_pair() -> tuple[socket.socket, socket.socket]:
    r, w = socket.socketpair()
    r.setblocking(False)
    w.setblocking(False)
    return r, w
