"""sms/cancel through the bridge: a text the hall withdrew (the citizen answered TD) never
reaches the modem's serial line, and a cancel that comes too late is answered with the truth.

A real mosquitto, the real bridge (its threads, its SQLite file), the fake modem on a
pseudo-terminal, and the stand-in for the hall's side of the topics.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading

import pytest

from firmware_bridge.app import BridgeApp, db_path
from tests.bridge.conftest import HallStandIn, ready
from tests.bridge.test_sms_path import barrier

CANCELLED = {"code": "cancelled", "message": "cancelled before it was sent"}


def cancelled(sms_id: str) -> dict:
    return {"id": sms_id, "ok": False, "error": CANCELLED}


def handled(hall: HallStandIn) -> None:
    """Once this returns, the bridge has handled every cancel sent before: it answers a cancel for
    an id it never had at once, and takes the messages of one topic in the order they come."""
    probe = f"probe-{hall.sent.mark()}"
    hall.cancel(probe)
    assert hall.answer_of(probe)["error"]["code"] == "cancelled"


def holding(hall: HallStandIn, fake, fault: str) -> None:
    """The modem cannot send (``fault``), and the bridge knows it."""
    mark = hall.status.mark()
    fake.set_fault(fault)
    if fault == "offline":
        hall.wait_status(lambda s: s["state"] == "offline", mark)
    else:
        hall.wait_status(lambda s: s["modem"]["registered"] is False, mark)


def queued(hall: HallStandIn, count: int) -> None:
    hall.wait_status(lambda s: s["outbox_queued"] == count)


def stored(config, sms_id: str) -> tuple | None:
    with sqlite3.connect(db_path(config, config.bridges[0])) as db:
        return db.execute("SELECT state, phone, text FROM outbox WHERE id = ?", (sms_id,)).fetchone()


# -- cancelled in time ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["no_signal", "offline"])
def test_a_text_held_while_the_modem_cannot_send_is_cancelled_and_never_sent(bridge, fake, hall, config, caplog,
                                                                             fault):
    caplog.set_level(logging.INFO)
    ready(hall)
    holding(hall, fake, fault)
    hall.offer("e1", "13812345678", "【测试中心】请回复1")
    hall.offer("e2", "13912345678", "【测试中心】请回复2")
    queued(hall, 2)  # both wait in the bridge's SQLite
    hall.cancel("e1")
    assert hall.answer_of("e1") == cancelled("e1")
    assert stored(config, "e1") == ("cancelled", "", "")  # recorded, and the number forgotten
    queued(hall, 1)
    mark = hall.status.mark()
    fake.set_fault("none")  # the modem is back: what still waits goes, the cancelled text does not
    ready(hall, mark)
    assert hall.answer_of("e2")["ok"]
    barrier(hall, fake)
    assert fake.texts() == [("+8613912345678", "【测试中心】请回复2"), ("+8613800000000", "barrier")]
    assert hall.answers("e1") == [cancelled("e1")]
    assert "e1 to 138****5678 cancelled" in caplog.text and "13812345678" not in caplog.text


def test_a_cancel_for_an_id_never_offered_is_answered_and_a_late_offer_is_not_sent(bridge, fake, hall):
    hall.cancel("e7", "e8")  # the offer is still on its way, or was lost
    never = {"code": "cancelled", "message": "cancelled before the bridge was offered it"}
    assert hall.answer_of("e7") == {"id": "e7", "ok": False, "error": never}
    assert hall.answer_of("e8") == {"id": "e8", "ok": False, "error": never}
    mark = hall.sent.mark()
    hall.offer("e7")  # it comes after all
    assert hall.answer_of("e7", after=mark) == {"id": "e7", "ok": False, "error": never}
    barrier(hall, fake)
    assert [text for _, text in fake.texts()] == ["barrier"]


def test_a_cancel_that_comes_as_the_pdu_is_about_to_be_written_wins(config, fake, hall):
    """The modem thread has picked the text and is talking to the modem (AT+CMGF=0, then
    AT+CMGS) when the cancel is recorded: at the prompt the store refuses to mark it sending,
    so the PDU is never written (ESC), and the modem goes on with the next text."""
    patient = config.bridges[0].model_copy(update={"command_timeout_s": 10.0})  # held below while we cancel
    app = BridgeApp(config, patient, fake=fake).start()
    try:
        ready(hall)
        fake.hold("AT+CMGF")
        after = len(fake.commands)
        hall.offer("e1")
        fake.wait_for_command("AT+CMGF=0", after)  # picked: the send has begun with the modem
        hall.cancel("e1")
        assert hall.answer_of("e1") == cancelled("e1")
        fake.release()
        barrier(hall, fake)
    finally:
        app.close()
    assert [text for _, text in fake.texts()] == ["barrier"]
    assert sum(c.startswith("AT+CMGS=") for c in fake.commands[after:]) == 2  # e1 reached the prompt, no further
    assert "ATE0" not in fake.commands[after:]  # left the prompt cleanly: the modem was not started again
    assert hall.answers("e1") == [cancelled("e1")]


# -- too late: the truth ------------------------------------------------------------------------------------

def test_a_cancel_for_a_text_already_finished_gets_what_happened(bridge, fake, hall):
    fake.reject("+8613800000002", 21)
    hall.offer("e1", "13800000001")
    hall.offer("e2", "13800000002")
    sent, rejected = hall.answer_of("e1"), hall.answer_of("e2")
    assert sent["ok"] is True and rejected["error"]["code"] == "rejected"
    mark = hall.sent.mark()
    hall.cancel("e1", "e2")
    assert hall.answer_of("e1", after=mark) == sent
    assert hall.answer_of("e2", after=mark) == rejected
    assert [number for number, _ in fake.texts()] == ["+8613800000001"]


@pytest.mark.parametrize("modem_answers", [True, False], ids=["it-went-out", "modem-fell-silent"])
def test_a_cancel_during_the_send_is_answered_once_the_send_ends_with_what_happened(bridge, fake, hall,
                                                                                   modem_answers):
    fake.hold("AT+CMGS")
    hall.offer("e1")
    assert fake.wait_for(lambda f: len(f.sent) == 1)  # the PDU is in the modem
    hall.cancel("e1")
    handled(hall)
    assert hall.answers("e1") == []  # too late to cancel, too early to tell
    if modem_answers:
        fake.release()
        assert hall.answer_of("e1") == {"id": "e1", "ok": True, "error": None}
    else:  # no +CMGS within send_timeout_s: it may have gone out, so it is not sent again
        assert hall.answer_of("e1")["error"]["code"] == "uncertain"
        fake.release(execute=False)
    mark = hall.sent.mark()
    hall.cancel("e1")  # the hall offers its cancel again until it hears
    assert hall.answer_of("e1", after=mark) == hall.answers("e1")[0]
    barrier(hall, fake)
    assert [text for _, text in fake.texts()] == ["请回复1", "barrier"]


# -- restarts -------------------------------------------------------------------------------------------------

def test_a_bridge_stopped_between_recording_a_cancel_and_answering_it_answers_after_its_restart(config, fake,
                                                                                              hall):
    app = BridgeApp(config, config.bridges[0], fake=fake).start()
    try:
        ready(hall)
        holding(hall, fake, "no_signal")
        hall.offer("e1")
        queued(hall, 1)
        recorded = threading.Event()
        publish = app.link.sent

        def stops_before_answering(answer: dict) -> None:
            if answer.get("id") == "e1":
                recorded.set()  # the process ends here: the answer never leaves
                return
            publish(answer)

        app.link.sent = stops_before_answering
        hall.cancel("e1")
        assert recorded.wait(10)
        assert stored(config, "e1")[0] == "cancelled"  # committed before any answer was given
    finally:
        app.close()
    assert hall.answers("e1") == []
    fake.set_fault("none")  # the modem is fine when the bridge comes back
    mark = hall.status.mark()
    again = BridgeApp(config, config.bridges[0], fake=fake).start()
    try:
        ready(hall, mark)
        hall.cancel("e1")  # the hall heard nothing: it offers the cancel again
        assert hall.answer_of("e1") == cancelled("e1")
        barrier(hall, fake)
        assert [text for _, text in fake.texts()] == ["barrier"]
    finally:
        again.close()


# -- malformed ------------------------------------------------------------------------------------------------

def test_malformed_cancels_are_logged_and_ignored(bridge, fake, hall, caplog):
    caplog.set_level(logging.WARNING)
    topic = hall.topics.sms_cancel
    mark = hall.sent.mark()
    for payload in (b"\xff not json", b"[\"e1\"]", {}, {"ids": []}, {"ids": "e1"}, {"ids": [1]},
                    {"ids": ["e1"], "extra": 1}, {"ids": ["x" * 65]}, {"ids": [f"e{i}" for i in range(101)]}):
        hall.publish(topic, payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    too_big = b'{"ids": ["' + b"e" * 17000 + b'"]}'
    hall.publish(topic, too_big)
    handled(hall)  # the bridge is still there, and took every one of them before
    assert [p["id"] for p in hall.sent.payloads(hall.topics.sms_sent)[mark:]] == [f"probe-{mark}"]
    assert caplog.text.count("ignored an invalid sms/cancel message") == 9
    assert f"ignored an sms/cancel message of {len(too_big)} bytes" in caplog.text
    assert bridge.is_alive()
    hall.offer("e1")  # none of them cancelled e1
    assert hall.answer_of("e1")["ok"]
    assert [text for _, text in fake.texts()] == ["请回复1"]
