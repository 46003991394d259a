"""The engine's supervision driven directly: promised cases, cards, day roll-over, the journal."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, time, timedelta

import chinese_calendar
import pytest

from hall.state import queue_state
from tests.hall.engine_harness import (
    CST,
    EVENT_TYPES,
    MASKED,
    PHONE,
    T0,
    Hall,
    assert_has,
    code,
    hall,  # noqa: F401  (the fixture every test here uses)
    number,
    ok,
    phones,
)

# -- promised items and cases ----------------------------------------------------------
ACCEPTED_AT = datetime(2026, 9, 29, 10, 0, tzinfo=CST)  # Tuesday before National Day
CASE = "20260929-02001"


def accept_before_national_day(hall: Hall) -> dict:
    hall.now = ACCEPTED_AT
    hall.serve(item="0201")  # 5 working days
    return ok(hall.cmd("1", "accept"))


def test_accept_opens_a_case_due_in_working_days_across_national_day(hall):
    reply = accept_before_national_day(hall)
    assert reply["case"] == {"id": CASE, "due_date": "2026-10-12"}
    assert reply["ticket"]["status"] == "accepted" and reply["window"]["serving"] is None
    # the official calendar agrees: 30 Sep, 8, 9, 10 (a makeup Saturday) and 12 Oct
    workdays = chinese_calendar.get_workdays(date(2026, 9, 30), date(2026, 10, 12))
    assert len(workdays) == 5 and date(2026, 10, 10) in workdays
    assert_has(hall.events[-1], {"type": "accepted", "ticket": "02001", "case": CASE, "due_date": "2026-10-12"})


@pytest.mark.parametrize("done_on, on_time", [(date(2026, 10, 12), True), (date(2026, 10, 13), False)])
def test_case_done_says_whether_it_was_on_time(hall, done_on, on_time):
    accept_before_national_day(hall)
    hall.now = datetime.combine(done_on, time(16, 30), CST)
    assert ok(hall.cmd("1", "case_done", case=CASE))["case"] == {"id": CASE, "on_time": on_time}
    assert_has(hall.events[-1], {"type": "case_done", "case": CASE, "on_time": on_time, "clerk": "c01"})


def test_a_late_case_gets_a_yellow_then_a_red_card(hall):
    accept_before_national_day(hall)
    red_day = chinese_calendar.find_workday(10, ACCEPTED_AT.date())  # twice the 5 working days
    assert red_day == date(2026, 10, 19)
    for moment, levels in [(datetime(2026, 10, 12, 23, 59), []), (datetime(2026, 10, 13, 0, 0, 1), ["yellow"]),
                           (datetime(2026, 10, 19, 23, 59), ["yellow"]), (datetime(2026, 10, 20, 0, 0, 1), ["red"])]:
        hall.now = moment.replace(tzinfo=CST)
        hall.tick()
        assert [(c["level"], c["case"], c["dept"]) for c in hall.active()] == [(lv, CASE, "02") for lv in levels]
    assert hall.rows("SELECT level, case_id FROM cards ORDER BY id") == [("yellow", CASE), ("red", CASE)]


# -- service cards ------------------------------------------------------------------------
def test_a_long_service_gets_a_yellow_then_a_red_card_each_recorded_once(hall):
    hall.serve()  # 0202: 10 minutes, red after 20 (red_factor 2)
    for minutes, level in [(10, "none"), (10.1, "yellow"), (15, "yellow"), (20.1, "red"), (30, "red")]:
        hall.now = T0 + timedelta(minutes=minutes)
        hall.tick()
        assert [(c["level"], c["ticket"], c["window"], c["clerk"]) for c in hall.active()] == (
            [] if level == "none" else [(level, "02001", "1", "c01")])
        assert hall.engine.window_state("1", hall.now)["serving"]["card"] == level
    recorded = [("yellow", "02", "1", "c01"), ("red", "02", "1", "c01")]
    assert hall.rows("SELECT level, dept, window, clerk FROM cards ORDER BY id") == recorded
    assert [(e["level"], e["ticket"]) for e in hall.events if e["type"] == "card"] == [
        ("yellow", "02001"), ("red", "02001")]
    ok(hall.cmd("1", "complete"))
    assert hall.active() == []
    assert hall.rows("SELECT level, dept, window, clerk FROM cards ORDER BY id") == recorded


def test_a_service_first_seen_past_red_records_both_cards(hall):
    hall.serve()
    hall.now = T0 + timedelta(minutes=25)
    for _ in range(2):
        hall.tick()
    assert hall.rows("SELECT level, since FROM cards ORDER BY id") == [
        ("yellow", (T0 + timedelta(minutes=10)).timestamp()), ("red", (T0 + timedelta(minutes=20)).timestamp())]
    assert [c["level"] for c in hall.active()] == ["red"]
    assert [e["level"] for e in hall.events if e["type"] == "card"] == ["yellow", "red"]


def test_active_cards_list_red_before_yellow(hall):
    hall.serve(window="5", clerk="c05", dept="06", item="0601")  # 15 minutes: late from 09:15
    hall.now = T0 + timedelta(minutes=14)
    hall.serve(window="3", clerk="c03", dept="05", item="0501")  # 90 seconds: late from 09:15:30, red 09:17
    hall.now = T0 + timedelta(minutes=20)
    assert [(c["level"], c["ticket"], c["window"], c["overdue_s"]) for c in hall.active()] == [
        ("red", "05001", "3", 270), ("yellow", "06001", "5", 300)]


# -- day rollover -------------------------------------------------------------------------
def test_a_new_day_expires_yesterdays_waiting_and_skipped_tickets(hall):
    for p in phones(3):
        ok(hall.ticket(phone=p))
    ok(hall.cmd("1", "login", clerk="c01"))
    ok(hall.cmd("1", "next"))
    ok(hall.cmd("1", "skip"))
    hall.tick()
    assert hall.rows("SELECT status FROM tickets ORDER BY id") == [("skipped",), ("waiting",), ("waiting",)]
    hall.restart()
    hall.now = datetime(2026, 11, 28, 8, 30, tzinfo=CST)
    hall.tick()
    assert hall.rows("SELECT status FROM tickets ORDER BY id") == [("expired",)] * 3
    assert queue_state(hall.engine, "02")["waiting"] == 0
    assert code(hall.cmd("1", "next")) == "no_waiting"
    assert code(hall.cmd("1", "requeue", ticket="02001")) == "unknown_ticket"
    assert number(hall.ticket()) == "02001"
    expired = [e for e in hall.events if e["type"] == "tickets_expired"]
    assert [(e["day"], e["counts"]) for e in expired] == [("2026-11-28", {"02": 3})]
    # Every journal entry is published: a listener sees seq without a gap, so a gap means a loss.
    assert [e["seq"] for e in hall.events] == [seq for (seq,) in hall.rows("SELECT seq FROM journal ORDER BY seq")]


def test_a_restart_after_todays_first_ticket_still_expires_yesterdays(hall):
    ok(hall.ticket())
    hall.now = datetime(2026, 11, 28, 8, 30, tzinfo=CST)
    ok(hall.ticket(phone="13700000000"))  # today's first ticket, then a crash before any tick
    hall.restart()
    hall.tick()
    assert hall.rows("SELECT day, number, status FROM tickets ORDER BY id") == [
        ("2026-11-27", "02001", "expired"), ("2026-11-28", "02001", "waiting")]


# -- the journal -------------------------------------------------------------------------
@pytest.mark.parametrize("statement", ["UPDATE journal SET type = 'nothing'", "UPDATE journal SET data = '{}'",
                                       "DELETE FROM journal", "DELETE FROM journal WHERE seq = 1"])
def test_the_journal_refuses_to_be_edited(hall, statement):
    hall.serve()
    before = hall.rows("SELECT * FROM journal")
    other = sqlite3.connect(hall.config.storage.db)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            other.execute(statement)
    finally:
        other.close()
    assert hall.rows("SELECT * FROM journal") == before


def test_a_busy_morning_events_are_ordered_and_phones_never_leave(hall):
    ok(hall.ticket(item="0201", phone="+86 138-1234-5678"))
    ok(hall.ticket(phone="138 1234 5678"))
    hall.serve(window="5", clerk="c05", dept="06", item="0601")
    for action, fields in [("login", {"clerk": "c01"}), ("next", {}), ("recall", {}), ("accept", {}), ("next", {}),
                           ("skip", {}), ("requeue", {"ticket": "02002"}), ("next", {})]:
        ok(hall.cmd("1", action, **fields))
    hall.now += timedelta(minutes=25)
    hall.tick()
    hall.restart()
    for window, action, fields in [("1", "complete", {}), ("5", "transfer", {"dept": "02"}), ("1", "pause", {}),
                                   ("1", "resume", {}), ("1", "case_done", {"case": "20261127-02001"}),
                                   ("1", "logout", {})]:
        ok(hall.cmd(window, action, **fields))
    assert {e["type"] for e in hall.events} == EVENT_TYPES
    seqs = [e["seq"] for e in hall.events]
    assert all(a < b for a, b in zip(seqs, seqs[1:]))
    assert set(seqs) <= {s for (s,) in hall.rows("SELECT seq FROM journal")}
    assert all(datetime.fromisoformat(e["at"]).utcoffset() == timedelta(hours=8) for e in hall.events)
    assert all(isinstance(e["ticket"], str) for e in hall.events if "ticket" in e)
    published = json.dumps([hall.events, hall.replies, hall.rows("SELECT * FROM journal"),
                            hall.rows("SELECT * FROM requests")], ensure_ascii=False)
    assert PHONE not in published
    assert MASKED in published


def test_after_a_restart_only_events_not_handed_to_the_broker_are_published_again(hall):
    ok(hall.ticket())
    for event in hall.events:
        hall.engine.journal.mark_handed(event["seq"])
    assert code(hall.ticket(dept="99")) == "unknown_dept"
    ok(hall.cmd("1", "login", clerk="c01"))  # its transaction records how far events went out
    hall.restart()
    assert [e["type"] for e in hall.engine.journal.unpublished()] == ["window_login"]
