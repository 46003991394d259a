"""The polled client against a real mosquitto, and against paho on the other end."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from bus import wire
from bus.broker import LocalBroker, free_port
from bus.client import BusClient, Message
from bus.polled import MAX_PACKET, PolledBusClient
from paihao.errors import BrokerError
from tests.conftest import Recorder


def until(client: PolledBusClient, done: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``client`` until ``done()``; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {timeout} s")
        client.poll(0.05)


def name() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


def settle(client: PolledBusClient | BusClient) -> None:
    """Until the broker has handled all this client sent so far, its subscriptions included:
    it acknowledges a QoS 1 message only after what came before it on the same connection."""
    client.wait_published(f"settle/{name()}", "", timeout=5)


@pytest.fixture
def polled(broker: LocalBroker) -> Iterator[PolledBusClient]:
    client = PolledBusClient(name(), "127.0.0.1", broker.port, reply_topic=f"replies/{name()}")
    yield client
    client.stop()


@pytest.fixture
def paho(broker: LocalBroker) -> Iterator[BusClient]:
    client = BusClient(name(), "127.0.0.1", broker.port, reply_topic=f"replies/{name()}")
    yield client
    client.stop()


class Responder(threading.Thread):
    """A polled client answering requests in its own thread, as the hall loop does."""

    def __init__(self, client: PolledBusClient, pattern: str) -> None:
        super().__init__(daemon=True)
        self.client, self.stopping = client, threading.Event()
        client.subscribe(pattern, self._answer)

    def _answer(self, message: Message) -> None:
        self.client.reply(message, {"topic": message.topic, "echo": json.loads(message.payload)})

    def run(self) -> None:
        while not self.stopping.is_set():
            self.client.poll(0.5)

    def stop(self) -> None:
        self.stopping.set()
        self.client.wake()
        self.join(5)


@pytest.mark.parametrize("size", [0, 100, 200, 20_000, 1_000_000])
def test_request_from_polled_answered_by_paho(polled, paho, size):
    # Sizes cross the one-, two- and three-byte lengths, and a payload larger than one recv.
    topic = f"请求/{name()}"
    paho.subscribe(topic, lambda m: paho.reply(m, {"echo": json.loads(m.payload), "size": len(m.payload)}))
    paho.start()
    settle(paho)
    polled.start()
    body = {"text": "办" * size}
    reply = polled.request(topic, body, timeout=10)
    sent = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    assert reply["echo"] == body and reply["size"] == len(sent)


def test_requests_from_paho_answered_by_polled_each_to_its_sender(polled, paho):
    responder = Responder(polled, "hall/+/request")
    polled.start()
    settle(polled)
    responder.start()
    try:
        paho.start()
        futures = [paho.request_async(f"hall/k{n % 4}/request", {"n": n}) for n in range(200)]
        replies = [f.result(timeout=10) for f in futures]
    finally:
        responder.stop()
    assert replies == [{"topic": f"hall/k{n % 4}/request", "echo": {"n": n}} for n in range(200)]


def test_messages_published_while_the_broker_is_down_arrive_once_it_is_back(tmp_path):
    with LocalBroker() as private:
        connects: list[float] = []
        client = PolledBusClient(name(), "127.0.0.1", private.port, on_connected=lambda: connects.append(1))
        heard: list[bytes] = []
        client.subscribe("queued/#", lambda m: heard.append(m.payload))
        try:
            client.start()
            private.stop()
            until(client, lambda: not client.connected.is_set())
            for n in range(5):
                client.publish(f"queued/{n}", str(n))
            private.start()
            # Subscribed again, then the five sent again, on the new connection: it hears them.
            until(client, lambda: len(heard) == 5, timeout=15)
        finally:
            client.stop()
    assert heard == [b"0", b"1", b"2", b"3", b"4"]
    assert len(connects) == 2


def test_last_will_when_the_connection_drops_but_not_after_stop(broker, paho):
    root = name()  # the wills are retained: topics of this test alone
    watcher = Recorder(paho, f"{root}/#")
    paho.start()
    settle(paho)
    dropped = PolledBusClient(name(), "127.0.0.1", broker.port, will=(f"{root}/dropped", "offline")).start()
    stopped = PolledBusClient(name(), "127.0.0.1", broker.port, will=(f"{root}/stopped", "offline")).start()
    try:
        dropped.socket().shutdown(socket.SHUT_RDWR)  # the network goes away: no DISCONNECT
        assert watcher.wait_for(lambda m: m.topic == f"{root}/dropped").payload == b"offline"
        stopped.stop()
        paho.publish(f"{root}/probe", "after the stop")
        watcher.wait_for(lambda m: m.topic == f"{root}/probe")
        assert [m.topic for m in watcher.messages] == [f"{root}/dropped", f"{root}/probe"]
    finally:
        dropped.stop()
        stopped.stop()
        paho.publish(f"{root}/dropped", "", retain=True)  # clear the retained will


def test_no_local_hears_others_but_not_itself(polled, paho):
    heard: list[bytes] = []
    polled.subscribe("nl/#", lambda m: heard.append(m.payload), no_local=True)
    polled.start()
    paho.start()
    polled.wait_published("nl/a", "mine")  # subscribed, and the broker has it before the next one
    paho.publish("nl/a", "theirs")
    until(polled, lambda: heard == [b"theirs"])


def test_a_message_too_large_is_dropped_by_the_broker_and_the_connection_stays(polled, paho):
    heard: list[int] = []
    polled.subscribe("big/#", lambda m: heard.append(len(m.payload)))
    polled.start()
    settle(polled)
    paho.start()
    paho.wait_published("big/a", b"x" * (MAX_PACKET + 1))
    paho.wait_published("big/a", b"small")
    until(polled, lambda: heard == [5])
    assert polled.connected.is_set()


def test_the_brokers_receive_maximum_is_obeyed():
    """A broker announcing Receive Maximum 2 gets two messages, and a third only after an ack."""
    server = socket.create_server(("127.0.0.1", 0))
    client = PolledBusClient(name(), "127.0.0.1", server.getsockname()[1])
    accepted: list[socket.socket] = []
    try:
        client.poll(0)  # connects: CONNECT sent
        conn, _ = server.accept()
        accepted.append(conn)
        reader = wire.FrameReader()
        assert [first >> 4 for first, _ in reader.feed(conn.recv(1024))] == [wire.CONNECT]
        conn.sendall(bytes(wire.frame(wire.CONNACK << 4, b"\x00\x00\x03\x21\x00\x02")))
        until(client, client.connected.is_set)
        for n in range(5):
            client.publish("rm/t", str(n))
        client.flush()
        conn.settimeout(5)

        def published(count: int) -> list[wire.Publish]:
            found: list[wire.Publish] = []
            while len(found) < count:
                found += [wire.parse_publish(f, b) for f, b in reader.feed(conn.recv(4096)) if f >> 4 == wire.PUBLISH]
            return found

        first = published(2)
        client.poll(0.2)  # nothing more may come: the window is full
        conn.setblocking(False)
        with pytest.raises(BlockingIOError):
            conn.recv(4096)
        conn.sendall(wire.puback(first[0].mid))
        more: list[wire.Publish] = []

        def arrived() -> bool:
            try:
                more.extend(wire.parse_publish(f, b) for f, b in reader.feed(conn.recv(4096)))
            except BlockingIOError:
                pass
            return bool(more)

        until(client, arrived)  # the client reads the ack and sends the next one
        assert [m.payload for m in first + more] == [b"0", b"1", b"2"]
    finally:
        client.stop()
        for conn in accepted:
            conn.close()
        server.close()


def test_a_broker_with_a_small_receive_maximum_still_gets_every_message_in_order():
    with LocalBroker(max_inflight=5) as private:
        heard: list[bytes] = []
        client = PolledBusClient(name(), "127.0.0.1", private.port)
        client.subscribe("rm/#", lambda m: heard.append(m.payload))
        try:
            client.start()
            for n in range(200):
                client.publish("rm/t", str(n))
            until(client, lambda: len(heard) == 200)
        finally:
            client.stop()
    assert heard == [str(n).encode() for n in range(200)]


def test_an_idle_connection_is_kept_alive_by_pings(broker):
    connects: list[int] = []
    client = PolledBusClient(name(), "127.0.0.1", broker.port, keepalive=1, on_connected=lambda: connects.append(1))
    try:
        client.start()
        # Mosquitto drops a client silent for 1.5 keepalives; this stays idle for 2.6.
        deadline = time.monotonic() + 2.6
        while time.monotonic() < deadline:
            client.poll(deadline - time.monotonic())
        assert client.connected.is_set() and connects == [1]
    finally:
        client.stop()


def test_wake_ends_a_long_poll(polled):
    polled.start()
    thread = threading.Thread(target=polled.poll, args=(20,))
    thread.start()
    polled.wake()
    thread.join(5)
    assert not thread.is_alive()


def test_no_broker_is_a_broker_error_in_time():
    client = PolledBusClient(name(), "127.0.0.1", free_port())
    started = time.monotonic()
    with pytest.raises(BrokerError, match="no MQTT broker"):
        client.start(wait=0.5)
    assert time.monotonic() - started < 3


def test_garbage_from_the_broker_drops_the_connection_and_it_reconnects(caplog):
    """A broker that answers CONNECT, then sends a packet no broker may send."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def serve() -> None:
        for _ in range(2):
            conn, _ = server.accept()
            accepted.append(conn)
            conn.recv(1024)  # CONNECT
            conn.sendall(bytes.fromhex("20030000" "00") + bytes.fromhex("36050001740001"))  # CONNACK, then QoS 3

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = PolledBusClient(name(), "127.0.0.1", server.getsockname()[1])
    try:
        until(client, lambda: len(accepted) == 2, timeout=10)  # retried after a second
    finally:
        client.stop()
        thread.join(5)
        for conn in accepted:
            conn.close()
        server.close()
    assert "malformed packet from the broker" in caplog.text


def test_a_broker_refusing_the_connection_is_retried_not_fatal(caplog):
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def serve() -> None:
        for _ in range(2):
            conn, _ = server.accept()
            accepted.append(conn)
            conn.recv(1024)
            conn.sendall(bytes(wire.frame(wire.CONNACK << 4, b"\x00\x87\x00")))  # not authorised

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = PolledBusClient(name(), "127.0.0.1", server.getsockname()[1])
    try:
        until(client, lambda: len(accepted) == 2, timeout=10)
        assert not client.connected.is_set()
    finally:
        client.stop()
        thread.join(5)
        for conn in accepted:
            conn.close()
        server.close()
    assert "refused" in caplog.text and "0x87" in caplog.text
