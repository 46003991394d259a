"""Every modem fault: the status says what is wrong, the bridge backs off (0.05 s doubling to
0.4 s in these tests; 1 s to 60 s by default) and recovers, and nothing offered or received
meanwhile is dropped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bus.topics import Topics
from firmware_bridge.app import BridgeApp
from firmware_bridge.fake_modem import FakeModem
from tests.bridge.conftest import HallStandIn, bridge_config, connected, ready

MAX = 0.4


def backed_off(hall: HallStandIn, after: int, predicate=lambda s: True, timeout: float = 20.0,
               from_first: bool = True) -> dict:
    """Until the status shows the longest wait; the waits it showed on the way doubled each time
    (``from_first``: starting at the shortest — not so for a fault the bridge met before it could
    publish anything)."""
    status = hall.wait_status(lambda s: s["retry_in_s"] == MAX and predicate(s), after, timeout)
    waits = [s["retry_in_s"] for s in hall.statuses(after) if s["retry_in_s"] is not None]
    distinct = [w for n, w in enumerate(waits) if n == 0 or w != waits[n - 1]]
    chain = distinct[:distinct.index(MAX) + 1]
    assert all(later == min(MAX, 2 * earlier) for earlier, later in zip(chain, chain[1:])), waits
    if from_first:
        assert chain == [0.05, 0.1, 0.2, 0.4], waits
    return status


def meanwhile(hall: HallStandIn, fake: FakeModem, after: int) -> None:
    """A text offered and a message received during the fault: both must wait, not vanish."""
    hall.offer("during", "13812345678", "故障期间的短信")
    fake.deliver("13912345678", "故障期间的回复", notify=False)
    hall.wait_status(lambda s: s["outbox_queued"] == 1, after)


def nothing_dropped(hall: HallStandIn, fake: FakeModem, after: int = 0) -> None:
    assert hall.answer_of("during", timeout=20) == {"id": "during", "ok": True, "error": None}
    assert [m["text"] for m in hall.wait_taken(1, timeout=20)] == ["故障期间的回复"]
    assert ("+8613812345678", "故障期间的短信") in fake.texts()
    assert fake.wait_for(lambda f: f.sim == {})
    hall.wait_status(lambda s: s["state"] == "online" and s["outbox_queued"] == 0 and s["inbox_waiting"] == 0,
                     after, timeout=20)


@pytest.fixture
def linked(tmp_path: Path, broker) -> Iterator[tuple[FakeModem, HallStandIn, BridgeApp]]:
    """A fake modem behind a /dev/serial/by-id-like link, and a bridge configured with that path."""
    link = tmp_path / "ttyUSB-modem"
    config = bridge_config(tmp_path, broker.port, modem=f'modem = {{ type = "serial", device = "{link}" }}')
    fake = FakeModem(link=link)
    hall = HallStandIn(broker.port, Topics(config.site.id))
    app = BridgeApp(config, config.bridges[0])
    try:
        yield fake, hall, app
    finally:
        app.close()
        hall.stop()
        fake.stop()


def test_a_missing_port_is_tried_again_until_the_modem_appears(linked):
    fake, hall, app = linked
    app.start()
    connected(hall)
    hall.offer("during", "13812345678", "故障期间的短信")
    status = backed_off(hall, 0, lambda s: s["outbox_queued"] == 1, from_first=False)
    assert status["state"] == "offline" and "cannot open the modem's port" in status["problem"]
    assert status["modem"]["port"] == str(fake.link) and status["modem"]["port_open"] is False
    fake.start()  # plugged in at last
    fake.deliver("13912345678", "故障期间的回复")  # before the bridge has the port: found by the sweep
    nothing_dropped(hall, fake)


def test_a_port_that_vanishes_is_reported_and_the_modem_used_again_when_it_is_back(linked):
    fake, hall, app = linked
    fake.start()
    app.start()
    ready(hall)
    mark = hall.status.mark()
    fake.unplug()
    status = backed_off(hall, mark)
    assert status["state"] == "offline" and status["modem"]["port_open"] is False
    meanwhile(hall, fake, mark)
    fake.replug()
    nothing_dropped(hall, fake, mark)


def test_no_sim_is_reported_until_one_is_there(tmp_path, broker):
    config = bridge_config(tmp_path, broker.port, modem='modem = { type = "fake", fault = "no_sim" }')
    hall = HallStandIn(broker.port, Topics(config.site.id))
    app = BridgeApp(config, config.bridges[0]).start()  # the fake the config asks for, made by the bridge
    try:
        fake = app.fake
        status = backed_off(hall, 0, from_first=False)
        assert status["state"] == "degraded" and status["modem"]["sim"] == "missing"
        assert status["problem"] == "no SIM card in the modem"
        meanwhile(hall, fake, 0)
        fake.set_fault("none")
        nothing_dropped(hall, fake)
    finally:
        app.close()
        hall.stop()


def test_a_sim_taken_out_while_running_is_noticed_at_once(bridge, fake, hall):
    ready(hall)
    mark = hall.status.mark()
    fake.set_fault("no_sim")  # the modem says +CPIN: NOT READY
    status = backed_off(hall, mark)
    assert status["modem"]["sim"] == "missing" and status["state"] == "degraded"
    assert "the SIM went away (+CPIN: NOT READY)" in [s["problem"] for s in hall.statuses(mark)]
    meanwhile(hall, fake, mark)
    fake.set_fault("none")
    nothing_dropped(hall, fake, mark)


def test_without_signal_texts_wait_and_go_when_the_network_is_back(bridge, fake, hall):
    ready(hall)
    mark = hall.status.mark()
    fake.set_fault("no_signal")
    status = backed_off(hall, mark)
    assert status["state"] == "degraded" and status["modem"]["registration"] == "searching"
    assert status["modem"]["signal_dbm"] is None and status["problem"].startswith("not registered")
    meanwhile(hall, fake, mark)
    assert fake.sent == []  # not even tried without a network
    fake.set_fault("none")
    nothing_dropped(hall, fake, mark)


def test_error_replies_are_a_fault_and_pass(bridge, fake, hall):
    ready(hall)
    mark = hall.status.mark()
    fake.set_fault("error")
    status = backed_off(hall, mark)
    assert status["state"] == "degraded" and status["problem"].endswith(": ERROR")
    meanwhile(hall, fake, mark)
    fake.set_fault("none")
    nothing_dropped(hall, fake, mark)


def test_a_silent_modem_is_offline_until_it_answers_again(bridge, fake, hall):
    ready(hall)
    mark = hall.status.mark()
    fake.set_fault("offline")
    status = backed_off(hall, mark, timeout=30)
    assert status["state"] == "offline" and "no answer within 1 s" in status["problem"]
    meanwhile(hall, fake, mark)
    fake.set_fault("none")
    nothing_dropped(hall, fake, mark)


def test_line_noise_is_counted_and_the_texts_still_go(bridge, fake, hall):
    ready(hall)
    mark = hall.status.mark()
    fake.set_fault("garbage")
    hall.offer("during", "13812345678", "故障期间的短信")
    fake.deliver("13912345678", "故障期间的回复")
    nothing_dropped(hall, fake, mark)
    status = hall.wait_status(lambda s: s["line_noise"] > 0, mark)
    assert status["last_error"] == "line noise from the modem (bytes no modem sends)"


def test_a_modem_restart_is_noticed_and_its_settings_put_back(bridge, fake, hall):
    ready(hall)
    mark = hall.status.mark()
    fake.reboot()
    hall.wait_status(lambda s: s["problem"] == "the modem restarted (RDY)", mark)
    ready(hall, mark)
    assert fake.commands.count("AT+CNMI=2,1,0,0,0") == 2  # notifications asked for again
    fake.deliver("13912345678", "故障期间的回复")  # so this one is noticed by its +CMTI
    hall.offer("during", "13812345678", "故障期间的短信")
    nothing_dropped(hall, fake, mark)


def test_a_restart_in_the_middle_of_a_send_fails_the_text_as_uncertain_never_twice(bridge, fake, hall):
    ready(hall)
    fake.hold("AT+CMGS")
    hall.offer("e1")
    assert fake.wait_for(lambda f: len(f.sent) == 1)
    fake.reboot()
    answer = hall.answer_of("e1")
    assert answer["ok"] is False and answer["error"]["code"] == "uncertain"
    hall.offer("e2", text="下一条")
    assert hall.answer_of("e2")["ok"]
    mark = hall.sent.mark()
    hall.offer("e1")  # offered again: the same answer, and not sent
    assert hall.answer_of("e1", after=mark) == answer
    hall.offer("e3", text="再下一条")
    assert hall.answer_of("e3")["ok"]
    assert [text for _, text in fake.texts()] == ["请回复1", "下一条", "再下一条"]
