"""The queue engine driven directly: numbers, window actions, refusals, idempotency, order."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bus.codes import ErrorCode
from hall.numbering import next_number
from hall.state import queue_state
from tests.hall.engine_harness import (
    MASKED,
    PHONE,
    T0,
    assert_has,
    code,
    hall,  # noqa: F401  (the fixture every test here uses)
    number,
    ok,
    phones,
)


# -- numbers ------------------------------------------------------------------
def test_numbers_count_per_department(hall):
    issued = [("02", "0202"), ("02", "0201"), ("05", "0501"), ("02", "0202"), ("06", "0601")]
    assert [number(hall.ticket(dept=d, item=i)) for d, i in issued] == ["02001", "02002", "05001", "02003", "06001"]


def test_numbering_restarts_at_local_midnight(hall):
    hall.now = datetime(2026, 11, 27, 15, 59, 59, tzinfo=timezone.utc)  # 23:59:59 in Chongqing
    assert [number(hall.ticket(phone=p)) for p in phones(2)] == ["02001", "02002"]
    hall.now = datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)  # midnight: 28 November
    assert number(hall.ticket(phone="13700000000")) == "02001"
    assert hall.rows("SELECT day, number FROM tickets ORDER BY id") == [
        ("2026-11-27", "02001"), ("2026-11-27", "02002"), ("2026-11-28", "02001")]


def test_numbers_widen_past_999_rather_than_refuse(hall):
    with hall.db.atomic():
        for _ in range(998):
            next_number(hall.db, "2026-11-27", "02")
    assert [number(hall.ticket(phone=p)) for p in phones(3)] == ["02999", "021000", "021001"]


def test_numbers_are_not_reused_after_a_restart(hall):
    assert [number(hall.ticket(phone=p)) for p in phones(2)] == ["02001", "02002"]
    hall.restart()
    hall.serve(phone="13700000000")
    ok(hall.cmd("1", "complete"))
    hall.restart()
    assert number(hall.ticket()) == "02004"
    assert len(set(hall.rows("SELECT number FROM tickets"))) == 4


# -- window actions -------------------------------------------------------------
def test_login_pause_resume_logout_move_the_window(hall):
    steps = [("login", {"clerk": "c01"}, "open", "c01", "window_login"),
             ("login", {"clerk": "c01"}, "open", "c01", "window_login"),  # the pad asked again: already so
             ("pause", {}, "paused", "c01", "window_paused"),
             ("resume", {}, "open", "c01", "window_resumed"),
             ("logout", {}, "closed", None, "window_logout")]
    for action, fields, status, clerk, event in steps:
        window = ok(hall.cmd("2", action, **fields))["window"]
        assert (window["window"], window["status"], window["clerk"], window["serving"]) == ("2", status, clerk, None)
        assert window["depts"] == ["02", "05"]
        assert (hall.events[-1]["type"], hall.events[-1]["window"]) == (event, "2")
    assert [e["type"] for e in hall.events].count("window_login") == 1


def test_next_calls_the_ticket_and_starts_its_timer(hall):
    ok(hall.ticket(item="0201"))
    ok(hall.cmd("1", "login", clerk="c01"))
    hall.now = T0 + timedelta(minutes=3)
    reply = ok(hall.cmd("1", "next"))
    assert_has(reply["ticket"], {"number": "02001", "status": "serving", "window": "1",
                                  "called_at": "2026-11-27T09:03:00+08:00", "limit_s": 1200})
    assert_has(reply["window"]["serving"], {"ticket": "02001", "item": "0201", "limit_s": 1200, "card": "none"})
    assert_has(hall.events[-1], {"type": "called", "ticket": "02001", "window": "1", "clerk": "c01"})


@pytest.mark.parametrize("action, fields, status, still_serving, event, extra", [
    ("recall", {}, "serving", True, "recalled", {"recalls": 1}),
    ("skip", {}, "skipped", False, "skipped", {}),
    ("complete", {}, "completed", False, "completed", {}),
    ("accept", {}, "accepted", False, "accepted", {}),
    ("transfer", {"dept": "06"}, "waiting", False, "transferred", {"dept": "06", "item": None}),
])
def test_actions_on_the_ticket_being_served(hall, action, fields, status, still_serving, event, extra):
    served = hall.serve(item="0201")
    reply = ok(hall.cmd("1", action, **fields))
    assert_has(reply["ticket"], {"number": served, "status": status, **extra})
    assert reply["window"]["status"] == "open"
    assert (reply["window"]["serving"] is not None) == still_serving
    assert (hall.events[-1]["type"], hall.events[-1]["ticket"]) == (event, served)


# -- refusals -------------------------------------------------------------------
# Steps as (window, action, fields); window None is a kiosk taking a ticket.
OPEN = [("1", "login", {"clerk": "c01"})]
WAITING = [*OPEN, (None, "ticket", {})]
SERVING = [*WAITING, ("1", "next", {})]
PAUSED = [*OPEN, ("1", "pause", {})]
THREE = [(None, "ticket", {})] * 3
ACCEPTED = [*OPEN, (None, "ticket", {"item": "0201"}), ("1", "next", {}), ("1", "accept", {})]
CASE_DONE = [*ACCEPTED, ("1", "case_done", {"case": "20261127-02001"})]
AT_WINDOW_3 = [("3", "login", {"clerk": "c03"})]
SKIPPED = [*SERVING, ("1", "skip", {}), *AT_WINDOW_3]

REFUSALS = [  # steps before, the refused request (window, action, fields), code
    ([], None, "ticket", {"dept": "99"}, "unknown_dept"),
    ([], None, "ticket", {"item": "9999"}, "unknown_item"),
    ([], None, "ticket", {"item": "0501"}, "unknown_item"),  # an item of another department
    ([], None, "ticket", {"phone": "1381234567"}, "bad_phone"),
    ([], None, "ticket", {"phone": "138123456789"}, "bad_phone"),
    ([], None, "ticket", {"phone": "23812345678"}, "bad_phone"),
    ([], None, "ticket", {"phone": "12812345678"}, "bad_phone"),
    ([], None, "ticket", {"phone": "+1 138 1234 5678"}, "bad_phone"),
    ([], None, "ticket", {"phone": "138abcd5678"}, "bad_phone"),
    (THREE, None, "ticket", {"phone": "+86 138-1234-5678"}, "limit_reached"),
    ([], "99", "login", {"clerk": "c01"}, "unknown_window"),
    ([], "1", "login", {"clerk": "c99"}, "unknown_clerk"),
    ([], "1", "next", {}, "not_logged_in"),
    ([], "1", "complete", {}, "not_logged_in"),
    ([], "1", "logout", {}, "not_logged_in"),
    ([], "1", "pause", {}, "not_logged_in"),
    (OPEN, "1", "next", {}, "no_waiting"),
    (OPEN, "1", "complete", {}, "wrong_state"),
    (OPEN, "1", "recall", {}, "wrong_state"),
    (SERVING, "1", "next", {}, "wrong_state"),
    (PAUSED, "1", "next", {}, "wrong_state"),
    (SERVING, "1", "logout", {}, "wrong_state"),
    (SERVING, "1", "pause", {}, "wrong_state"),
    (PAUSED, "1", "pause", {}, "wrong_state"),
    (OPEN, "1", "resume", {}, "wrong_state"),
    (SERVING, "1", "accept", {}, "wrong_state"),  # 0202 is an immediate item
    (OPEN, "1", "login", {"clerk": "c02"}, "wrong_state"),  # another clerk is at window 1
    (OPEN, "2", "login", {"clerk": "c01"}, "wrong_state"),  # c01 is already at window 1
    (WAITING, "1", "requeue", {"ticket": "02001"}, "wrong_state"),  # waiting, not skipped
    (SKIPPED, "3", "requeue", {"ticket": "02001"}, "wrong_state"),  # window 3 does not serve 02
    (CASE_DONE, "1", "case_done", {"case": "2026112702001"}, "wrong_state"),  # done already
    ([*ACCEPTED, *AT_WINDOW_3], "3", "case_done", {"case": "20261127-02001"}, "wrong_state"),  # not 05's
    (OPEN, "1", "requeue", {"ticket": "02001"}, "unknown_ticket"),
    (OPEN, "1", "case_done", {"case": "20261127-02001"}, "unknown_case"),
    (SERVING, "1", "transfer", {"dept": "99"}, "unknown_dept"),
    (SERVING, "1", "transfer", {"dept": "05", "item": "0201"}, "unknown_item"),
    (SERVING, "1", "transfer", {"dept": "02"}, "bad_request"),  # it is there already
    ([], "1", "login", {}, "bad_request"),
    (SERVING, "1", "transfer", {}, "bad_request"),
    (OPEN, "1", "requeue", {}, "bad_request"),
    (OPEN, "1", "case_done", {}, "bad_request"),
]
# Codes only the MQTT service gives: the engine never sees such a request.
SERVICE_ONLY = {"bad_json", "unknown_topic", "unknown_action", "internal"}


def test_every_engine_error_code_is_exercised():
    assert {row[4] for row in REFUSALS} == {str(c) for c in ErrorCode} - SERVICE_ONLY


@pytest.mark.parametrize("steps, window, action, fields, expected", REFUSALS,
                         ids=[f"{r[4]}-{r[2]}-{i}" for i, r in enumerate(REFUSALS)])
def test_a_refused_request_changes_nothing(hall, steps, window, action, fields, expected):
    for step in steps:
        ok(hall.do(*step))
    before, events = hall.dump(), len(hall.events)
    hall.now += timedelta(seconds=30)
    reply = hall.do(window, action, fields)
    assert code(reply) == expected
    assert hall.dump() == before
    assert len(hall.events) == events


@pytest.mark.parametrize("typed", ["13812345678", "+86 138-1234-5678", "0086 13812345678", "138 1234 5678",
                                   "(138)1234-5678"])
def test_phone_forms_people_type_are_accepted(hall, typed):
    assert ok(hall.ticket(phone=typed))["ticket"]["phone"] == MASKED
    assert hall.rows("SELECT phone FROM tickets") == [(PHONE,)]


def test_three_waiting_tickets_per_phone_and_department(hall):
    assert [number(hall.ticket()) for _ in range(3)] == ["02001", "02002", "02003"]
    assert code(hall.ticket(item="0201")) == "limit_reached"
    assert number(hall.ticket(dept="05", item="0501")) == "05001"  # another department is fine
    ok(hall.cmd("1", "login", clerk="c01"))
    ok(hall.cmd("1", "next"))  # one of them is no longer waiting
    assert number(hall.ticket()) == "02004"


# -- idempotency ------------------------------------------------------------------
def test_a_repeated_request_id_gets_the_first_answer_and_changes_nothing(hall):
    first = ok(hall.ticket(rid="kiosk-1"))
    ok(hall.cmd("1", "login", clerk="c01", rid="pad-1"))
    called = ok(hall.cmd("1", "next", rid="pad-2"))
    before, events = hall.dump(), len(hall.events)
    for restart in (False, True):
        if restart:
            hall.restart()
        hall.now += timedelta(minutes=5)
        assert hall.ticket(rid="kiosk-1") == first
        assert hall.cmd("1", "next", rid="pad-2") == called
        assert hall.dump() == before
        assert len(hall.events) == events
    assert number(hall.ticket(rid="kiosk-2")) == "02002"


def test_a_resent_refusal_gets_the_same_refusal_though_the_hall_moved_on(hall):
    ok(hall.cmd("1", "login", clerk="c01", rid="pad-1"))
    refused = hall.cmd("1", "next", rid="pad-2")
    assert code(refused) == "no_waiting"
    ok(hall.ticket())  # now somebody waits
    for restart in (False, True):
        if restart:
            hall.restart()
        assert hall.cmd("1", "next", rid="pad-2") == refused  # a resend is the same request
    assert number(hall.cmd("1", "next", rid="pad-3")) == "02001"  # a new press calls


def test_requests_committed_together_keep_their_own_answers(hall):
    with hall.db.atomic():  # the service commits a batch of queued requests at once
        replies = [hall.ticket(rid="a"), hall.ticket(dept="99"), hall.ticket(rid="a"), hall.ticket(phone="13700000000")]
    assert replies[0] == replies[2]
    assert [number(replies[0]), code(replies[1]), number(replies[3])] == ["02001", "unknown_dept", "02002"]
    hall.restart()
    assert hall.rows("SELECT number FROM tickets ORDER BY id") == [("02001",), ("02002",)]


# -- queue order --------------------------------------------------------------------
def test_next_takes_the_oldest_ticket_of_the_windows_departments(hall):
    issued = [("05", "0501"), ("06", "0601"), ("02", "0202"), ("05", "0501")]
    assert [number(hall.ticket(dept=d, item=i)) for d, i in issued] == ["05001", "06001", "02001", "05002"]
    ok(hall.cmd("2", "login", clerk="c02"))  # window 2 serves 02 and 05
    called = []
    for _ in range(3):
        called.append(number(hall.cmd("2", "next")))
        ok(hall.cmd("2", "complete"))
    assert called == ["05001", "02001", "05002"]
    assert code(hall.cmd("2", "next")) == "no_waiting"  # 06001 is not for window 2


def test_requeue_puts_a_skipped_ticket_at_the_front(hall):
    for p in phones(3):
        ok(hall.ticket(phone=p))
    ok(hall.cmd("1", "login", clerk="c01"))
    assert number(hall.cmd("1", "next")) == "02001"
    ok(hall.cmd("1", "skip"))
    assert queue_state(hall.engine, "02")["next"] == ["02002", "02003"]
    assert ok(hall.cmd("1", "requeue", ticket="02001"))["ticket"]["status"] == "waiting"
    assert queue_state(hall.engine, "02")["next"] == ["02001", "02002", "02003"]
    assert number(hall.cmd("1", "next")) == "02001"


@pytest.mark.parametrize("item, limit_s", [(None, 1200), ("0202", 600)])
def test_transfer_goes_to_the_front_of_the_other_department_keeping_its_number(hall, item, limit_s):
    assert hall.serve(window="5", clerk="c05", dept="06", item="0601") == "06001"
    ok(hall.ticket())  # 02001 waits in 02
    reply = ok(hall.cmd("5", "transfer", dept="02", **({"item": item} if item else {})))
    assert reply["window"]["serving"] is None
    assert_has(reply["ticket"], {"number": "06001", "dept": "02", "item": item, "status": "waiting"})
    assert queue_state(hall.engine, "02")["next"] == ["06001", "02001"]
    assert queue_state(hall.engine, "06")["waiting"] == 0
    ok(hall.cmd("1", "login", clerk="c01"))
    called = ok(hall.cmd("1", "next"))["ticket"]
    # without an item: the department's most generous limit (0201: 20 minutes)
    assert (called["number"], called["item"], called["limit_s"]) == ("06001", item, limit_s)
