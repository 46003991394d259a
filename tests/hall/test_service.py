"""The hall controller over a real mosquitto: protocol v1 as a kiosk, a call-pad or a wall sees it."""

from __future__ import annotations

import itertools
import json
import logging
import uuid
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus.codes import ErrorCode
from bus.topics import EVENT_TYPES
from tests.conftest import Peer

PHONE, MASKED = "13812345678", "138****5678"
STATE_ROOTS = ("hall", "queues", "calls", "cards", "events")
_phones = itertools.count(1)


def fresh_phone() -> str:
    return f"139{next(_phones):08d}"


def ok(reply: dict) -> dict:
    assert reply["ok"] is True, reply
    return reply


def published(peer: Peer, topic: str) -> bool:
    """A retained state or event topic, as opposed to a request or a reply."""
    levels = peer.topics.parse(topic)
    return levels[0] in STATE_ROOTS or (levels[0] == "windows" and len(levels) == 2)


def event(peer: Peer, kind: str, after: int = 0, **fields: object) -> dict:
    topic = peer.topics.event(kind)
    found = peer.heard.wait_for(
        lambda m: m.topic == topic and all(json.loads(m.payload).get(k) == v for k, v in fields.items()), after=after
    )
    return json.loads(found.payload)


def state(peer: Peer, topic: str, predicate=lambda s: True, since: int = 0) -> dict:
    """The first state on ``topic`` matching ``predicate`` heard after message number ``since``."""
    found = peer.heard.wait_for(lambda m: m.topic == topic and predicate(json.loads(m.payload)), after=since)
    return json.loads(found.payload)


def probe(peer: Peer) -> int:
    """A good request; returns where its first publication sits in what ``peer`` heard,
    after all of its publications have arrived."""
    reply = ok(peer.ticket(dept="06", item="0601", phone=fresh_phone()))["ticket"]
    first = peer.heard.wait_for(lambda m: m.topic == peer.topics.event("ticket_issued")
                                and json.loads(m.payload)["ticket"] == reply["number"])
    state(peer, peer.topics.queue("06"), lambda s: s["waiting"] == reply["ahead"] + 1)
    return peer.heard.messages.index(first)


def assert_nothing_published(peer: Peer, send) -> dict:
    """Send something, then a good request: nothing is published in between,
    so no retained state or event changed; the controller still answers."""
    # Everything before is settled: the first probe's state comes in the same
    # flush as any state still pending, and the second probe's event comes after it.
    probe(peer)
    probe(peer)
    mark = peer.heard.mark()
    reply = send(peer)
    until = probe(peer)
    assert [m.topic for m in peer.heard.messages[mark:until] if published(peer, m.topic)] == []
    return reply


def serving(peer: Peer, window: str = "1", clerk: str = "c01", item: str = "0202", dept: str = "02") -> str:
    ok(peer.command(window, "login", clerk=clerk))
    number = ok(peer.ticket(dept=dept, item=item, phone=fresh_phone()))["ticket"]["number"]
    assert ok(peer.command(window, "next"))["ticket"]["number"] == number
    return number


def raw(where: str, payload: bytes | dict):
    def send(peer: Peer) -> dict:
        topic = {"kiosk": peer.topics.kiosk_request("k1"), "window": peer.topics.window_command("1")}[where]
        return peer.request(topic, payload, timeout=5)
    return send


TICKET = {"request_id": "r1", "action": "ticket", "dept": "02", "item": "0202", "phone": PHONE}
ERRORS = [  # (name, setup, send, code)
    ("not-json", None, raw("kiosk", b"ticket please"), "bad_json"),
    ("not-utf8", None, raw("window", b'{"request_id": "\xff\xfe", "action": "next"}'), "bad_json"),
    ("json-array", None, raw("kiosk", b'[{"action": "ticket"}]'), "bad_json"),
    ("request-id-a-number", None, raw("kiosk", {**TICKET, "request_id": 17}), "bad_request"),
    ("dept-a-number", None, raw("kiosk", {**TICKET, "dept": 2}), "bad_request"),
    ("unknown-field", None, lambda p: p.ticket(tikcet="02001"), "bad_request"),
    ("missing-phone", None, raw("kiosk", {k: v for k, v in TICKET.items() if k != "phone"}), "bad_request"),
    ("login-without-clerk", None, lambda p: p.command("1", "login"), "bad_request"),
    ("unknown-action", None, lambda p: p.command("1", "dance"), "unknown_action"),
    ("wrong-action-for-kiosk", None, lambda p: p.ticket(action="next"), "unknown_action"),
    ("one-megabyte", None, raw("kiosk", json.dumps({**TICKET, "item": "x" * 2**20}).encode()), "bad_request"),
    ("misspelt-topic", None, lambda p: p.request(f"{p.topics.root}/kiosks/k1/requets", TICKET, timeout=5),
     "unknown_topic"),
    ("misspelt-kind", None, lambda p: p.request(f"{p.topics.root}/kiosk/k1/request", TICKET, timeout=5),
     "unknown_topic"),
    ("topic-too-deep", None, lambda p: p.request(f"{p.topics.root}/windows/1/command/x", {}, timeout=5),
     "unknown_topic"),
    ("unknown-window", None, lambda p: p.command("99", "login", clerk="c01"), "unknown_window"),
    ("unknown-dept", None, lambda p: p.ticket(dept="99"), "unknown_dept"),
    ("transfer-to-unknown-dept", serving, lambda p: p.command("1", "transfer", dept="99"), "unknown_dept"),
    ("item-of-another-dept", None, lambda p: p.ticket(item="0501"), "unknown_item"),
    ("unknown-clerk", None, lambda p: p.command("1", "login", clerk="c99"), "unknown_clerk"),
    ("unknown-ticket", serving, lambda p: p.command("1", "requeue", ticket="02999"), "unknown_ticket"),
    ("unknown-case", serving, lambda p: p.command("1", "case_done", case="20261127-02999"), "unknown_case"),
    ("bad-phone", None, lambda p: p.ticket(phone="12345"), "bad_phone"),
    ("limit-reached", lambda p: [ok(p.ticket()) for _ in range(3)], lambda p: p.ticket(), "limit_reached"),
    ("not-logged-in", None, lambda p: p.command("1", "next"), "not_logged_in"),
    ("no-waiting", lambda p: ok(p.command("1", "login", clerk="c01")), lambda p: p.command("1", "next"), "no_waiting"),
    ("complete-serving-nobody", lambda p: ok(p.command("1", "login", clerk="c01")),
     lambda p: p.command("1", "complete"), "wrong_state"),
    ("next-while-serving", serving, lambda p: p.command("1", "next"), "wrong_state"),
    ("accept-an-immediate-item", serving, lambda p: p.command("1", "accept"), "wrong_state"),
    ("login-taken-window", serving, lambda p: p.command("1", "login", clerk="c02"), "wrong_state"),
]


@pytest.mark.parametrize(("setup", "send", "code"), [pytest.param(s, f, c, id=n) for n, s, f, c in ERRORS])
def test_error_reply_changes_nothing(hall, peer, setup, send, code):
    if setup:
        setup(peer)
    reply = assert_nothing_published(peer, send)
    assert reply["ok"] is False
    assert reply["error"]["code"] == code
    assert reply["error"]["message"]


def retained(broker, peer: Peer) -> dict[str, bytes]:
    """What a screen switched on now receives."""
    fresh = Peer(broker.port, peer.topics)
    try:
        fresh.command("99", "next")  # its reply comes after the retained messages
        return {m.topic: m.payload for m in fresh.heard.messages if m.retain}
    finally:
        fresh.stop()


def test_request_without_response_topic_changes_nothing(broker, hall, peer):
    serving(peer)
    probe(peer)  # what serving() published has reached the broker
    before = retained(broker, peer)
    root = peer.topics.root

    def fire_and_forget(p: Peer) -> None:
        p.publish(p.topics.kiosk_request("k1"), {**TICKET, "request_id": uuid.uuid4().hex})
        p.publish(p.topics.window_command("1"), {"request_id": uuid.uuid4().hex, "action": "complete"})
        p.publish(p.topics.window_command("1"), b"\x00not json")
        p.publish(f"{root}/kiosks/k1/requets", TICKET)

    assert_nothing_published(peer, fire_and_forget)
    assert {t: p for t, p in retained(broker, peer).items() if "/queues/06" not in t} == {
        t: p for t, p in before.items() if "/queues/06" not in t}


def test_kiosk_ticket_request(hall, peer):
    first = ok(peer.ticket(phone="+86 138-1234-5678"))["ticket"]
    second = ok(peer.ticket(dept="02", item="0201", phone=fresh_phone()))["ticket"]
    assert first["number"] == "02001" and second["number"] == "02002"
    assert (first["dept"], first["item"], first["ahead"], second["ahead"]) == ("02", "0202", 0, 1)
    assert first["phone"] == MASKED
    assert datetime.fromisoformat(first["issued_at"]).utcoffset() == timedelta(hours=8)
    assert isinstance(second["est_wait_s"], int) and second["est_wait_s"] > 0
    issued = event(peer, "ticket_issued", ticket="02001")
    assert (issued["dept"], issued["phone"]) == ("02", MASKED)


def full_day(peer: Peer, clock) -> dict[str, dict]:
    """Every window action once, with the event each one publishes."""
    r: dict[str, dict] = {}
    promised = ok(peer.ticket(item="0201", phone=PHONE))["ticket"]["number"]
    immediate = ok(peer.ticket(item="0202", phone="+86 138 1234 5678"))["ticket"]["number"]
    market = ok(peer.ticket(dept="05", item="0501", phone=PHONE))["ticket"]["number"]
    r["login"] = ok(peer.command("1", "login", clerk="c01"))
    event(peer, "window_login", window="1", clerk="c01")
    steps = [
        ("next", {}, "called", promised), ("recall", {}, "recalled", promised),
        ("accept", {}, "accepted", promised), ("next", {}, "called", immediate),
        ("skip", {}, "skipped", immediate), ("requeue", {"ticket": immediate}, "requeued", immediate),
        ("next", {}, "called", immediate), ("transfer", {"dept": "06", "item": "0601"}, "transferred", immediate),
    ]
    for action, fields, kind, number in steps:
        mark = peer.heard.mark()
        r[action] = ok(peer.command("1", action, **fields))
        event(peer, kind, mark, ticket=number, window="1")
    case = r["accept"]["case"]["id"]
    r["case_done"] = ok(peer.command("1", "case_done", case=case))
    event(peer, "case_done", case=case)
    for action, kind in (("pause", "window_paused"), ("resume", "window_resumed"), ("logout", "window_logout")):
        r[action] = ok(peer.command("1", action))
        event(peer, kind, window="1")
    ok(peer.command("5", "login", clerk="c03"))
    assert ok(peer.command("5", "next"))["ticket"]["number"] == immediate  # transferred: same number, in front
    ok(peer.command("2", "login", clerk="c02"))
    assert ok(peer.command("2", "next"))["ticket"]["number"] == market
    clock.advance(seconds=200)  # past twice the 90 s limit of item 0501
    event(peer, "card", ticket=market, level="red")
    mark = peer.heard.mark()
    r["complete"] = ok(peer.command("2", "complete"))
    event(peer, "completed", ticket=market, window="2")
    r["complete5"] = ok(peer.command("5", "complete"))
    event(peer, "completed", ticket=immediate, window="5")
    state(peer, peer.topics.active_cards, lambda s: s["cards"] == [], since=mark)
    # The citizen of 02002, served last, answers the evaluation text (the bridge stands in).
    r["sms"] = ok(peer.request(peer.topics.sms_inbox, {"request_id": "bridge-1", "phone": "+8613812345678",
                                                         "text": "3 窗口态度不好", "received_at": clock().isoformat()},
                               timeout=5))
    event(peer, "complaint", ticket=immediate, window="5", clerk="c03")
    r["td"] = ok(peer.request(peer.topics.sms_inbox, {"request_id": "bridge-2", "phone": "+8613812345678",
                                                        "text": "TD", "received_at": clock().isoformat()}, timeout=5))
    event(peer, "sms_opted_out", phone=MASKED)
    probe(peer)  # everything the day published has arrived
    return r


def test_every_window_action(hall, peer, clock):
    r = full_day(peer, clock)
    assert r["login"]["window"]["status"] == "open" and r["login"]["window"]["clerk"] == "c01"
    assert r["next"]["ticket"]["number"] == "02002" and r["next"]["window"]["serving"]["ticket"] == "02002"
    assert r["recall"]["ticket"]["recalls"] == 1
    assert r["accept"]["case"]["id"] == "20261127-02001"
    assert r["accept"]["case"]["due_date"] == "2026-12-04"  # five working days after a Friday
    assert r["accept"]["ticket"]["status"] == "accepted" and r["accept"]["window"]["serving"] is None
    assert r["skip"]["ticket"]["status"] == "skipped" and r["requeue"]["ticket"]["status"] == "waiting"
    assert r["transfer"]["ticket"]["dept"] == "06" and r["transfer"]["window"]["serving"] is None
    assert r["case_done"]["case"] == {"id": "20261127-02001", "on_time": True}
    assert [r[a]["window"]["status"] for a in ("pause", "resume", "logout")] == ["paused", "open", "closed"]
    assert r["logout"]["window"]["clerk"] is None
    assert r["complete"]["ticket"]["status"] == "completed" and r["complete"]["ticket"]["number"] == "05001"
    assert r["sms"] == {"ok": True, "result": "rated", "rating": "unsatisfied"}


def test_events_are_ordered_and_timed(hall, peer, clock):
    full_day(peer, clock)
    events = [m for m in peer.heard.messages if peer.topics.parse(m.topic)[0] == "events"]
    bodies = [json.loads(m.payload) for m in events]
    day_boundary = {"tickets_expired", "phones_erased"}  # at midnight: tests/hall/test_supervision.py, test_evaluation.py
    assert {b["type"] for b in bodies} == set(EVENT_TYPES) - day_boundary
    assert all(m.topic == peer.topics.event(b["type"]) and not m.retain for m, b in zip(events, bodies))
    seqs = [b["seq"] for b in bodies]
    assert seqs == list(range(1, len(seqs) + 1))  # one by one, no gap: a gap would mean a lost event
    assert all(datetime.fromisoformat(b["at"]).utcoffset() == timedelta(hours=8) for b in bodies)
    assert all(isinstance(b["ticket"], str) for b in bodies if b["type"] not in ("case_done", "window_login",
               "window_logout", "window_paused", "window_resumed", "sms_opted_out"))
    assert {b["level"] for b in bodies if b["type"] == "card"} == {"yellow", "red"}


def test_full_phone_number_only_in_requests(hall, peer, clock, caplog):
    caplog.set_level(logging.DEBUG)
    full_day(peer, clock)
    everything = [(m.topic, m.payload.decode("utf-8")) for m in peer.heard.messages]
    sms = {peer.topics.sms_outbox, peer.topics.sms_inbox}
    requests = {t for t, _ in everything if t.startswith(f"{peer.topics.root}/kiosks/") or t in sms}
    assert requests and any(PHONE in p for t, p in everything if t in requests)  # the test sees it where it is
    assert any(PHONE in p for t, p in everything if t == peer.topics.sms_outbox)  # the evaluation texts
    assert [t for t, p in everything if t not in requests and PHONE in p] == []
    assert [t for t, p in everything if t not in requests and "1234 5678" in p] == []
    shown = {t for t, p in everything if MASKED in p}
    assert peer.topics.event("ticket_issued") in shown and peer.topics.event("complaint") in shown
    assert any(t.startswith(f"{peer.topics.root}/replies/") for t in shown)
    assert PHONE not in caplog.text


def test_retained_hall_and_queue_state(hall, peer):
    assert peer.heard.wait_for(lambda m: m.topic == peer.topics.hall_status).payload == b"online"
    numbers = [ok(peer.ticket(phone=fresh_phone()))["ticket"]["number"] for _ in range(7)]
    queue = state(peer, peer.topics.queue("02"), lambda s: s["waiting"] == 7)
    assert queue["dept"] == "02" and queue["name"] == "国土资源局"
    assert queue["next"] == numbers[:5] == ["02001", "02002", "02003", "02004", "02005"]
    assert isinstance(queue["est_wait_s"], int) and queue["est_wait_s"] > 0
    empty = state(peer, peer.topics.queue("05"))
    assert (empty["waiting"], empty["next"], empty["est_wait_s"]) == (0, [], 0)


def test_retained_window_state(hall, peer, clock):
    closed = state(peer, peer.topics.window("2"))
    assert closed | {"name": None, "floor": None, "clerk_name": None} == {
        "window": "2", "status": "closed", "clerk": None, "depts": ["02", "05"], "serving": None,
        "name": None, "floor": None, "clerk_name": None}
    number = serving(peer, window="2", clerk="c02")
    shown = state(peer, peer.topics.window("2"), lambda s: s["serving"] is not None)
    assert shown["status"] == "open" and shown["clerk"] == "c02"
    assert shown["serving"] | {"called_at": None} == {
        "ticket": number, "dept": "02", "item": "0202", "called_at": None, "limit_s": 600, "card": "none"}
    assert datetime.fromisoformat(shown["serving"]["called_at"]) == clock()


def test_recent_calls_newest_first_ten_at_most(hall, peer):
    ok(peer.command("1", "login", clerk="c01"))
    numbers = [ok(peer.ticket(phone=fresh_phone()))["ticket"]["number"] for _ in range(12)]
    for _ in numbers:
        ok(peer.command("1", "next"))
        ok(peer.command("1", "complete"))
    recent = state(peer, peer.topics.recent_calls, lambda s: s["calls"] and s["calls"][0]["ticket"] == "02012")
    assert [c["ticket"] for c in recent["calls"]] == numbers[::-1][:10]
    assert {c["window"] for c in recent["calls"]} == {"1"}


def test_cards_yellow_then_red(hall, peer, clock):
    number = serving(peer, window="3", clerk="c03", dept="05", item="0501")  # limit 90 s
    cards = peer.topics.active_cards
    assert state(peer, cards)["cards"] == []
    clock.advance(seconds=91)
    yellow = state(peer, cards, lambda s: s["cards"])["cards"]
    assert [(c["level"], c["ticket"], c["window"], c["clerk"], c["dept"]) for c in yellow] == [
        ("yellow", number, "3", "c03", "05")]
    carded = state(peer, peer.topics.window("3"), lambda s: s["serving"] and s["serving"]["card"] != "none")
    assert carded["serving"]["card"] == "yellow"
    assert event(peer, "card", ticket=number)["level"] == "yellow"
    clock.advance(seconds=90)  # 181 s: past twice the limit
    red = state(peer, cards, lambda s: s["cards"] and s["cards"][0]["level"] == "red")["cards"]
    assert [(c["level"], c["ticket"]) for c in red] == [("red", number)]  # replaces the yellow one
    assert red[0]["overdue_s"] >= 91
    assert state(peer, peer.topics.window("3"), lambda s: s["serving"] and s["serving"]["card"] == "red")
    event(peer, "card", ticket=number, level="red")
    mark = peer.heard.mark()
    ok(peer.command("3", "complete"))
    state(peer, cards, lambda s: s["cards"] == [], since=mark)


def test_todays_cards_are_counted_for_a_screen_that_joins_late_and_start_again_at_midnight(broker, hall, peer, clock):
    today = peer.topics.cards_today
    assert state(peer, today) == {"day": clock().date().isoformat(), "yellow": 0, "red": 0, "depts": []}
    number = serving(peer, window="3", clerk="c03", dept="05", item="0501")  # limit 90 s
    clock.advance(seconds=181)  # past red: yellow and red earned
    event(peer, "card", ticket=number, level="red")
    counted = {"day": clock().date().isoformat(), "yellow": 1, "red": 1,
               "depts": [{"dept": "05", "yellow": 1, "red": 1}]}
    assert state(peer, today, lambda s: s["red"] == 1) == counted
    mark = peer.heard.mark()
    ok(peer.command("3", "complete"))
    state(peer, peer.topics.active_cards, lambda s: s["cards"] == [], since=mark)
    # Closed cards stay counted: a screen that starts now, and heard none of it, gets them retained.
    assert json.loads(retained(broker, peer)[today]) == counted
    clock.advance(days=1)
    midnight = state(peer, today, lambda s: s["day"] != counted["day"])
    assert midnight == {"day": clock().date().isoformat(), "yellow": 0, "red": 0, "depts": []}


def test_new_subscriber_receives_retained_state(broker, hall, peer, clock):
    full_day(peer, clock)
    probe(peer)
    now = retained(broker, peer)
    topics = peer.topics
    expected = [topics.hall_status, topics.recent_calls, topics.active_cards, topics.cards_today]
    expected += [topics.queue(d) for d in ("02", "05", "06")] + [topics.window(w) for w in ("1", "2", "3", "5", "6")]
    assert set(expected) <= set(now)
    assert now[topics.hall_status] == b"online"
    for topic in expected[1:]:
        assert json.loads(now[topic]) == peer.heard.latest(topic)


def test_same_request_id_same_answer_one_ticket(hall, peer):
    request = {**TICKET, "request_id": "kiosk-k1-0001"}
    first = ok(peer.request(peer.topics.kiosk_request("k1"), request, timeout=5))
    again = assert_nothing_published(peer, lambda p: p.request(p.topics.kiosk_request("k1"), request, timeout=5))
    assert again == first
    assert peer.heard.latest(peer.topics.queue("02"))["waiting"] == 1
    ok(peer.command("1", "login", clerk="c01"))
    called = ok(peer.command("1", "next", request_id="pad-1-0001"))
    assert assert_nothing_published(peer, lambda p: p.command("1", "next", request_id="pad-1-0001")) == called
    issued = peer.heard.payloads(peer.topics.event("ticket_issued"))
    assert [e["ticket"] for e in issued if e["dept"] == "02"] == ["02001"]
    assert len(peer.heard.payloads(peer.topics.event("called"))) == 1


def check_reply(reply: dict, kind: str) -> None:
    """Either a well-formed refusal or a well-formed success, nothing in between."""
    if not reply["ok"]:
        assert reply == {"ok": False, "error": reply["error"]} and reply["error"]["message"]
        assert reply["error"]["code"] in {str(code) for code in ErrorCode}
    elif kind == "kiosk":
        assert reply["ok"] is True and reply["ticket"]["number"].startswith("02")
    else:
        assert reply["ok"] is True and reply["window"]["window"] == "1"


SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
FIELDS = st.sampled_from(["request_id", "action", "dept", "item", "phone", "clerk", "ticket", "case", "x"])
LIKELY = st.sampled_from(["ticket", "login", "next", "complete", "pause", "02", "0202", "c01", PHONE, "02001"])
OBJECTS = st.builds(lambda rid, fields: {"request_id": rid.hex, **fields},
                    st.uuids(), st.dictionaries(FIELDS, LIKELY | JSON_VALUES, max_size=7))
FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(kind=st.sampled_from(["kiosk", "window"]), payload=st.binary(max_size=200))
def test_random_bytes_get_an_answer(hall, peer, kind, payload):
    check_reply(raw(kind, payload)(peer), kind)
    assert hall.thread.is_alive()


@FUZZ
@given(kind=st.sampled_from(["kiosk", "window"]), payload=OBJECTS)
def test_random_json_objects_get_an_answer(hall, peer, kind, payload):
    check_reply(raw(kind, payload)(peer), kind)
    assert hall.thread.is_alive()
    ok(peer.ticket(dept="06", item="0601", phone=fresh_phone()))
