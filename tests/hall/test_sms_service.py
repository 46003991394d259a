"""The SMS path from the controller's side, over a real mosquitto: a Peer stands in for the
bridge (it hears sms/outbox, answers sms/sent, sends sms/inbox requests)."""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.conftest import FakeClock, Peer, RunningHall
from tests.hall.test_service import assert_nothing_published, event, fresh_phone, ok


def masked(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


def served(peer: Peer, phone: str, window: str = "1", clerk: str = "c01") -> str:
    """A citizen served and finished at ``window``; the ticket number."""
    login = peer.command(window, "login", clerk=clerk)
    assert login["ok"] or login["error"]["code"] == "wrong_state", login
    number = ok(peer.ticket(phone=phone))["ticket"]["number"]
    ok(peer.command(window, "next"))
    ok(peer.command(window, "complete"))
    return number


def offer(peer: Peer, phone: str, after: int = 0) -> dict:
    """The next text offered to ``phone`` on sms/outbox after message number ``after``."""
    topic = peer.topics.sms_outbox
    found = peer.heard.wait_for(lambda m: m.topic == topic and json.loads(m.payload)["phone"] == phone, after=after)
    return json.loads(found.payload)


def offers(peer: Peer, after: int = 0) -> list[str]:
    return [json.loads(m.payload)["id"] for m in peer.heard.messages[after:] if m.topic == peer.topics.sms_outbox]


def confirm(peer: Peer, sms_id: str, ok_: bool = True, error: dict | None = None) -> None:
    peer.publish(peer.topics.sms_sent, {"id": sms_id, "ok": ok_, **({"error": error} if error else {})})


def inbox(peer: Peer, text: str, phone: str, request_id: str | None = None) -> dict:
    payload = {"request_id": request_id or uuid.uuid4().hex, "phone": phone, "text": text,
               "received_at": "2026-11-27T09:30:00+08:00"}
    return peer.request(peer.topics.sms_inbox, payload, timeout=5)


def outbox_rows(db: str) -> dict[str, tuple]:
    conn = sqlite3.connect(db)
    try:
        return {r[0]: r[1:] for r in conn.execute("SELECT sms_id, status, error FROM sms_outbox")}
    finally:
        conn.close()


def test_a_text_is_offered_after_the_commit_and_again_until_sent(hall, peer, clock):
    phone = fresh_phone()
    served(peer, phone)
    first = offer(peer, phone)
    assert first["text"].startswith("【测试行政服务中心】") and first["id"].startswith(f"{hall.config.site.id}-")
    mark = peer.heard.mark()
    clock.advance(seconds=60)
    assert offer(peer, phone, mark) == first  # nobody confirmed it: offered again
    confirm(peer, first["id"])
    other = fresh_phone()
    served(peer, other)  # after the confirmation, in the controller's order
    second = offer(peer, other)
    mark = peer.heard.mark()
    clock.advance(seconds=61)
    assert offer(peer, other, mark) == second
    assert first["id"] not in offers(peer, mark)
    assert outbox_rows(hall.config.storage.db)[first["id"]] == ("sent", None)


def test_a_text_the_bridge_gave_up_on_is_failed_and_logged(hall, peer, caplog):
    caplog.set_level(logging.WARNING)
    phone = fresh_phone()
    served(peer, phone)
    text = offer(peer, phone)
    confirm(peer, text["id"], ok_=False, error={"code": "rejected", "message": "CMS ERROR 500"})
    confirm(peer, "nobody-000000-1")  # an id the hall never gave: logged, ignored
    served(peer, fresh_phone(), window="2", clerk="c02")  # applied after both
    kept = outbox_rows(hall.config.storage.db)[text["id"]]
    assert kept == ("failed", '{"code": "rejected", "message": "CMS ERROR 500"}')
    assert f"gave up on text {text['id']}: rejected CMS ERROR 500" in caplog.text
    assert "unknown id nobody-000000-1" in caplog.text
    assert phone not in caplog.text


def test_a_restarted_controller_offers_unsent_texts_again(hall_config, clock, peer):
    running = RunningHall(hall_config, clock).start(peer)
    phone = fresh_phone()
    try:
        served(peer, phone)
        text = offer(peer, phone)
    finally:
        running.stop()
    mark = peer.heard.mark()
    running.start(peer)
    try:
        assert offer(peer, phone, mark) == text
    finally:
        running.stop()


def test_a_reply_over_the_bus_and_its_resend_are_recorded_once(hall, peer):
    phone = fresh_phone()
    number = served(peer, phone)
    reply = inbox(peer, "1", phone, request_id="modem-0001")
    assert reply == {"ok": True, "result": "rated", "rating": "satisfied"}
    again = assert_nothing_published(peer, lambda p: inbox(p, "1", phone, request_id="modem-0001"))
    assert again == reply
    evaluated = peer.heard.payloads(peer.topics.event("evaluated"))
    assert [(e["ticket"], e["rating"], e["window"], e["clerk"]) for e in evaluated] == [
        (number, "satisfied", "1", "c01")]


def test_unsatisfied_reaches_the_supervisor_as_a_complaint(hall, peer):
    phone = fresh_phone()
    number = served(peer, phone, window="6", clerk="c05")
    assert inbox(peer, "【3】办了两个小时还没好", phone)["rating"] == "unsatisfied"
    complaint = event(peer, "complaint", ticket=number)
    assert {k: complaint[k] for k in ("window", "clerk", "dept", "item", "rating", "phone", "text")} == {
        "window": "6", "clerk": "c05", "dept": "02", "item": "0202", "rating": "unsatisfied",
        "phone": masked(phone), "text": "【3】办了两个小时还没好"}


def test_a_text_that_is_no_rating_gets_the_help_text_once(hall, peer):
    phone = fresh_phone()
    served(peer, phone)
    offer(peer, phone)
    mark = peer.heard.mark()
    assert inbox(peer, "你好", phone) == {"ok": True, "result": "help"}
    assert "回复TD退订" in offer(peer, phone, mark)["text"]
    mark = peer.heard.mark()
    assert inbox(peer, "自动回复：我正在开会", phone) == {"ok": True, "result": "no_reply"}
    assert inbox(peer, "TD", phone) == {"ok": True, "result": "opted_out"}
    assert offer(peer, phone, mark)["text"] == "【测试行政服务中心】您已退订评价短信。"  # the first since the help


def withdrawn(peer: Peer, after: int = 0) -> list[str]:
    """The ids offered on sms/cancel after message number ``after``, in order."""
    return [sms_id for m in peer.heard.messages[after:] if m.topic == peer.topics.sms_cancel
            for sms_id in json.loads(m.payload)["ids"]]


def cancel_of(peer: Peer, sms_id: str, after: int = 0) -> dict:
    """The next sms/cancel naming ``sms_id`` after message number ``after``."""
    topic = peer.topics.sms_cancel
    found = peer.heard.wait_for(lambda m: m.topic == topic and sms_id in json.loads(m.payload)["ids"], after=after)
    return json.loads(found.payload)


def test_td_withdraws_unsent_texts_from_the_bridge_until_it_answers(hall, peer, clock):
    phone = fresh_phone()
    served(peer, phone)
    text = offer(peer, phone)
    mark = peer.heard.mark()
    assert inbox(peer, "TD", phone) == {"ok": True, "result": "opted_out"}
    assert cancel_of(peer, text["id"], mark) == {"ids": [text["id"]]}  # right after the commit
    confirmation = offer(peer, phone, mark)
    assert confirmation["text"] == "【测试行政服务中心】您已退订评价短信。"
    assert event(peer, "sms_opted_out")["cancelled"] == 1

    mark = peer.heard.mark()
    clock.advance(seconds=61)  # nobody answered either: both are offered again, each on its topic
    assert cancel_of(peer, text["id"], mark) == {"ids": [text["id"]]}
    assert offer(peer, phone, mark) == confirmation  # the same tick offers the cancels first
    assert text["id"] not in offers(peer, mark)  # the withdrawn text itself: never again

    confirm(peer, text["id"], ok_=False, error={"code": "cancelled", "message": "cancelled before it was sent"})
    served(peer, fresh_phone(), window="2", clerk="c02")  # applied after the bridge's answer
    mark = peer.heard.mark()
    clock.advance(seconds=61)
    assert offer(peer, phone, mark) == confirmation
    assert withdrawn(peer, mark) == []  # answered: no more cancels
    assert outbox_rows(hall.config.storage.db)[text["id"]] == ("cancelled", None)
    cancels = [m.payload.decode() for m in peer.heard.messages if m.topic == peer.topics.sms_cancel]
    assert cancels and not any(phone in c for c in cancels)  # ids only: no number leaves on this topic


def test_a_restarted_controller_offers_unanswered_cancels_again(hall_config, clock, peer):
    running = RunningHall(hall_config, clock).start(peer)
    phone = fresh_phone()
    try:
        served(peer, phone)
        text = offer(peer, phone)
        ok(inbox(peer, "TD", phone))
        cancel_of(peer, text["id"])
    finally:
        running.stop()
    mark = peer.heard.mark()
    running.start(peer)
    try:
        assert cancel_of(peer, text["id"], mark) == {"ids": [text["id"]]}
        confirm(peer, text["id"])  # it had gone out before the bridge heard: the bridge's word counts
        served(peer, fresh_phone(), window="2", clerk="c02")
        assert outbox_rows(hall_config.storage.db)[text["id"]] == ("sent", None)
    finally:
        running.stop()


@pytest.mark.parametrize(("payload", "code"), [
    pytest.param(b"not json", "bad_json", id="not-json"),
    pytest.param({"request_id": "x1", "text": "1", "received_at": "2026-11-27T09:30:00+08:00"}, "bad_request",
                 id="no-phone"),
    pytest.param({"request_id": "x2", "phone": "13812345678", "text": "1", "received_at": "2026-11-27T09:30:00+08:00",
                  "extra": 1}, "bad_request", id="unknown-field"),
    pytest.param({"request_id": "x3", "phone": "13812345678", "text": "1", "received_at": "yesterday"}, "bad_request",
                 id="bad-received-at"),
    pytest.param({"request_id": "x4", "phone": "13812345678", "text": 1, "received_at": "2026-11-27T09:30:00+08:00"},
                 "bad_request", id="text-a-number"),
])
def test_a_malformed_inbox_message_is_refused_and_changes_nothing(hall, peer, payload, code):
    mark = peer.heard.mark()
    reply = assert_nothing_published(peer, lambda p: p.request(p.topics.sms_inbox, payload, timeout=5))
    assert reply["ok"] is False and reply["error"]["code"] == code
    assert offers(peer, mark) == []


def test_the_controller_reports_last_month_on_the_first(hall_config, peer):
    clock = FakeClock(datetime(2026, 11, 30, 15, 40, tzinfo=timezone.utc))  # 23:40 in Chongqing
    running = RunningHall(hall_config, clock).start(peer)
    topic = peer.topics.report("2026-11")
    try:
        phone = fresh_phone()
        served(peer, phone)
        ok(inbox(peer, "2", phone))
        clock.advance(minutes=20, seconds=1)  # 00:00:01 on 1 December
        preliminary = json.loads(peer.heard.wait_for(lambda m: m.topic == topic, timeout=10).payload)
        mark = peer.heard.mark()
        clock.advance(hours=72)
        final = json.loads(peer.heard.wait_for(lambda m: m.topic == topic, timeout=10, after=mark).payload)
    finally:
        running.stop()
    assert (preliminary["month"], preliminary["final"], final["final"]) == ("2026-11", False, True)
    assert preliminary["made_at"] == "2026-12-01T00:00:01+08:00"
    hall_row = final["hall"]
    assert (hall_row["issued"], hall_row["served"], hall_row["eval_answered"], hall_row["basic"]) == (1, 1, 1, 1)
    assert hall_row["score"] == 60
    assert [d["id"] for d in final["departments"]] == ["02", "05", "06"]
    folder = Path(hall_config.reports.folder)
    site = hall_config.site.id
    assert final["files"] == {"csv": f"{site}-2026-11.csv", "xlsx": f"{site}-2026-11.xlsx"}
    assert sorted(p.name for p in folder.iterdir()) == sorted(final["files"].values())
    retained = Peer(peer.port, peer.topics)  # what a dashboard switched on now receives
    try:
        assert json.loads(retained.heard.wait_for(lambda m: m.topic == topic and m.retain).payload) == final
    finally:
        retained.stop()
