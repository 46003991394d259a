"""The one MQTT client wrapper every paihao process uses.

It owns what each process would otherwise get subtly wrong: reconnecting,
the Last Will, subscribing again in every on_connect, MQTT v5
request/response, TCP_NODELAY, and a try/except around every callback
(an exception escaping a paho callback silently kills its network thread).

A request is never delivered late. paho keeps every unacknowledged QoS 1
message and sends it again after a reconnect, however much later: a window's
"next" pressed while a dropped connection was not yet noticed would reach the
controller when the network came back, and call a citizen nobody is watching
for. So a request that its sender gives up on (its future cancelled, or
``request()`` timing out) is withdrawn from paho's queue. (Requests carry no
v5 Message Expiry Interval: Debian 12's mosquitto 2.0.11, once a message
expired in a subscriber's queue, stopped delivering those queued behind it.)
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from paihao.errors import BrokerError, BusTimeout

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """A received message, free of paho types."""

    topic: str
    payload: bytes
    retain: bool = False
    response_topic: str | None = None
    correlation_data: bytes | None = None


Handler = Callable[[Message], None]


class _ClosingSSLSocket(ssl.SSLSocket):
    """Closes itself when the TLS handshake fails (a certificate we do not trust): paho 2.2
    drops it unclosed, and retries every few seconds, leaking a socket each time."""

    def do_handshake(self, block: bool = False) -> None:
        try:
            super().do_handshake(block)
        except BaseException:
            self.close()
            raise


def encode(payload: dict | list | str | bytes) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8")
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def resolve_reply(future: Future | None, message: Message) -> None:
    """Hand a reply to the request waiting for it (BusClient's and PolledBusClient's alike)."""
    if future is None or future.done():
        return  # a late reply to a request already given up on
    try:
        future.set_result(json.loads(message.payload))
    except ValueError as exc:
        future.set_exception(exc)


class BusClient:
    """A paho client with reconnect, Last Will, re-subscription and request/response.

    ``on_connected`` runs in the network thread after every (re)connect, once
    the subscriptions are renewed: the place to republish retained state.
    ``on_disconnected`` runs in the network thread when an established
    connection is lost (not on ``stop()``): a device shows it is offline at once.
    """

    def __init__(
        self,
        client_id: str,
        host: str = "localhost",
        port: int = 1883,
        *,
        will: tuple[str, str] | None = None,
        username: str | None = None,
        password: str | None = None,
        keepalive: int = 30,
        tcp_nodelay: bool = True,
        reply_topic: str | None = None,
        on_connected: Callable[[], None] | None = None,
        on_disconnected: Callable[[], None] | None = None,
        tls: bool = False,
        ca_file: str | None = None,
    ) -> None:
        self.client_id = client_id
        self.host, self.port, self.keepalive = host, port, keepalive
        self.reply_topic = reply_topic
        self.connected = threading.Event()
        self.refused: str | None = None  # the broker's reason, while it refuses this client
        self._answered = threading.Event()  # a CONNACK came, welcome or not
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._tcp_nodelay = tcp_nodelay
        self._subscriptions: list[tuple[str, Handler, bool]] = []
        self._pending: dict[bytes, Future] = {}
        self._pending_lock = threading.Lock()
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        if username:
            self._client.username_pw_set(username, password)
        if tls:
            # ca_file None: the system's CAs. The broker's name is checked against its certificate.
            context = ssl.create_default_context(cafile=ca_file)
            context.sslsocket_class = _ClosingSSLSocket
            self._client.tls_set_context(context)
        if will:
            self._client.will_set(will[0], encode(will[1]), qos=1, retain=True)
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._client.max_queued_messages_set(10_000)
        # paho's default of 20 unacknowledged QoS 1 messages throttles a
        # controller answering forty devices; the broker acks within a millisecond.
        self._client.max_inflight_messages_set(100)
        self._client.on_connect = self._handle_connect
        self._client.on_disconnect = self._handle_disconnect
        self._client.on_message = self._handle_message
        self._client.on_socket_open = self._handle_socket_open
        if reply_topic:
            self._subscriptions.append((reply_topic, self._handle_reply, False))

    # -- lifecycle -------------------------------------------------------
    def start(self, wait: float | None = 10.0) -> BusClient:
        """Connect in the background; with ``wait``, block until connected or raise."""
        self._client.connect_async(self.host, self.port, self.keepalive, clean_start=True)
        self._client.loop_start()
        # connected is set before _answered, so a welcome is never mistaken for a refusal
        if wait is not None and not (self._answered.wait(wait) and self.connected.is_set()):
            self.stop()
            if self.refused:
                raise BrokerError(f"the MQTT broker at {self.host}:{self.port} refused {self.client_id}: "
                                  f"{self.refused}")
            raise BrokerError(f"no MQTT broker answered at {self.host}:{self.port} within {wait:g} s")
        return self

    def stop(self) -> None:
        """Disconnect cleanly (no Last Will) and stop the network thread."""
        self.connected.clear()  # first, so the disconnect is not reported as a loss
        sock = self._client.socket()
        self._client.disconnect()
        self._client.loop_stop()
        if sock is not None:
            sock.close()  # paho leaves it open when the disconnect races a reconnect
        # paho's wake-up socket pair is otherwise closed only when the client is
        # garbage-collected, which an unclosed-socket warning then reports.
        self._client._reset_sockets(sockpair_only=True)
        self.connected.clear()
        with self._pending_lock:
            pending = list(self._pending.values())
            self._pending.clear()
        for future in pending:  # outside the lock: cancelling runs _forget, which takes it
            future.cancel()

    def __enter__(self) -> BusClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- publishing ------------------------------------------------------
    def subscribe(self, pattern: str, handler: Handler, *, no_local: bool = False) -> None:
        """Register a handler; it is (re)subscribed on every connect."""
        self._subscriptions.append((pattern, handler, no_local))
        if self.connected.is_set():
            self._client.subscribe(pattern, options=SubscribeOptions(qos=1, noLocal=no_local))

    def publish(self, topic: str, payload: dict | list | str | bytes, *, retain: bool = False, qos: int = 1) -> None:
        """Queue a message; QoS 1 messages survive a reconnect in paho's queue."""
        self._client.publish(topic, encode(payload), qos=qos, retain=retain)

    def wait_published(self, topic: str, payload: dict | str | bytes, *, retain: bool = False, timeout: float = 5) -> None:
        """Publish at QoS 1 and wait for the broker's PUBACK (used for the last word before exit)."""
        info = self._client.publish(topic, encode(payload), qos=1, retain=retain)
        info.wait_for_publish(timeout)

    def reply(self, request: Message, payload: dict) -> bool:
        """Answer a v5 request on its response topic, echoing its correlation data."""
        if not request.response_topic:
            return False
        properties = Properties(PacketTypes.PUBLISH)
        if request.correlation_data is not None:
            properties.CorrelationData = request.correlation_data
        self._client.publish(request.response_topic, encode(payload), qos=1, properties=properties)
        return True

    # -- request/response ------------------------------------------------
    def request_async(self, topic: str, payload: dict | str | bytes) -> Future:
        """Send a v5 request; the future resolves to the decoded reply.

        Cancel the future to give the request up: if the broker has not acknowledged
        it yet, it is withdrawn, and never sent after a reconnect.
        """
        if not self.reply_topic:
            raise ValueError("this client was made without a reply_topic")
        correlation = uuid.uuid4().bytes
        future: Future = Future()
        with self._pending_lock:
            self._pending[correlation] = future
        properties = Properties(PacketTypes.PUBLISH)
        properties.ResponseTopic = self.reply_topic
        properties.CorrelationData = correlation
        info = self._client.publish(topic, encode(payload), qos=1, properties=properties)
        future.add_done_callback(lambda f: self._forget(correlation, info.mid if f.cancelled() else None))
        return future

    def request(self, topic: str, payload: dict | str | bytes, timeout: float = 3.0) -> dict:
        """Send a request and wait for its reply; raise BusTimeout if none comes (the
        request is then withdrawn: see ``request_async``)."""
        future = self.request_async(topic, payload)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise BusTimeout(f"no reply on {topic} within {timeout:g} s") from None

    def _forget(self, correlation: bytes, withdraw_mid: int | None) -> None:
        with self._pending_lock:
            self._pending.pop(correlation, None)
        if withdraw_mid is not None:
            self._withdraw(withdraw_mid)

    def _withdraw(self, mid: int) -> None:
        """Take a QoS 1 publish the broker has not acknowledged out of paho's queue.

        paho 2.x has no public call for one message (``drop_out_messages`` drops them
        all, retained state included), so this does under paho's own lock what its
        PUBACK handling does: remove the message, free its in-flight slot, and send
        what was queued behind it. tests/bus/test_client_requests.py holds paho to it.
        """
        client = self._client
        with client._out_message_mutex:
            message = client._out_messages.pop(mid, None)
            if message is None:
                return  # acknowledged already: the broker has it, and answers in time or not at all
            if message.state == mqtt.mqtt_ms_wait_for_puback:
                client._inflight_messages -= 1
                if client._max_inflight_messages > 0:
                    client._update_inflight()
        log.info("withdrew an unanswered request (mid %d): it will not be sent after a reconnect", mid)

    def _handle_reply(self, message: Message) -> None:
        with self._pending_lock:
            future = self._pending.pop(message.correlation_data or b"", None)
        resolve_reply(future, message)

    # -- paho callbacks: never let an exception escape ----------------------
    def _handle_socket_open(self, client: mqtt.Client, userdata: object, sock: object) -> None:
        if self._tcp_nodelay and isinstance(sock, socket.socket) and sock.family != socket.AF_UNIX:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                log.warning("could not set TCP_NODELAY on the MQTT socket")

    def _handle_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: object, properties: object) -> None:
        try:
            if getattr(reason, "is_failure", False):
                # e.g. "Not authorized": a wrong password, or an account the broker does not know
                self.refused = str(reason)
                self._answered.set()
                log.error("MQTT broker %s:%s refused %s: %s", self.host, self.port, self.client_id, reason)
                return
            self.refused = None
            if self._subscriptions:
                # One SUBSCRIBE for all: the broker takes them at once, so a retained message
                # heard (hall/status: online) means every subscription is in place, events too.
                client.subscribe([(pattern, SubscribeOptions(qos=1, noLocal=no_local))
                                  for pattern, _handler, no_local in self._subscriptions])
            log.info("connected to MQTT broker %s:%s as %s", self.host, self.port, self.client_id)
            self.connected.set()
            self._answered.set()
            if self._on_connected:
                self._on_connected()
        except Exception:
            log.exception("error while handling the MQTT connection")

    def _handle_disconnect(self, client: mqtt.Client, userdata: object, flags: object, reason: object, properties: object) -> None:
        try:
            lost = self.connected.is_set()  # stop() clears it first: an orderly stop is no loss
            self.connected.clear()
            if lost:
                log.warning("lost the MQTT broker %s:%s (%s); reconnecting", self.host, self.port, reason)
                if self._on_disconnected:
                    self._on_disconnected()
        except Exception:
            log.exception("error while handling an MQTT disconnect")

    def _handle_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            props = getattr(msg, "properties", None)
            message = Message(
                topic=msg.topic,
                payload=msg.payload,
                retain=bool(msg.retain),
                response_topic=getattr(props, "ResponseTopic", None),
                correlation_data=getattr(props, "CorrelationData", None),
            )
        except Exception:
            log.exception("malformed message on %s", getattr(msg, "topic", "?"))
            return
        for pattern, handler, _no_local in self._subscriptions:
            if mqtt.topic_matches_sub(pattern, message.topic):
                try:
                    handler(message)
                except Exception:
                    # One handler's bug must not starve the others, nor kill paho's thread.
                    log.exception("error while handling a message on %s", message.topic)
