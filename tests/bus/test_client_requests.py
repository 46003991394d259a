"""BusClient requests on a real mosquitto: a request given up on is never delivered late,
and a lost connection is reported to the client's user at once."""

from __future__ import annotations

import json
import threading
import uuid

import paho.mqtt.client as mqtt
import pytest

from bus.client import BusClient, Message
from paihao.errors import BusTimeout
from tests.bus.cable import Cable


class Responder:
    """Answers every request on ``topic`` with its own payload, and keeps what it got."""

    def __init__(self, port: int, topic: str) -> None:
        self.got: list[dict] = []
        self._cond = threading.Condition()
        self.bus = BusClient(f"responder-{uuid.uuid4().hex[:8]}", "127.0.0.1", port)
        self.bus.subscribe(topic, self._answer)
        self.bus.start()

    def _answer(self, message: Message) -> None:
        with self._cond:
            self.got.append(json.loads(message.payload))
            self._cond.notify_all()
        self.bus.reply(message, {"ok": True, "echo": json.loads(message.payload)})


@pytest.fixture
def responder(broker):
    topic = f"tests/requests/{uuid.uuid4().hex}"
    responder = Responder(broker.port, topic)
    responder.topic = topic
    yield responder
    responder.bus.stop()


def test_a_request_given_up_on_while_the_cable_was_out_is_not_sent_after_the_reconnect(broker, responder):
    """The connection dies unnoticed (keepalive not yet run out): the request sent into it
    times out, and when the client reconnects paho must not deliver it late."""
    connected, lost = threading.Semaphore(0), threading.Event()
    with Cable(broker.port) as cable:
        requester = BusClient(f"requester-{uuid.uuid4().hex[:8]}", "127.0.0.1", cable.port,
                              reply_topic=f"tests/replies/{uuid.uuid4().hex}",
                              on_connected=connected.release, on_disconnected=lost.set)
        requester.start()
        try:
            assert connected.acquire(timeout=5)
            assert requester.request(responder.topic, {"n": 1}, timeout=5)["echo"] == {"n": 1}
            cable.pull()
            with pytest.raises(BusTimeout):
                requester.request(responder.topic, {"n": 2}, timeout=0.3)
            assert cable.wait_lost()  # it did go into the dead connection
            assert requester.connected.is_set() and not lost.is_set()  # paho has not noticed
            cable.cut()
            assert lost.wait(5)  # reported as it happens, not found by polling
            cable.mend()
            assert connected.acquire(timeout=15)  # paho's reconnect backs off 1 s
            # paho resends what it kept before anything new: once 3 is answered, 2 would be in.
            assert requester.request(responder.topic, {"n": 3}, timeout=5)["echo"] == {"n": 3}
            assert responder.got == [{"n": 1}, {"n": 3}]
        finally:
            requester.stop()


def test_a_request_still_awaited_is_delivered_after_the_reconnect(broker, responder):
    """Withdrawal is only for requests given up on: one still awaited goes through."""
    connected = threading.Semaphore(0)
    with Cable(broker.port) as cable:
        requester = BusClient(f"requester-{uuid.uuid4().hex[:8]}", "127.0.0.1", cable.port,
                              reply_topic=f"tests/replies/{uuid.uuid4().hex}", on_connected=connected.release)
        requester.start()
        try:
            assert connected.acquire(timeout=5)
            cable.pull()
            future = requester.request_async(responder.topic, {"n": 1})
            assert cable.wait_lost()
            cable.cut()
            cable.mend()
            assert future.result(15)["echo"] == {"n": 1}
            assert responder.got == [{"n": 1}]
        finally:
            requester.stop()


def test_a_withdrawn_request_frees_its_place_for_those_queued_behind_it(broker, responder):
    """With paho's in-flight window full, withdrawing one lets the next queued go out."""
    requester = BusClient(f"requester-{uuid.uuid4().hex[:8]}", "127.0.0.1", broker.port,
                          reply_topic=f"tests/replies/{uuid.uuid4().hex}")
    requester._client.max_inflight_messages_set(1)
    requester.start()
    try:
        client = requester._client
        with client._out_message_mutex:  # hold paho's network thread off: nothing is acknowledged
            first = requester.request_async(responder.topic, {"n": 1})
            second = requester.request_async(responder.topic, {"n": 2})
            assert [m.state for m in client._out_messages.values()] == [
                mqtt.mqtt_ms_wait_for_puback, mqtt.mqtt_ms_queued]
            first.cancel()
            assert [m.state for m in client._out_messages.values()] == [mqtt.mqtt_ms_wait_for_puback]
        assert second.result(5)["echo"] == {"n": 2}
    finally:
        requester.stop()
