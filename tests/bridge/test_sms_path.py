"""The SMS path through the bridge: outbox -> the modem's serial line -> sent; SIM -> inbox.

A real mosquitto, the real bridge (its three threads, its SQLite file), the fake modem on a
pseudo-terminal opened with pyserial, and a stand-in for the hall's side of the topics.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from firmware_bridge import pdu
from firmware_bridge.app import BridgeApp, db_path
from firmware_bridge.fake_modem import FakeModem
from firmware_bridge.store import GAP
from tests.bridge.conftest import HallStandIn, bridge_config, ready

CHINA = timezone(timedelta(hours=8))
LONG = (("【荣昌区行政服务中心】您于11月27日在5号窗口办理的社保卡补办已办结。请回复：1满意 2基本满意 3不满意。"
         "感谢您对我们工作的支持，祝您生活愉快！") * 4)[:240]


def heard(hall: HallStandIn) -> None:
    """Once this returns, the bridge has handled every offer made before: it answers an offer with
    no text at once (refused, nothing recorded), and takes offers in the order they come."""
    probe = f"probe-{hall.sent.mark()}"
    hall.publish(hall.topics.sms_outbox, {"id": probe})
    assert hall.answer_of(probe)["error"]["code"] == "bad_request"


def barrier(hall: HallStandIn, fake: FakeModem, sms_id: str = "barrier") -> None:
    """Once this returns, the bridge has finished with every text offered before: a text offered
    now is sent after them (one modem thread, in offer order)."""
    hall.offer(sms_id, "13800000000", "barrier")
    assert hall.answer_of(sms_id)["ok"]


# -- sending -----------------------------------------------------------------------------------------------

def test_an_offered_text_goes_out_as_one_pdu_and_is_answered_sent(bridge, fake, hall):
    hall.offer("e1", "138 1234 5678", "【测试中心】请回复1")
    assert hall.answer_of("e1") == {"id": "e1", "ok": True, "error": None}
    [part] = fake.sent
    assert (part.sms.number, part.sms.text, part.sms.encoding) == ("+8613812345678", "【测试中心】请回复1", "ucs2")


def test_a_long_chinese_text_goes_as_one_concatenated_message(bridge, fake, hall):
    hall.offer("e1", "13812345678", LONG)
    assert hall.answer_of("e1")["ok"]
    parts = [s.sms for s in fake.sent]
    assert len(LONG) == 240 and len(parts) == 4  # 67 characters a part
    assert [p.concat.seq for p in parts] == [1, 2, 3, 4]
    assert {(p.concat.ref, p.concat.total) for p in parts} == {(parts[0].concat.ref, 4)}
    assert all(len(p.units) // 2 <= 67 for p in parts)
    assert fake.texts() == [("+8613812345678", LONG)]


def test_an_id_offered_again_is_not_sent_again_but_answered_again(bridge, fake, hall):
    hall.offer("e1")
    first = hall.answer_of("e1")
    mark = hall.sent.mark()
    hall.offer("e1")  # the hall missed the answer, or resends before hearing it
    assert hall.answer_of("e1", after=mark) == first
    barrier(hall, fake)
    assert [text for _, text in fake.texts()] == ["请回复1", "barrier"]


def test_an_id_offered_again_while_it_is_being_sent_is_answered_once(bridge, fake, hall):
    fake.hold("AT+CMGS")
    hall.offer("e1")
    assert fake.wait_for(lambda f: len(f.sent) == 1)
    hall.offer("e1")
    hall.offer("e1")
    heard(hall)  # both while it was being sent
    fake.release()
    assert hall.answer_of("e1")["ok"]
    barrier(hall, fake)
    assert len(hall.answers("e1")) == 1
    assert [text for _, text in fake.texts()] == ["请回复1", "barrier"]


def test_a_number_the_modem_cannot_dial_is_failed_at_once_and_nothing_sent(bridge, fake, hall):
    hall.offer("e1", "not a number")
    assert hall.answer_of("e1")["error"]["code"] == "bad_phone"
    mark = hall.sent.mark()
    hall.offer("e1", "not a number")
    assert hall.answer_of("e1", after=mark)["error"]["code"] == "bad_phone"
    barrier(hall, fake)
    assert [text for _, text in fake.texts()] == ["barrier"]


def test_malformed_offers_change_nothing_and_one_with_an_id_is_answered(bridge, fake, hall):
    topic = hall.topics.sms_outbox
    hall.publish(topic, b"\xff not json")
    hall.publish(topic, {"id": "e1", "phone": "13812345678", "text": ""})
    hall.publish(topic, {"id": "e2", "phone": "13812345678", "text": "x", "extra": 1})
    hall.publish(topic, ["e3"])
    assert hall.answer_of("e1")["error"]["code"] == "bad_request"
    assert hall.answer_of("e2")["error"]["code"] == "bad_request"
    barrier(hall, fake)
    assert [text for _, text in fake.texts()] == ["barrier"]
    mark = hall.sent.mark()
    hall.offer("e1", text="now it is right")  # nothing was recorded for e1: it can still come right
    assert hall.answer_of("e1", after=mark)["ok"]


def test_a_number_the_network_refuses_for_good_is_failed_and_the_rest_go(bridge, fake, hall):
    fake.reject("+8613800000001", 21)
    hall.offer("e1", "13800000001")
    hall.offer("e2", "13800000002")
    answer = hall.answer_of("e1")
    assert answer["ok"] is False and answer["error"]["code"] == "rejected"
    assert "+CMS ERROR: 21" in answer["error"]["message"]
    assert hall.answer_of("e2")["ok"]
    assert [number for number, _ in fake.texts()] == ["+8613800000002"]


def test_a_passing_refusal_is_tried_again_and_sent_once(bridge, fake, hall):
    fake.fail_next_sends(42, 42)  # congestion, twice
    hall.offer("e1")
    assert hall.answer_of("e1")["ok"]
    assert len(hall.answers("e1")) == 1 and len(fake.sent) == 1
    assert sum(c.startswith("AT+CMGS=") for c in fake.commands) == 3


def test_a_text_refused_every_time_is_given_up_after_its_attempts(bridge, fake, hall):
    fake.fail_next_sends(*[42] * 5)
    hall.offer("e1")
    answer = hall.answer_of("e1")
    assert answer["ok"] is False and answer["error"]["code"] == "gave_up"
    assert "5 tries" in answer["error"]["message"]
    hall.offer("e2")
    assert hall.answer_of("e2")["ok"]
    assert [text for _, text in fake.texts()] == ["请回复1"]


def test_a_long_text_refused_in_the_middle_goes_on_from_that_part(bridge, fake, hall):
    fake.fail_next_sends(42, skip=1)  # part 1 goes, part 2 is refused once
    hall.offer("e1", text=LONG)
    assert hall.answer_of("e1")["ok"]
    assert [s.sms.concat.seq for s in fake.sent] == [1, 2, 3, 4]  # part 1 was not sent twice
    assert fake.texts() == [("+8613812345678", LONG)]


# -- receiving ---------------------------------------------------------------------------------------------

def test_a_received_message_is_one_inbox_request_and_then_leaves_the_sim(bridge, fake, hall):
    ready(hall)
    at = datetime(2026, 11, 27, 10, 30, 5, tzinfo=CHINA)
    fake.deliver("13912345678", "1", at=at)
    [message] = hall.wait_taken(1)
    assert message["phone"] == "13912345678" and message["text"] == "1"  # the network said +8613912345678
    assert message["received_at"] == "2026-11-27T10:30:05+08:00"
    assert message["request_id"].startswith("gsm1-")
    assert fake.wait_for(lambda f: f.sim == {})
    assert hall.wait_status(lambda s: s["inbox_waiting"] == 0)


def test_the_same_pdu_twice_is_one_message(bridge, fake, hall):
    """A service centre that missed the modem's acknowledgement delivers the message again:
    the same sender, text and time stamp, so the same PDU. It is taken once."""
    ready(hall)
    [again] = pdu.encode_deliver("+8613912345678", "1", datetime(2026, 11, 27, 10, 0, tzinfo=CHINA))
    fake.deliver_pdus([again])
    fake.deliver_pdus([again])
    fake.deliver("13912345678", "2")
    assert [m["text"] for m in hall.wait_taken(2)] == ["1", "2"]
    assert fake.wait_for(lambda f: f.sim == {})
    assert [r["text"] for r in hall.requests] == ["1", "2"]


def test_a_multi_part_message_is_one_request_with_the_whole_text(bridge, fake, hall):
    ready(hall)
    text = "窗口工作人员态度很好，办事效率高，" * 10
    indexes = fake.deliver("13912345678", text)
    assert len(indexes) == 3
    [message] = hall.wait_taken(1)
    assert message["text"] == text
    assert fake.wait_for(lambda f: f.sim == {})
    assert len(hall.requests) == 1


def test_messages_that_came_while_the_bridge_was_down_are_found_at_start(config, fake, hall):
    fake.deliver("13912345678", "1")  # nobody listens to these +CMTI
    fake.deliver("13912345679", "很满意" * 30)
    app = BridgeApp(config, config.bridges[0], fake=fake).start()
    try:
        taken = hall.wait_taken(2)
        assert sorted(m["text"] for m in taken) == ["1", "很满意" * 30]
        assert fake.wait_for(lambda f: f.sim == {})
        assert "AT+CMGL=4" in fake.commands
    finally:
        app.close()


def test_a_lost_notification_is_made_good_by_the_next_sweep(tmp_path, broker, fake):
    config = bridge_config(tmp_path, broker.port, "sweep_s = 0.3\n")
    app = BridgeApp(config, config.bridges[0], fake=fake)
    standin = HallStandIn(broker.port, app.link.topics)
    app.start()
    try:
        ready(standin)
        fake.deliver("13912345678", "2", notify=False)
        [message] = standin.wait_taken(1)
        assert message["text"] == "2"
    finally:
        app.close()
        standin.stop()


def test_with_the_hall_away_a_message_waits_and_is_asked_again_with_the_same_id(bridge, fake, hall):
    ready(hall)
    hall.answering = False
    fake.deliver("13912345678", "3")
    requests = hall.wait_requests(3)  # asked, not answered, asked again …
    assert len({r["request_id"] for r in requests}) == 1
    status = hall.wait_status(lambda s: s["inbox_waiting"] == 1 and s["state"] == "degraded")
    assert status["problem"] == "the hall does not take received messages"
    assert fake.wait_for(lambda f: f.sim == {})  # safe in the bridge's store meanwhile
    mark = hall.status.mark()
    hall.answering = True
    hall.publish(hall.topics.hall_status, "online", retain=True)  # the hall is back: asks at once
    [message] = hall.wait_taken(1)
    assert message["request_id"] == requests[0]["request_id"] and message["text"] == "3"
    assert hall.wait_status(lambda s: s["inbox_waiting"] == 0 and s["state"] == "online", after=mark)


def test_a_refusal_by_the_hall_is_final(bridge, fake, hall, config):
    ready(hall)
    hall.reply_with = {"ok": False, "error": {"code": "bad_request", "message": "no"}}
    fake.deliver("13912345678", "4")
    hall.wait_taken(1)
    hall.reply_with = {"ok": True}
    fake.deliver("13912345678", "5")
    hall.wait_taken(2)  # one message at a time: the answer to "4" was stored before "5" was asked
    with sqlite3.connect(db_path(config, config.bridges[0])) as db:
        refused = db.execute("SELECT state, error FROM inbox WHERE text = '4'").fetchall()
    assert refused == [("refused", "bad_request")]
    assert [r["text"] for r in hall.requests] == ["4", "5"]


def test_parts_that_never_come_are_handed_over_with_the_gap_marked(tmp_path, broker, fake):
    config = bridge_config(tmp_path, broker.port, "parts_wait_s = 0.5\n")
    app = BridgeApp(config, config.bridges[0], fake=fake)
    hall = HallStandIn(broker.port, app.link.topics)
    app.start()
    try:
        ready(hall)
        text = "一" * 67 + "二" * 67 + "三" * 5
        parts = pdu.encode_deliver("+8613912345678", text, datetime(2026, 11, 27, 9, 0, tzinfo=CHINA), ref=77)
        fake.deliver_pdus([parts[0], parts[2]])
        assert hall.wait_status(lambda s: s["parts_waiting"] == 2)
        [message] = hall.wait_taken(1)
        assert message["text"] == "一" * 67 + GAP + "三" * 5
        assert fake.wait_for(lambda f: f.sim == {})
    finally:
        app.close()
        hall.stop()


def test_a_message_is_deleted_from_the_sim_only_after_it_is_recorded(bridge, fake, hall, config):
    ready(hall)
    fake.hold("AT+CMGD")
    fake.deliver("13912345678", "1")
    fake.wait_for_command("AT+CMGD")
    # The modem has been asked to delete it: by then it is in the bridge's store.
    with sqlite3.connect(db_path(config, config.bridges[0])) as db:
        assert db.execute("SELECT text FROM inbox").fetchall() == [("1",)]
    assert len(fake.sim) == 1
    fake.release()
    assert fake.wait_for(lambda f: f.sim == {})
    assert [m["text"] for m in hall.wait_taken(1)] == ["1"]


def test_the_status_says_what_the_modem_is_and_what_waits(broker, bridge, fake, hall):
    status = ready(hall)
    assert status["online"] is True and status["problem"] is None
    assert status["modem"] == {"port": fake.port, "port_open": True, "sim": "ready", "registration": "home",
                               "registered": True, "signal_dbm": -73, "csq": 20, "operator": "CHINA MOBILE"}
    assert (status["outbox_queued"], status["inbox_waiting"], status["parts_waiting"]) == (0, 0, 0)
    later = HallStandIn(broker.port, hall.topics)  # a dashboard started later hears it too: retained
    try:
        assert later.status.wait_for(lambda m: json.loads(m.payload)["state"] == "online").retain
    finally:
        later.stop()


def test_texts_are_kept_on_the_sim_where_the_bridge_looks_for_them(bridge, fake, hall):
    """The fake starts with another storage for texts it writes ("ME"), as modems' defaults vary."""
    ready(hall)
    assert 'AT+CPMS="SM","SM","SM"' in fake.commands
    assert fake.modem.settings.cpms == ("SM", "SM", "SM")
    fake.deliver("13912345678", "1")
    [taken] = hall.wait_taken(1)
    assert taken["text"] == "1"


@pytest.mark.parametrize("phone", ["13812345678", "+86 138 1234 5678", "008613812345678"])
def test_the_forms_of_a_mainland_number_all_dial_the_same(bridge, fake, hall, phone):
    hall.offer("e1", phone)
    assert hall.answer_of("e1")["ok"]
    assert [number for number, _ in fake.texts()] == ["+8613812345678"]


def test_logs_never_show_a_full_phone_number_nor_a_pdu(bridge, fake, hall, caplog):
    caplog.set_level(logging.DEBUG)
    ready(hall)
    hall.offer("e1", "13812345678")
    assert hall.answer_of("e1")["ok"]
    fake.deliver("13912345678", "1")
    hall.wait_taken(1)
    hall.publish(hall.topics.sms_outbox, {"id": "e2", "phone": "13712345678", "text": ""})
    assert hall.answer_of("e2")["error"]["code"] == "bad_request"
    hall.offer("e3", "13612345678", "x" * 2000)  # too long for the payload: refused, unrecorded
    assert hall.answer_of("e3")["error"]["code"] == "bad_request"
    logged = caplog.text
    assert "138****5678" in logged and "139****5678" in logged
    for number in ("13812345678", "13912345678", "13712345678", "13612345678"):
        assert number not in logged
    assert fake.sent[0].hex not in logged and "3118325476F8" not in logged  # nor in BCD, inside a PDU
