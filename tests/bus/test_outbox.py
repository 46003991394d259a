"""The QoS 1 outbox: the broker's window respected, order kept, nothing lost across a reconnect."""

from __future__ import annotations

from bus import wire
from bus.outbox import Outbox, Outgoing


def message(n: int) -> Outgoing:
    return Outgoing(b"t", str(n).encode(), False, None, None)


def sent(packets) -> list[tuple[int, bytes, bool]]:
    """(packet id, payload, DUP) of each packet."""
    parsed = [wire.parse_publish(first, body) for p in packets for first, body in wire.FrameReader().feed(bytes(p))]
    return [(m.mid, m.payload, bool(p[0] & 0x08)) for m, p in zip(parsed, packets)]


def test_no_more_in_flight_than_the_window_and_each_ack_lets_the_next_go():
    box = Outbox(window=3, limit=100)
    for n in range(5):
        box.add(message(n))
    assert sent(box.sendable()) == [(1, b"0", False), (2, b"1", False), (3, b"2", False)]
    assert box.sendable() == []
    box.acknowledged(2, 0)
    assert sent(box.sendable()) == [(4, b"3", False)]
    box.acknowledged(1, 0)
    box.acknowledged(3, 0)
    assert sent(box.sendable()) == [(5, b"4", False)]
    assert len(box) == 2  # 4 and 5 are still in flight


def test_done_only_once_acknowledged():
    box = Outbox(window=10, limit=100)
    first = message(0)
    box.add(first)
    box.sendable()
    assert not first.done
    box.acknowledged(1, 0x10)  # "no matching subscribers" is still a success
    assert first.done and len(box) == 0


def test_after_a_reconnect_the_unacknowledged_go_again_first_with_dup_then_the_waiting():
    box = Outbox(window=2, limit=100)
    for n in range(4):
        box.add(message(n))
    box.sendable()
    box.acknowledged(1, 0)
    box.sendable()  # "2" goes out as packet 3
    assert sent(box.reconnected(window=2)) == [(2, b"1", True), (3, b"2", True)]
    box.acknowledged(2, 0)
    assert sent(box.sendable()) == [(4, b"3", False)]


def test_a_smaller_window_after_a_reconnect_holds_the_surplus_back_in_order():
    box = Outbox(window=4, limit=100)
    for n in range(4):
        box.add(message(n))
    box.sendable()
    assert sent(box.reconnected(window=2)) == [(1, b"0", True), (2, b"1", True)]
    box.acknowledged(1, 0)
    box.acknowledged(2, 0)
    assert [payload for _mid, payload, _dup in sent(box.sendable())] == [b"2", b"3"]


def test_packet_ids_wrap_and_skip_those_in_flight():
    box = Outbox(window=2, limit=100)
    box.add(message(0))
    box.sendable()  # packet 1 stays in flight
    for n in range(1, 65536):
        box.add(message(n))
        [packet] = box.sendable()
        box.acknowledged(sent([packet])[0][0], 0)
    box.add(message(65536))
    assert sent(box.sendable())[0][0] == 3  # 65535 wrapped to 1 (in flight) and 2 (last one used)


def test_full_outbox_refuses_rather_than_grows():
    box = Outbox(window=1, limit=3)
    assert all(box.add(message(n)) for n in range(3))
    assert not box.add(message(3))
    assert len(box) == 3


def test_an_unknown_ack_changes_nothing(caplog):
    box = Outbox(window=1, limit=3)
    box.add(message(0))
    box.sendable()
    box.acknowledged(99, 0)
    assert len(box) == 1 and "not in flight" in caplog.text
