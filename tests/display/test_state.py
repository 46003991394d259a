"""What the display makes of protocol messages, without a broker: which calls are new,
the banner's turns, today's tally and its gaps."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from display.calls import HOLD_MAX_S, Banner, CallGate
from display.hallstate import HallState
from display.model import Call
from display.tally import CardTally

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 9, 0, 30, tzinfo=TZ)


def call(ticket: str, window: str, seconds: int) -> Call:
    return Call(ticket, window, (NOW + timedelta(seconds=seconds)).isoformat(timespec="seconds"))


def event(seq: int, kind: str, at: datetime = NOW, **fields) -> tuple[tuple[str, str], bytes]:
    body = {"type": kind, "seq": seq, "at": at.isoformat(timespec="milliseconds"), **fields}
    return ("events", kind), json.dumps(body).encode()


def recent(*calls: Call) -> tuple[tuple[str, str], bytes]:
    return ("calls", "recent"), json.dumps({"calls": [c.as_json() for c in calls]}).encode()


def test_a_call_is_new_once_whether_heard_as_an_event_or_in_the_list() -> None:
    state = HallState(TZ, lambda: NOW)
    state.apply(*event(4, "called", ticket="02001", window="2"))
    state.apply(*recent(call("02001", "2", 0)))
    state.apply(*event(4, "called", ticket="02001", window="2"))  # republished after a controller crash
    assert [c.ticket for c in state.take_calls()] == ["02001"]
    state.apply(*event(5, "recalled", NOW + timedelta(seconds=20), ticket="02001", window="2"))
    assert [c.ticket for c in state.take_calls()] == ["02001"]  # a recall is said again


def test_a_restarted_display_does_not_repeat_but_catches_up() -> None:
    first = HallState(TZ, lambda: NOW)
    first.apply(*event(4, "called", ticket="02001", window="2"))
    first.take_calls()
    saved = json.loads(json.dumps(first.saved()))
    later = NOW + timedelta(seconds=30)
    again = HallState(TZ, lambda: later, saved)
    # while it was away, 05001 was called (20 s ago), and long ago 02000
    again.apply(*recent(call("05001", "3", 10), call("02001", "2", 0), call("02000", "1", -600)))
    assert [c.ticket for c in again.take_calls()] == ["05001"]


def test_a_display_without_memory_announces_only_what_is_recent() -> None:
    state = HallState(TZ, lambda: NOW + timedelta(minutes=5))
    state.apply(*recent(call("02001", "2", 0)))
    assert state.take_calls() == []
    assert [c.ticket for c in state.recent] == ["02001"]


def test_calls_arriving_together_are_each_shown_three_seconds_none_dropped() -> None:
    banner = Banner(min_s=3.0, flash_s=5.0)
    for t in ("02001", "02002", "05001"):
        banner.push(call(t, "1", 0))
    shown = []
    for tick in range(100):  # every 0.1 s for 10 s
        became = banner.tick(tick / 10)
        if became:
            shown.append((became.ticket, tick / 10))
    assert shown == [("02001", 0.0), ("02002", 3.0), ("05001", 6.0)]
    assert banner.flash(6.2) == 0 and banner.flash(11.1) is None


def test_quiet_calls_do_not_cut_a_new_one_short() -> None:
    banner = Banner()
    banner.push(call("02001", "1", 0))
    banner.tick(0.0)
    banner.show_quietly(call("02003", "1", 5), 1.0)
    assert banner.current.ticket == "02001"
    banner.show_quietly(call("02003", "1", 5), 3.5)
    assert banner.current.ticket == "02003" and banner.flash(3.6) is None


def test_the_tally_counts_each_card_once_and_notes_gaps() -> None:
    tally = CardTally(TZ, NOW.date())
    card = {"type": "card", "dept": "02", "ticket": "02001", "level": "yellow"}
    tally.heard(10, NOW, card)  # no remembered seq: the morning before it is unknown
    tally.heard(11, NOW + timedelta(seconds=1), {**card, "level": "red"})
    assert not tally.is_duplicate(12, NOW) and tally.is_duplicate(11, NOW + timedelta(seconds=1))
    tally.heard(12, NOW + timedelta(seconds=2), {"type": "card", "dept": "05", "case": "20261120-05001",
                                                 "level": "yellow"})
    tally.heard(20, NOW + timedelta(minutes=7), {"type": "called"})  # 13..19 never heard
    assert tally.counts() == {"02": (1, 1), "05": (1, 0)}
    assert tally.gap_note() == "09:00–09:07 等2段 可能漏计"


def test_a_wall_that_hears_the_halls_very_first_event_has_missed_nothing() -> None:
    tally = CardTally(TZ, NOW.date())
    tally.heard(1, NOW, {"type": "window_login"})  # seq 1: nothing came before it (a new hall, the demo)
    tally.heard(2, NOW + timedelta(seconds=1), {"type": "card", "dept": "02", "ticket": "02001", "level": "yellow"})
    assert tally.gap_note() == "" and tally.counts() == {"02": (1, 0)}


def test_the_tally_survives_a_restart_and_empties_at_midnight() -> None:
    tally = CardTally(TZ, NOW.date())
    tally.last_seq, tally.last_at = 9, NOW - timedelta(hours=12)
    tally.heard(10, NOW, {"type": "card", "dept": "02", "ticket": "02001", "level": "yellow"})
    assert tally.gaps == []  # seq 10 follows 9: nothing was missed since last night
    restored = CardTally.from_json(json.loads(json.dumps(tally.to_json())), TZ, NOW + timedelta(hours=1))
    assert restored.counts() == {"02": (1, 0)} and restored.last_seq == 10
    tomorrow = CardTally.from_json(tally.to_json(), TZ, NOW + timedelta(days=1))
    assert tomorrow.counts() == {} and tomorrow.last_seq == 10


def test_open_cards_fill_in_what_a_restarted_display_missed() -> None:
    state = HallState(TZ, lambda: NOW)
    cards = {"cards": [
        {"level": "red", "dept": "02", "window": "2", "clerk": "c01", "ticket": "02001",
         "since": "2026-11-27T08:50:00+08:00", "overdue_s": 1800},
        {"level": "yellow", "dept": "05", "window": "1", "clerk": "c03", "case": "20261120-05014",
         "since": "2026-11-26T00:00:00+08:00", "overdue_s": 35100}], "at": "2026-11-27T09:00:00+08:00"}
    state.apply(("cards", "active"), json.dumps(cards).encode())
    snap = state.snapshot(NOW)
    assert snap.tally == {"02": (1, 1)}  # the case's card began yesterday: not today's
    assert [c.level for c in snap.cards] == ["red", "yellow"]


def test_a_malformed_message_changes_nothing() -> None:
    state = HallState(TZ, lambda: NOW)
    state.apply(("queues", "02"), b'{"dept": "02", "name": "x", "waiting": 3}')
    state.apply(("queues", "02"), b"not json")
    state.apply(("queues", "02"), b'{"dept": "02"}')
    assert state.snapshot(NOW).queues[0].waiting == 3


def test_gate_keeps_a_bounded_memory() -> None:
    gate = CallGate()
    for i in range(100):
        assert gate.event(call(f"02{i:03d}", "1", i))
    assert len(gate.known) == 20
    assert gate.watermark == call("02099", "1", 99).when


def test_the_next_call_waits_for_the_voice_but_not_for_ever() -> None:
    banner = Banner(min_s=3.0)
    for t in ("02001", "02002", "02003"):
        banner.push(call(t, "1", 0))
    assert banner.tick(0.0).ticket == "02001"
    assert banner.tick(3.0, hold=True) is None  # still being said
    assert banner.tick(4.2, hold=False).ticket == "02002"
    assert banner.tick(4.2 + HOLD_MAX_S - 0.1, hold=True) is None
    assert banner.tick(4.2 + HOLD_MAX_S, hold=True).ticket == "02003"  # a voice that hangs holds no longer


def today(day: str, *depts: tuple[str, int, int]) -> tuple[tuple[str, str], bytes]:
    rows = [{"dept": d, "yellow": y, "red": r} for d, y, r in depts]
    return ("cards", "today"), json.dumps({"day": day, "yellow": sum(y for _, y, _ in depts),
                                           "red": sum(r for _, _, r in depts), "depts": rows}).encode()


def test_a_wall_that_joins_late_shows_the_halls_own_count_without_a_gap() -> None:
    state = HallState(TZ, lambda: NOW)
    state.apply(*event(40, "card", dept="02", ticket="02001", level="yellow"))  # the morning before seq 40: unheard
    assert state.snapshot(NOW).tally_note.endswith("可能漏计")
    state.apply(*today("2026-11-27", ("02", 3, 1), ("05", 1, 0)))  # the hall's record: complete
    snap = state.snapshot(NOW)
    assert snap.tally == {"02": (3, 1), "05": (1, 0)} and snap.tally_note == ""


def test_yesterdays_count_from_the_hall_is_not_shown_after_midnight() -> None:
    state = HallState(TZ, lambda: NOW)
    state.apply(*today("2026-11-27", ("02", 3, 1)))
    assert state.snapshot(NOW).tally == {"02": (3, 1)}
    after_midnight = datetime(2026, 11, 28, 0, 0, 5, tzinfo=TZ)
    assert state.snapshot(after_midnight).tally == {}  # its own (empty) count until the hall's new day comes
    state.apply(*today("2026-11-28"))
    assert state.snapshot(after_midnight).tally == {}


def test_a_malformed_count_from_the_hall_changes_nothing() -> None:
    state = HallState(TZ, lambda: NOW)
    state.apply(*today("2026-11-27", ("02", 3, 1)))
    for bad in (b"{}", b'{"day": "2026-11-27", "depts": [{"dept": "02", "yellow": -1, "red": 0}]}',
                b'{"day": "yesterday", "depts": []}', b"not json"):
        state.apply(("cards", "today"), bad)
    assert state.snapshot(NOW).tally == {"02": (3, 1)}
