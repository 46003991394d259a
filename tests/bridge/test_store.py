"""The bridge's SQLite, on a real file: the order of writes that keeps texts single and messages safe."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from firmware_bridge import pdu
from firmware_bridge.errors import SendCancelled
from firmware_bridge.schema import SCHEMA
from firmware_bridge.store import GAP, BridgeStore, pdu_hash
from tests.conftest import FakeClock

CHINA = timezone(timedelta(hours=8))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def open_store(tmp_path, clock) -> BridgeStore:
    return BridgeStore(tmp_path / "bridge.db", bridge_id="gsm1", clock=clock)


def received(text: str, sender: str = "+8613912345678", minute: int = 0) -> list[tuple[pdu.Sms, str]]:
    stamp = datetime(2026, 11, 27, 9, minute, tzinfo=CHINA)
    return [(pdu.decode(p), pdu_hash(p)) for p in pdu.encode_deliver(sender, text, stamp, ref=9)]


def test_an_offered_id_is_new_once_then_queued_then_answered_as_recorded(tmp_path, clock):
    store = open_store(tmp_path, clock)
    assert store.offer("e1", "13812345678", "请回复1") == ("new", None)
    assert store.offer("e1", "13812345678", "请回复1") == ("queued", None)
    [item] = store.due()
    store.sending(item.id, 0)
    assert store.offer("e1", "13812345678", "请回复1") == ("queued", None)
    assert store.part_sent("e1", 0, 1) is True
    assert store.offer("e1", "13812345678", "请回复1") == ("done", {"id": "e1", "ok": True, "error": None})
    assert store.due() == []
    store.close()


def test_a_text_caught_sending_by_a_crash_is_failed_uncertain_at_the_next_start(tmp_path, clock):
    store = open_store(tmp_path, clock)
    store.offer("e1", "13812345678", "x")
    store.offer("e2", "13812345678", "y")
    store.sending("e1", 0)
    store.close()  # the process dies here
    again = open_store(tmp_path, clock)
    assert again.recover() == ["e1"]
    assert again.answer("e1")["error"]["code"] == "uncertain"
    assert [item.id for item in again.due()] == ["e2"]  # the other still waits
    assert again.recover() == []
    again.close()


def test_a_long_text_keeps_its_reference_and_resumes_after_the_parts_sent(tmp_path, clock):
    store = open_store(tmp_path, clock)
    store.offer("e1", "13812345678", "长" * 200)
    store.offer("e2", "13812345678", "长" * 200)
    assert store.reference("e1", 3) == 0 and store.reference("e1", 3) == 0
    store.sending("e1", 0)
    assert store.part_sent("e1", 0, 3) is False
    assert store.retry("e1", "cms_42", "+CMS ERROR: 42", 0) == 1
    store.close()
    again = open_store(tmp_path, clock)
    [first, _second] = again.due()
    assert (first.id, first.parts_done, first.ref, first.attempts) == ("e1", 1, 0, 1)
    assert again.reference("e2", 3) == 1  # the counter survived the restart
    again.close()


def test_a_retried_text_waits_for_its_time(tmp_path, clock):
    store = open_store(tmp_path, clock)
    store.offer("e1", "13812345678", "x")
    store.retry("e1", "cms_42", "congestion", 30)
    assert store.due() == [] and store.next_due() == clock() + timedelta(seconds=30)
    clock.advance(seconds=30)
    assert [item.id for item in store.due()] == ["e1"]
    store.close()


def test_a_received_message_is_recorded_once_with_the_networks_time(tmp_path, clock):
    store = open_store(tmp_path, clock)
    [(sms, digest)] = received("1")
    assert not store.seen(digest)
    request_id = store.record(sms, digest)
    assert store.seen(digest)
    [message] = store.pending()
    assert (message.request_id, message.phone, message.text, message.received_at) == \
        (request_id, "13912345678", "1", "2026-11-27T09:00:00+08:00")
    assert request_id.startswith("gsm1-") and len(request_id) <= 64
    store.answered(request_id, True)
    assert store.pending() == [] and store.counts()["inbox_waiting"] == 0
    store.close()


def test_parts_wait_across_a_restart_and_make_one_message_in_order(tmp_path, clock):
    parts = received("评价" * 100)  # 200 characters: 3 parts
    store = open_store(tmp_path, clock)
    assert store.record(*parts[2]) is None
    assert store.record(*parts[0]) is None
    assert store.counts()["parts_waiting"] == 2
    store.close()
    again = open_store(tmp_path, clock)
    request_id = again.record(*parts[1])
    [message] = again.pending()
    assert message.request_id == request_id and message.text == "评价" * 100
    assert again.counts()["parts_waiting"] == 0
    again.close()


def test_parts_that_never_come_are_marked_and_the_rest_handed_over(tmp_path, clock):
    parts = received("一" * 67 + "二" * 67 + "三" * 10)
    store = open_store(tmp_path, clock)
    store.record(*parts[0])
    store.record(*parts[2])
    assert store.flush_parts(timedelta(minutes=60)) == []
    clock.advance(minutes=61)
    [request_id] = store.flush_parts(timedelta(minutes=60))
    [message] = store.pending()
    assert message.request_id == request_id and message.text == "一" * 67 + GAP + "三" * 10
    store.close()


def test_a_very_long_message_is_cut_to_what_the_topic_takes(tmp_path, clock):
    store = open_store(tmp_path, clock)
    for sms, digest in received("很" * 2100):
        store.record(sms, digest)
    [message] = store.pending()
    assert len(message.text) == 2000 and message.text.endswith("…")
    store.close()


def test_old_finished_rows_are_forgotten_and_waiting_ones_kept(tmp_path, clock):
    store = open_store(tmp_path, clock)
    store.offer("old", "13812345678", "x")
    store.fail("old", "rejected", "no")
    store.offer("waiting", "13812345678", "y")
    [(sms, digest)] = received("1")
    store.record(sms, digest)
    clock.advance(days=31)
    store.purge(timedelta(days=30))
    assert store.answer("old") is None and [item.id for item in store.due()] == ["waiting"]
    assert len(store.pending()) == 1
    store.close()


# -- sms/cancel -------------------------------------------------------------------------------------------

CANCELLED = {"id": "e1", "ok": False, "error": {"code": "cancelled", "message": "cancelled before it was sent"}}


def test_a_cancelled_text_is_never_picked_nor_marked_sending_and_keeps_no_number(tmp_path, clock):
    store = open_store(tmp_path, clock)
    store.offer("e1", "13812345678", "请回复1")
    store.retry("e1", "cms_42", "congestion", 0)  # tried once, refused: nothing went out
    [picked] = store.due()  # the modem thread has picked it ...
    assert store.cancel("e1") == ("cancelled", "13812345678")  # ... when the cancel comes
    with pytest.raises(SendCancelled):
        store.sending(picked.id, 0)  # so its PDU is never written
    assert store.answer("e1") == CANCELLED
    assert store.due() == [] and store.counts()["outbox_queued"] == 0
    assert store.offer("e1", "13812345678", "请回复1") == ("done", CANCELLED)  # a late offer: not taken again
    assert store.cancel("e1") == ("done", None)
    assert [tuple(row) for row in store.db.conn.execute("SELECT phone, text FROM outbox")] == [("", "")]
    store.close()


def test_an_id_never_offered_is_recorded_cancelled_so_a_late_offer_is_not_sent(tmp_path, clock):
    store = open_store(tmp_path, clock)
    assert store.cancel("e9") == ("cancelled", None)
    store.close()
    again = open_store(tmp_path, clock)  # kept across a restart
    assert again.offer("e9", "13812345678", "x") == \
        ("done", {"id": "e9", "ok": False,
                  "error": {"code": "cancelled", "message": "cancelled before the bridge was offered it"}})
    assert again.due() == []
    again.close()


def test_a_text_some_of_which_may_have_gone_out_is_not_cancelled(tmp_path, clock):
    store = open_store(tmp_path, clock)
    store.offer("e1", "13812345678", "x")
    store.offer("e2", "13812345678", "长" * 200)
    store.sending("e1", 0)
    assert store.cancel("e1") == ("busy", None)  # being written: answered when it ends
    store.part_sent("e1", 0, 1)
    assert store.cancel("e1") == ("done", None) and store.answer("e1")["ok"] is True
    store.sending("e2", 0)
    store.part_sent("e2", 0, 3)  # part 1 of 3 went out: the rest follows, one message
    assert store.cancel("e2") == ("busy", None)
    store.sending("e2", 1)
    store.close()  # and the bridge dies in the middle of part 2
    again = open_store(tmp_path, clock)
    again.recover()
    assert again.cancel("e2") == ("done", None) and again.answer("e2")["error"]["code"] == "uncertain"
    again.close()


def test_an_old_bridge_database_takes_cancels_after_its_upgrade(tmp_path, clock):
    old = sqlite3.connect(tmp_path / "bridge.db")
    old.executescript(SCHEMA[0] + "; PRAGMA user_version = 1;")
    old.execute("INSERT INTO outbox (id, phone, text, state, next_try_at, offered_at) "
                "VALUES ('e1', '13812345678', 'x', 'queued', '2026-01-01', '2026-01-01')")
    old.commit()
    old.close()
    store = open_store(tmp_path, clock)
    assert [item.id for item in store.due()] == ["e1"]  # kept by the copy
    assert store.cancel("e1") == ("cancelled", "13812345678")
    clock.advance(days=31)
    store.purge(timedelta(days=30))  # forgotten in time, as sent and failed ones are
    assert store.answer("e1") is None
    store.close()
