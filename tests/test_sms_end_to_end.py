"""Issue 6 end to end: the real controller, the real bridge on the fake GSM modem, a real mosquitto.

complete -> the evaluation text as PDUs on the modem's serial line -> the citizen's reply
arrives on the modem -> the rating is stored -> it is in the month's report. Then the same
with every process restarted in the middle, and the modem without network for a while; and
a TD that stops the text the bridge holds while the modem has no network.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from bus.broker import LocalBroker
from bus.topics import Topics
from firmware_bridge.app import BridgeApp
from firmware_bridge.fake_modem import FakeModem
from paihao.config import HallConfig, load_config
from paihao.device_config import Bridge
from tests.conftest import FakeClock, Peer, RunningHall, write_config
from tests.report.test_report import csv_rows

PHONE = "13812345678"
MONTH = "2026-11"  # the FakeClock's


def ok(reply: dict) -> dict:
    assert reply.get("ok") is True, reply
    return reply


def start_bridge(config: HallConfig, tmp_path: Path, fake: FakeModem) -> BridgeApp:
    bridge = Bridge(id="gsm1", db=str(tmp_path / "bridge.db"), retry_min_s=0.05, retry_max_s=0.4,
                    poll_s=0.5, reply_timeout_s=0.5)
    return BridgeApp(config, bridge, fake=fake).start()


def serve(peer: Peer, window: str = "1", clerk: str = "c01") -> str:
    number = ok(peer.ticket(dept="02", item="0202", phone=PHONE))["ticket"]["number"]
    ok(peer.command(window, "login", clerk=clerk))
    ok(peer.command(window, "next"))
    ok(peer.command(window, "complete"))
    return number


def texts_to(fake: FakeModem, phone: str) -> list[str]:
    return [text for number, text in fake.texts() if number.endswith(phone)]


def evaluated(peer: Peer, after: int = 0) -> dict:
    found = peer.heard.wait_for(lambda m: m.topic == peer.topics.event("evaluated"), timeout=15, after=after)
    return json.loads(found.payload)


def report_rows(config_path: Path, config: HallConfig) -> dict[tuple, dict]:
    done = subprocess.run([sys.executable, "-m", "paihao.cli", "report", "--config", str(config_path),
                           "--month", MONTH, "--db", config.storage.db], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return csv_rows(Path(config.reports.folder) / f"{config.site.id}-{MONTH}.csv")


def test_complete_to_pdu_to_reply_to_rating_to_report(tmp_path, broker, clock):
    config_path = write_config(tmp_path, broker.port)
    config = load_config(config_path)
    fake = FakeModem().start()
    peer = Peer(broker.port, Topics(config.site.id))
    hall = RunningHall(config, clock).start(peer)
    bridge = start_bridge(config, tmp_path, fake)
    try:
        number = serve(peer)
        assert fake.wait_for(lambda f: texts_to(f, PHONE), timeout=15)
        [text] = texts_to(fake, PHONE)
        assert text == "【测试行政服务中心】您于11月27日在1号窗口办理的不动产登记资料查询已办结。请回复：1满意 2基本满意 3不满意"
        assert all(part.sms.encoding == "ucs2" for part in fake.sent)  # Chinese: UCS2, as a phone shows it

        mark = peer.heard.mark()
        fake.deliver(PHONE, " １。")  # a full-width 1 with a full stop, as phones type it
        rating = evaluated(peer, mark)
        assert (rating["ticket"], rating["window"], rating["clerk"], rating["rating"]) == (number, "1", "c01", "satisfied")
        assert fake.wait_for(lambda f: not f.sim, timeout=10)  # deleted from the SIM once the hall had it
    finally:
        bridge.close()
        hall.stop()
        peer.stop()
        fake.stop()
    rows = report_rows(config_path, config)
    clerk = rows[("clerk", "c01")]
    assert (clerk["served"], clerk["eval_sent"], clerk["eval_answered"], clerk["satisfied"]) == ("1", "1", "1", "1")
    assert clerk["score"] == "100.0"


def test_restarts_of_each_process_and_a_modem_without_network_lose_nothing_and_send_nothing_twice(tmp_path):
    with LocalBroker() as broker:
        config_path = write_config(tmp_path, broker.port)
        config = load_config(config_path)
        clock = FakeClock()
        fake = FakeModem().start()
        peer = Peer(broker.port, Topics(config.site.id))
        hall = RunningHall(config, clock).start(peer)
        bridge = None
        try:
            # The bridge is down when the service ends: the hall keeps the text and offers it again.
            number = serve(peer)
            bridge = start_bridge(config, tmp_path, fake)
            fake.set_fault("no_signal")  # ... and the modem has no network at first
            clock.advance(seconds=61)  # [sms] resend: 60 s
            status = peer.heard.wait_for(
                lambda m: m.topic == peer.topics.device_status("bridge", "gsm1")
                and json.loads(m.payload).get("state") == "degraded", timeout=15)
            assert texts_to(fake, PHONE) == [], status.payload
            fake.set_fault("none")
            assert fake.wait_for(lambda f: texts_to(f, PHONE), timeout=15)

            # The controller restarts: it offers its unconfirmed texts again; the bridge sends none twice.
            hall.stop()
            hall = RunningHall(config, clock).start(peer)
            clock.advance(seconds=61)
            # The broker restarts (no persistence): everyone reconnects.
            broker.restart()
            # The bridge restarts with the reply already waiting on the SIM.
            bridge.close()
            fake.deliver(PHONE, "2")
            bridge = start_bridge(config, tmp_path, fake)
            rating = evaluated(peer)
            assert (rating["ticket"], rating["rating"]) == (number, "basic")
            assert fake.wait_for(lambda f: not f.sim, timeout=10)
            assert len(texts_to(fake, PHONE)) == 1  # sent once, across every restart
        finally:
            if bridge:
                bridge.close()
            hall.stop()
            peer.stop()
            fake.stop()
        rows = report_rows(config_path, config)
        clerk = rows[("clerk", "c01")]
        assert (clerk["eval_sent"], clerk["eval_answered"], clerk["basic"]) == ("1", "1", "1")
        ratings = [m for m in peer.heard.messages if m.topic == peer.topics.event("evaluated")]
        assert len(ratings) == 1  # recorded once, although the bridge may have handed it over twice


def status_of(peer: Peer, predicate, after: int = 0) -> dict:
    topic = peer.topics.device_status("bridge", "gsm1")
    found = peer.heard.wait_for(lambda m: m.topic == topic and predicate(json.loads(m.payload)), timeout=15,
                                after=after)
    return json.loads(found.payload)


def test_td_stops_the_evaluation_text_the_bridge_holds_while_the_modem_has_no_network(tmp_path, broker, clock):
    """退订 at once: the text already handed to the bridge, waiting for the network, never goes out."""
    config_path = write_config(tmp_path, broker.port)
    config = load_config(config_path)
    fake = FakeModem().start()
    peer = Peer(broker.port, Topics(config.site.id))
    hall = RunningHall(config, clock).start(peer)
    bridge = start_bridge(config, tmp_path, fake)
    try:
        status_of(peer, lambda s: s["state"] == "online")
        mark = peer.heard.mark()
        fake.set_fault("no_signal")
        status_of(peer, lambda s: s["modem"]["registered"] is False, mark)
        serve(peer)
        evaluation = json.loads(peer.heard.wait_for(lambda m: m.topic == peer.topics.sms_outbox).payload)
        status_of(peer, lambda s: s["outbox_queued"] == 1)  # the bridge holds it, waiting for the network

        fake.deliver(PHONE, "TD")  # the citizen's 退订 still arrives
        answer = peer.heard.wait_for(lambda m: m.topic == peer.topics.sms_sent
                                     and json.loads(m.payload)["id"] == evaluation["id"], timeout=15)
        assert json.loads(answer.payload)["error"]["code"] == "cancelled"

        mark = peer.heard.mark()
        fake.set_fault("none")  # the network is back: only the confirmation of the TD goes out
        confirmation = "【测试行政服务中心】您已退订评价短信。"
        assert fake.wait_for(lambda f: texts_to(f, PHONE), timeout=15)
        peer.heard.wait_for(lambda m: m.topic == peer.topics.sms_sent and json.loads(m.payload)["ok"], timeout=15,
                            after=mark)
        ok(peer.ticket(dept="02", item="0202", phone="13900000000"))  # the controller has taken both answers
        assert texts_to(fake, PHONE) == [confirmation]
        assert [text for _, text in fake.texts()] == [confirmation]
    finally:
        bridge.close()
        hall.stop()
        peer.stop()
        fake.stop()
    db = sqlite3.connect(config.storage.db)
    try:
        assert db.execute("SELECT kind, status FROM sms_outbox ORDER BY id").fetchall() == [
            ("evaluation", "cancelled"), ("opted_out", "sent")]
    finally:
        db.close()
    clerk = report_rows(config_path, config)[("clerk", "c01")]
    assert (clerk["served"], clerk["eval_sent"]) == ("1", "0")  # the report counts what citizens received
