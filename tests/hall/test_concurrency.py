"""Many windows and kiosks at the same moment: each ticket called once, in order; numbers unique."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from bus.topics import Topics
from paihao.config import load_config
from tests.conftest import Peer, RunningHall, write_config

WINDOWS = [f"x{n}" for n in range(36)]  # all for department 02, each with its own clerk


@pytest.fixture
def peers(tmp_path, broker, clock) -> Iterator[list[Peer]]:
    """A hall with 36 extra windows, and six devices talking to it."""
    config = load_config(write_config(tmp_path, broker.port, windows=36))
    devices = [Peer(broker.port, Topics(config.site.id)) for _ in range(6)]
    hall = RunningHall(config, clock).start(devices[0])
    yield devices
    hall.stop()
    for device in devices:
        device.stop()


def ok(reply: dict) -> dict:
    assert reply["ok"] is True, reply
    return reply


def phone(n: int) -> str:
    return f"137{n:08d}"


def gather(futures) -> list[dict]:
    return [future.result(timeout=15) for future in futures]


def serving(message) -> str | None:
    return (json.loads(message.payload)["serving"] or {}).get("ticket")


def events_until_queue_empty(peer: Peer, mark: int, kind: str) -> list[dict]:
    """The ``kind`` events heard since ``mark``, once department 02's queue shows empty
    (the queue state is published after the events that emptied it)."""
    queue = peer.topics.queue("02")
    peer.heard.wait_for(lambda m: m.topic == queue and json.loads(m.payload)["waiting"] == 0, after=mark)
    topic = peer.topics.event(kind)
    return [json.loads(m.payload) for m in peer.heard.messages[mark:] if m.topic == topic]


def test_36_windows_press_next_at_once(peers):
    pad = peers[0]
    for window in WINDOWS:
        ok(pad.command(window, "login", clerk=window))
    issued = [ok(pad.ticket(phone=phone(n)))["ticket"]["number"] for n in range(30)]
    assert issued == [f"02{n:03d}" for n in range(1, 31)]
    mark = pad.heard.mark()

    futures = [
        peers[n % len(peers)].request_async(
            pad.topics.window_command(window), {"request_id": uuid.uuid4().hex, "action": "next"}
        )
        for n, window in enumerate(WINDOWS)
    ]
    replies = dict(zip(WINDOWS, gather(futures)))

    called = {w: r["ticket"]["number"] for w, r in replies.items() if r["ok"]}
    assert sorted(called.values()) == issued  # every ticket called, none twice
    assert [r["error"]["code"] for r in replies.values() if not r["ok"]] == ["no_waiting"] * 6
    assert {w: (replies[w]["window"]["serving"] or {}).get("ticket") for w in called} == called

    events = sorted(events_until_queue_empty(pad, mark, "called"), key=lambda e: e["seq"])
    assert [e["ticket"] for e in events] == issued  # dispatched in issue order
    assert {e["window"]: e["ticket"] for e in events} == called
    for window, number in called.items():  # the walls show each window serving its own ticket
        pad.heard.wait_for(lambda m: m.topic == pad.topics.window(window) and serving(m) == number, after=mark)


def test_sequential_presses_call_in_issue_order(peers):
    pad = peers[0]
    ok(pad.command("2", "login", clerk="c02"))  # window 2 serves departments 02 and 05
    for window in WINDOWS[:4]:
        ok(pad.command(window, "login", clerk=window))
    kinds = [("02", "0202"), ("05", "0501")] * 2 + [("02", "0202")] * 8
    issued = [ok(pad.ticket(dept=d, item=i, phone=phone(n)))["ticket"]["number"] for n, (d, i) in enumerate(kinds)]
    assert issued[:5] == ["02001", "05001", "02002", "05002", "02003"]

    called = []
    for window in ["2"] * 4 + WINDOWS[:4] * 2:  # window 2 takes the oldest of both departments
        called.append(ok(pad.command(window, "next"))["ticket"]["number"])
        ok(pad.command(window, "complete"))
    assert called == issued
    assert {pad.command(w, "next")["error"]["code"] for w in ["2", *WINDOWS[:4]]} == {"no_waiting"}


def test_4_kiosks_issue_at_once(peers):
    kiosks = peers[:4]
    mark = kiosks[0].heard.mark()
    futures = [
        kiosk.request_async(
            kiosk.topics.kiosk_request(f"k{k}"),
            {"request_id": uuid.uuid4().hex, "action": "ticket", "dept": "02", "item": "0202",
             "phone": phone(100 * k + n)},
        )
        for n in range(25)
        for k, kiosk in enumerate(kiosks)
    ]
    tickets = [ok(reply)["ticket"] for reply in gather(futures)]

    numbers = sorted(t["number"] for t in tickets)
    assert numbers == [f"02{n:03d}" for n in range(1, 101)]  # unique and consecutive
    assert all(t["ahead"] == int(t["number"][2:]) - 1 for t in tickets)
    queue = kiosks[0].topics.queue("02")
    kiosks[0].heard.wait_for(lambda m: m.topic == queue and json.loads(m.payload)["waiting"] == 100, after=mark)
    issued = kiosks[0].heard.payloads(kiosks[0].topics.event("ticket_issued"))
    assert sorted(e["ticket"] for e in issued) == numbers
    assert sorted(e["seq"] for e in issued) == [e["seq"] for e in issued]
