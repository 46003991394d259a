"""Evaluation by SMS, driven through the engine: the text after a service, the replies, TD,
the outbox's bookkeeping and the phone retention. A real SQLite file, explicit clocks."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import timedelta

import pytest

from hall.outcome import Outcome
from hall.schema import MIGRATIONS
from tests.hall.engine_harness import MASKED, PHONE, T0, Hall, assert_has, code, ok

WINDOW = timedelta(hours=72)
TEXT = "【测试行政服务中心】您于11月27日在1号窗口办理的不动产登记资料查询已办结。请回复：1满意 2基本满意 3不满意"
HELP = "【测试行政服务中心】请回复数字评价：1满意 2基本满意 3不满意；回复TD退订。"
OTHER = "13900001111"


@pytest.fixture
def hall(tmp_path):
    h = Hall(tmp_path / "h.db")
    yield h
    h.db.close()


@pytest.fixture
def make_hall(tmp_path):
    made: list[Hall] = []

    def make(**overrides) -> Hall:
        made.append(Hall(tmp_path / f"h{len(made)}.db", **overrides))
        return made[-1]

    yield make
    for h in made:
        h.db.close()


def served(hall: Hall, minutes: float = 0, window="1", clerk="c01", item="0202", phone=PHONE, action="complete"):
    """A citizen served at ``T0 + minutes`` and finished with ``action``; the ticket number."""
    hall.now = T0 + timedelta(minutes=minutes)
    number = hall.serve(window=window, clerk=clerk, item=item, phone=phone)
    hall.now += timedelta(minutes=5)
    ok(hall.cmd(window, action))
    return number


def ratings(hall: Hall) -> list[tuple]:
    return hall.rows("SELECT t.number, e.rating FROM evaluations e JOIN tickets t ON t.id = e.ticket ORDER BY e.id")


def outbox(hall: Hall) -> list[tuple]:
    return hall.rows("SELECT kind, status FROM sms_outbox ORDER BY id")


# -- the text after a service -------------------------------------------------------------
def test_complete_queues_the_evaluation_text_in_the_same_transaction(hall):
    number = served(hall)
    [text] = hall.texts
    assert re.fullmatch(r"testhall-[0-9a-f]{6}-1", text["id"])
    assert (text["phone"], text["text"]) == (PHONE, TEXT)
    assert hall.rows("SELECT sms_id, phone, kind, text, status FROM sms_outbox") == [
        (text["id"], PHONE, "evaluation", TEXT, "pending")]
    assert hall.rows("SELECT day, dept, window, clerk, item, finished_at, outbox, rating FROM evaluations") == [
        ("2026-11-27", "02", "1", "c01", "0202", (T0 + timedelta(minutes=5)).timestamp(), 1, None)]
    assert PHONE not in json.dumps(hall.replies + hall.events, ensure_ascii=False)
    assert number == "02001"


def test_accept_queues_it_too_with_every_template_field(make_hall):
    hall = make_hall(sms={"template": "{hall}|{date}|{window}|{item}|{ticket}|{dept}"})
    served(hall, item="0201", action="accept")
    assert [t["text"] for t in hall.texts] == ["测试行政服务中心|11月27日|1号窗口|不动产登记|02001|国土资源局"]


def test_a_transferred_ticket_without_an_item_names_its_department(make_hall):
    hall = make_hall(sms={"template": "{window}办理的{item}"})
    hall.serve(window="1", clerk="c01")
    ok(hall.cmd("1", "transfer", dept="06"))
    ok(hall.cmd("5", "login", clerk="c05"))
    ok(hall.cmd("5", "next"))
    ok(hall.cmd("5", "complete"))
    assert [t["text"] for t in hall.texts] == ["5号窗口办理的人力资源和社会保障局"]


def no_phone(hall: Hall) -> None:
    hall.serve()
    hall.db.conn.execute("UPDATE tickets SET phone = NULL")  # erased, or a kiosk that asked for none
    ok(hall.cmd("1", "complete"))


def opted_out(hall: Hall) -> None:
    ok(hall.sms("TD"))
    hall.texts.clear()
    served(hall)


@pytest.mark.parametrize("overrides, steps", [
    pytest.param({"sms": {"enabled": False}}, lambda h: served(h), id="sms-disabled"),
    pytest.param({}, no_phone, id="no-phone"),
    pytest.param({}, opted_out, id="opted-out"),
    pytest.param({}, lambda h: (h.serve(), ok(h.cmd("1", "skip"))), id="skipped"),
    pytest.param({}, lambda h: (h.serve(), ok(h.cmd("1", "transfer", dept="06"))), id="transferred"),
])
def test_no_evaluation_text(make_hall, overrides, steps):
    hall = make_hall(**overrides)
    steps(hall)
    assert [t for t in hall.texts if "请回复" in t["text"]] == []
    assert hall.rows("SELECT count(*) FROM evaluations") == [(0,)]


# -- replies --------------------------------------------------------------------------------
def test_a_reply_rates_the_latest_unrated_service_and_the_first_valid_reply_counts(hall):
    first = served(hall, 0)
    second = served(hall, 30, window="2", clerk="c02")
    hall.now = T0 + timedelta(hours=2)
    assert ok(hall.sms("1")) == {"ok": True, "result": "rated", "rating": "satisfied"}
    assert ratings(hall) == [(first, None), (second, "satisfied")]
    assert ok(hall.sms("2"))["rating"] == "basic"  # the latest one still unrated
    assert ratings(hall) == [(first, "basic"), (second, "satisfied")]
    assert ok(hall.sms("3"))["result"] == "help"  # nothing left: a rating never changes
    assert ratings(hall) == [(first, "basic"), (second, "satisfied")]
    assert [(e["type"], e["ticket"], e["rating"]) for e in hall.events if e["type"] in ("evaluated", "complaint")] == [
        ("evaluated", second, "satisfied"), ("evaluated", first, "basic")]


def test_the_evaluated_event(hall):
    number = served(hall)
    ok(hall.sms("满意"))
    event = hall.events[-1]
    assert {k: v for k, v in event.items() if k not in ("seq", "at")} == {
        "type": "evaluated", "ticket": number, "window": "1", "clerk": "c01", "dept": "02", "rating": "satisfied"}
    assert hall.rows("SELECT type FROM journal ORDER BY seq DESC LIMIT 1") == [("evaluated",)]


@pytest.mark.parametrize("after, result", [(WINDOW - timedelta(seconds=1), "rated"), (WINDOW, "rated"),
                                           (WINDOW + timedelta(seconds=1), "help")])
def test_only_services_within_the_reply_window_are_rated(hall, after, result):
    served(hall)
    hall.now = T0 + timedelta(minutes=5) + after  # finished at T0 + 5 min
    assert ok(hall.sms("1"))["result"] == result


def test_a_reply_from_another_number_rates_nothing(hall):
    served(hall)
    assert ok(hall.sms("1", phone=OTHER))["result"] == "help"
    assert ratings(hall) == [("02001", None)]


def test_unsatisfied_raises_a_complaint_with_the_citizens_words(hall):
    number = served(hall, window="2", clerk="c02", item="0201", action="accept")
    ok(hall.sms("不满意，等了两个小时。请回电 139-0000-1111"))
    evaluated, complaint = hall.events[-2:]
    assert_has(evaluated, {"type": "evaluated", "ticket": number, "rating": "unsatisfied"})
    assert {k: v for k, v in complaint.items() if k not in ("seq", "at")} == {
        "type": "complaint", "ticket": number, "window": "2", "clerk": "c02", "dept": "02", "item": "0201",
        "rating": "unsatisfied", "phone": MASKED, "text": "不满意，等了两个小时。请回电 139****1111"}
    journal = json.dumps(hall.rows("SELECT * FROM journal"), ensure_ascii=False)
    assert "complaint" in journal and PHONE not in journal and OTHER not in journal


def test_anything_else_gets_one_help_text_per_reply_window(hall):
    served(hall)
    hall.texts.clear()
    assert ok(hall.sms("你好"))["result"] == "help"
    assert [(t["phone"], t["text"]) for t in hall.texts] == [(PHONE, HELP)]
    hall.now += timedelta(hours=1)
    # an auto-reply answering our help text: no second one, no loop
    assert [ok(hall.sms(t))["result"] for t in ("您好，我现在不方便接听", "？", "1 3")] == ["no_reply"] * 3
    assert ok(hall.sms("1"))["result"] == "rated"  # a rating still counts
    hall.now += WINDOW
    assert ok(hall.sms("还在吗"))["result"] == "help"
    assert [t["text"] for t in hall.texts] == [HELP, HELP]


def test_a_sender_that_is_no_mobile_number_is_never_answered(hall):
    served(hall)
    hall.texts.clear()
    assert ok(hall.sms("您的话费余额不足", phone="10086")) == {"ok": True, "result": "ignored"}
    assert hall.texts == [] and ratings(hall) == [("02001", None)]


def test_with_sms_disabled_replies_are_recorded_but_never_answered(make_hall):
    hall = make_hall()
    served(hall)
    hall.config = hall.config.model_copy(update={"sms": hall.config.sms.model_copy(update={"enabled": False})})
    hall.restart()
    assert ok(hall.sms("1"))["result"] == "rated"
    assert [ok(hall.sms(t))["result"] for t in ("?", "TD")] == ["no_reply", "opted_out"]
    assert [t["text"] for t in hall.texts] == [TEXT]


def test_a_resent_inbox_message_is_recorded_once(hall):
    served(hall)
    first = ok(hall.sms("3 太慢了", rid="modem-77"))
    before = hall.dump()
    assert hall.sms("3 太慢了", rid="modem-77") == first
    assert hall.dump() == before
    assert [e["type"] for e in hall.events].count("complaint") == 1


def test_a_malformed_received_at_is_refused_and_changes_nothing(hall):
    served(hall)
    before = hall.dump()
    from bus.payloads import SmsInbox

    reply = hall._handle("sms/inbox", SmsInbox(request_id="m1", phone=PHONE, text="1", received_at="yesterday"))
    assert code(reply) == "bad_request"
    assert hall.dump() == before


# -- TD ---------------------------------------------------------------------------------------
def test_td_opts_out_cancels_what_is_not_sent_and_is_confirmed_once(hall):
    served(hall, 0)
    served(hall, 30)
    first, second = hall.texts
    assert hall.sent(first["id"])
    hall.texts.clear()
    assert ok(hall.sms(" ｔｄ ")) == {"ok": True, "result": "opted_out"}
    assert [(t["phone"], t["text"]) for t in hall.texts] == [(PHONE, "【测试行政服务中心】您已退订评价短信。")]
    # Withdrawn in the same transaction; the bridge, which may hold it, is told (sms/cancel).
    assert outbox(hall) == [("evaluation", "sent"), ("evaluation", "cancelling"), ("opted_out", "pending")]
    assert hall.cancels == [second["id"]]
    assert ok(hall.sms("TD"))["result"] == "opted_out"  # again: no second confirmation
    assert ok(hall.sms("?"))["result"] == "no_reply"  # nor any help text
    served(hall, 60)
    assert len(hall.texts) == 1 and hall.rows("SELECT count(*) FROM evaluations") == [(2,)]
    assert hall.engine.outbox.due(hall.now) == [hall.texts[0]]  # a withdrawn text is never offered
    assert hall.cancels == [second["id"]]  # one TD, one cancel
    audit = [json.loads(d) for t, d in hall.rows("SELECT type, data FROM journal") if t == "sms_opted_out"]
    assert audit == [{"phone": MASKED, "cancelled": 1}]
    assert [{k: e[k] for k in ("type", "phone", "cancelled")} for e in hall.events if e["type"] == "sms_opted_out"] == [
        {"type": "sms_opted_out", "phone": MASKED, "cancelled": 1}]
    assert PHONE not in json.dumps(hall.rows("SELECT * FROM sms_opt_outs"))


def test_a_withdrawn_text_is_cancelled_again_every_resend_until_the_bridge_answers(hall):
    box = hall.engine.outbox
    served(hall, 0)
    served(hall, 30)
    served(hall, 40, phone=OTHER)
    first, second, other = hall.texts
    ok(hall.sms("TD"))
    now = hall.now
    assert box.due_cancels(now) == [first["id"], second["id"]]  # at start everything withdrawn is due
    box.cancels_offered([first["id"], second["id"]], now)
    assert box.due_cancels(now + timedelta(seconds=59)) == []
    hall.sent(first["id"], ok=False, error={"code": "cancelled", "message": "cancelled before it was sent"})
    assert box.due_cancels(now + timedelta(seconds=60)) == [second["id"]]
    box.forget_offers()  # a reconnect
    assert box.due_cancels(now + timedelta(seconds=61)) == [second["id"]]
    assert [t["id"] for t in box.due(now + timedelta(seconds=61))] == [other["id"], hall.texts[-1]["id"]]
    hall.sent(second["id"], ok=False, error={"code": "cancelled", "message": "cancelled before it was sent"})
    assert box.due_cancels(now + timedelta(hours=1)) == []
    assert outbox(hall) == [("evaluation", "cancelled"), ("evaluation", "cancelled"), ("evaluation", "pending"),
                            ("opted_out", "pending")]


@pytest.mark.parametrize("answer, kept", [
    pytest.param({"ok": False, "error": {"code": "cancelled", "message": "cancelled before it was sent"}},
                 ("cancelled", None), id="cancelled"),
    pytest.param({"ok": True}, ("sent", None), id="had-gone-out"),
    pytest.param({"ok": False, "error": {"code": "uncertain", "message": "no result"}},
                 ("failed", '{"code": "uncertain", "message": "no result"}'), id="uncertain"),
])
def test_the_bridges_word_on_a_withdrawn_text_is_kept_and_final(hall, answer, kept):
    served(hall)
    [text] = hall.texts
    ok(hall.sms("TD"))
    assert hall.sent(text["id"], **answer)
    assert hall.rows(f"SELECT status, error FROM sms_outbox WHERE sms_id = '{text['id']}'") == [kept]
    assert hall.sent(text["id"], ok=not answer["ok"])  # a later word changes nothing
    assert hall.rows(f"SELECT status, error FROM sms_outbox WHERE sms_id = '{text['id']}'") == [kept]
    assert hall.engine.outbox.due_cancels(hall.now) == []
    sent = hall.rows("SELECT count(*) FROM sms_outbox WHERE kind = 'evaluation' AND status = 'sent'")
    assert sent == [(1 if answer["ok"] else 0,)]  # what the monthly report's eval_sent counts


def test_a_text_queued_and_withdrawn_in_one_batch_is_never_offered():
    """Requests committed together (group commit) are published together: a complete and the
    citizen's TD in one batch must not offer the text the TD withdrew."""
    text = {"id": "testhall-abcdef-7", "phone": PHONE, "text": TEXT}
    batch = Outcome(reply={})
    batch.merge(Outcome(reply={}, sms=[text]))
    batch.merge(Outcome(reply={}, sms_cancel=[text["id"]]))
    assert (batch.sms, batch.sms_cancel) == ([], [text["id"]])


def test_texts_cancelled_before_sms_cancel_existed_are_withdrawn_from_the_bridge_too(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[0] + MIGRATIONS[1] + "PRAGMA user_version = 2;")
    old.executemany("INSERT INTO sms_outbox (sms_id, phone, kind, text, status, created_at, done_at)"
                    " VALUES (?, ?, 'evaluation', 'x', ?, 0, ?)",
                    [("testhall-abcdef-1", PHONE, "cancelled", 1.0), ("testhall-abcdef-2", PHONE, "sent", 2.0)])
    old.commit()
    old.close()
    hall = Hall(path)  # the controller starts on the upgraded schema
    try:
        assert hall.rows("SELECT sms_id, status, done_at FROM sms_outbox ORDER BY id") == [
            ("testhall-abcdef-1", "cancelling", None), ("testhall-abcdef-2", "sent", 2.0)]
        assert hall.engine.outbox.due_cancels(hall.now) == ["testhall-abcdef-1"]
    finally:
        hall.db.close()


def test_td_without_an_opted_out_text_sends_nothing(make_hall):
    hall = make_hall(sms={"opted_out": ""})
    assert ok(hall.sms("退订"))["result"] == "opted_out"
    assert hall.texts == []


# -- the outbox -------------------------------------------------------------------------------
def test_the_bridges_word_is_kept_and_the_first_one_counts(hall):
    for minutes in (0, 30):
        served(hall, minutes)
    sent, failed = (t["id"] for t in hall.texts)
    assert hall.sent(sent) and hall.sent(failed, ok=False, error={"code": "no_signal", "message": "CSQ 99"})
    assert hall.sent(sent, ok=False) and hall.sent(failed)  # repeated: no change
    assert hall.rows("SELECT status, error FROM sms_outbox ORDER BY id") == [
        ("sent", None), ("failed", '{"code": "no_signal", "message": "CSQ 99"}')]
    assert hall.sent("testhall-000000-99") is False


def test_pending_texts_are_offered_again_every_resend_until_confirmed(hall):
    box = hall.engine.outbox
    served(hall, 0)
    served(hall, 30)
    first, second = hall.texts
    now = hall.now
    assert box.due(now) == [first, second]  # at start everything pending is due
    assert box.due(now + timedelta(seconds=59)) == []
    hall.sent(first["id"])
    assert box.due(now + timedelta(seconds=60)) == [second]
    assert box.due(now + timedelta(seconds=61)) == []
    assert box.due(now - timedelta(hours=1)) == [second]  # the clock went back: do not wait an hour
    box.forget_offers()  # a reconnect
    assert box.due(now - timedelta(hours=1)) == [second]


def test_ids_are_never_given_twice(make_hall):
    one, two = make_hall(), make_hall()
    served(one, 0)
    one.restart()
    served(one, 30)
    served(two, 0)
    ids = [t["id"] for t in one.texts + two.texts]
    assert len(set(ids)) == 3
    assert [i.rsplit("-", 1)[1] for i in ids] == ["1", "2", "1"]  # same row id in a fresh database, other prefix


# -- phone retention ----------------------------------------------------------------------------
def test_old_phone_numbers_are_erased_at_day_rollover_and_ratings_stay(hall):
    served(hall, 0)
    ok(hall.sms("1"))
    ok(hall.sms("hello", phone=OTHER))  # a help text to another number, pending
    ok(hall.sms("TD", phone="13700000000"))
    for sms_id in [t["id"] for t in hall.texts][:1]:
        hall.sent(sms_id)
    hall.now = T0 + timedelta(days=179)
    hall.tick()
    served(hall, 179 * 24 * 60)  # a recent service keeps its number
    hall.now = T0 + timedelta(days=181)
    hall.tick()
    assert hall.rows("SELECT phone FROM tickets ORDER BY id") == [(None,), (PHONE,)]
    assert hall.rows("SELECT phone, status FROM sms_outbox ORDER BY id") == [
        (None, "sent"), (None, "failed"), (None, "failed"), (PHONE, "pending")]
    assert hall.rows("SELECT error FROM sms_outbox WHERE id = 2")[0][0].startswith('{"code": "expired"')
    assert ratings(hall) == [("02001", "satisfied"), ("02001", None)]
    erased = [e for e in hall.events if e["type"] == "phones_erased"]
    assert [(e["tickets"], e["sms_outbox"]) for e in erased] == [(1, 3)]
    dump = json.dumps(hall.dump(), ensure_ascii=False)
    assert OTHER not in dump and "13700000000" not in dump
    hall.texts.clear()
    hall.now += timedelta(days=1)
    served(hall, 182 * 24 * 60, phone="13700000000")  # its TD outlived its number
    assert hall.texts == []
