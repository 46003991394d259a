"""Retained state under load: a lone change is shown at once, a stream of them at a screen's pace."""

from __future__ import annotations

import json
import time

from bus.client import Message
from hall.outcome import Outcome
from hall.publisher import STATE_INTERVAL_S
from hall.service import HallService


def test_a_lone_ticket_is_shown_without_waiting_for_more_requests(hall, peer):
    queue = peer.topics.queue("02")
    mark = peer.heard.mark()
    reply = peer.ticket(phone="13900000001")
    shown = peer.heard.wait_for(lambda m: m.topic == queue and json.loads(m.payload)["waiting"] == 1, after=mark)
    assert json.loads(shown.payload)["next"] == [reply["ticket"]["number"]]


def test_a_stream_of_tickets_is_published_at_most_every_interval_and_ends_right(hall, peer):
    queue = peer.topics.queue("02")
    mark = peer.heard.mark()
    started = time.monotonic()
    futures = [peer.request_async(peer.topics.kiosk_request("k1"), {
        "request_id": f"burst-{n}", "action": "ticket", "dept": "02", "item": "0202", "phone": f"139{n:08d}"})
        for n in range(150)]
    numbers = [f.result(timeout=15)["ticket"]["number"] for f in futures]
    last = peer.heard.wait_for(lambda m: m.topic == queue and json.loads(m.payload)["waiting"] == 150, after=mark)
    elapsed = time.monotonic() - started
    states = [m for m in peer.heard.messages[mark:] if m.topic == queue]
    assert len(states) <= elapsed / STATE_INTERVAL_S + 2  # not one per ticket
    assert states[-1] is last and json.loads(last.payload)["next"] == numbers[:5]


def test_the_loop_does_not_sleep_while_requests_wait(hall_config, clock):
    """Requests read by the poll that follows a batch are handled next, not after the state's pause."""
    service = HallService(hall_config, clock=clock)
    try:
        service.publisher.events(Outcome(reply={}, depts={"02"}))
        service.publisher.flush(clock())
        service.publisher.events(Outcome(reply={}, depts={"02"}))  # changed again: due in 50 ms
        far = time.monotonic() + 60
        assert 0 < service._wait(far) <= STATE_INTERVAL_S
        service._inbox.append(Message("paihao/v1/x/kiosks/k1/request", b"{}"))
        assert service._wait(far) == 0
    finally:
        service.close()
