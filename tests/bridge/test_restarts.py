"""Restarts of every process in the middle of things — the bridge (killed, as a real process),
the broker, the hall — and the bridge as a process: SIGTERM, its Last Will, the command line."""

from __future__ import annotations

import signal
import threading
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bus.broker import LocalBroker
from bus.topics import Topics
from firmware_bridge.app import BridgeApp, db_path
from firmware_bridge.fake_modem import FakeModem
from paihao.cli import main
from paihao.config import load_config
from paihao.errors import ConfigError
from tests.bridge.conftest import HallStandIn, bridge_config, connected, ready
from tests.conftest import write_config

ROOT = Path(__file__).parents[2]


class BridgeProcess:
    """``paihao bridge`` as a separate process, killed and started again by the test."""

    def __init__(self, config_path: Path, *args: str) -> None:
        self.config_path, self.args = config_path, args
        self.process: subprocess.Popen | None = None

    def spawn(self) -> BridgeProcess:
        with open(self.config_path.parent / "bridge.log", "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "paihao.cli", "bridge", "--config",
                                             str(self.config_path), *self.args],
                                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        return self

    def kill(self) -> None:
        """kill -9: no orderly anything."""
        self.process.kill()
        self.process.wait(10)

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(20)

    def close(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def log(self) -> str:
        return (self.config_path.parent / "bridge.log").read_text(errors="replace")


@pytest.fixture
def on_a_link(tmp_path, broker) -> Iterator[tuple[FakeModem, HallStandIn, BridgeProcess, Path]]:
    """The fake modem in the test, the bridge in its own process on the fake's pty (by a link)."""
    link = tmp_path / "ttyUSB-modem"
    config = bridge_config(tmp_path, broker.port, modem=f'modem = {{ type = "serial", device = "{link}" }}')
    fake = FakeModem(link=link).start()
    hall = HallStandIn(broker.port, Topics(config.site.id))
    bridge = BridgeProcess(tmp_path / "hall.toml")
    try:
        yield fake, hall, bridge, db_path(config, config.bridges[0])
    finally:
        bridge.close()
        hall.stop()
        fake.stop()


def test_a_bridge_killed_in_the_middle_of_a_send_never_sends_that_text_again(on_a_link):
    fake, hall, bridge, _db = on_a_link
    bridge.spawn()
    ready(hall, timeout=20)
    fake.hold("AT+CMGS")
    hall.offer("e1")
    assert fake.wait_for(lambda f: len(f.sent) == 1)  # the PDU is in the modem: now the bridge dies
    bridge.kill()
    fake.release()  # the modem sends it all the same; its +CMGS goes to nobody
    mark = hall.sent.mark()
    bridge.spawn()
    answer = hall.answer_of("e1", after=mark, timeout=20)  # said at start, without being asked
    assert answer["ok"] is False and answer["error"]["code"] == "uncertain"
    mark = hall.sent.mark()
    hall.offer("e1")  # and when the hall offers it again
    assert hall.answer_of("e1", after=mark) == answer
    hall.offer("e2", text="下一条")
    assert hall.answer_of("e2", timeout=20)["ok"]
    assert [text for _, text in fake.texts()] == ["请回复1", "下一条"]
    assert "may have gone out, so it is not sent again" in bridge.log()
    assert "13812345678" not in bridge.log()


def test_a_bridge_killed_between_recording_a_message_and_deleting_it_hands_it_over_once(on_a_link):
    fake, hall, bridge, db = on_a_link
    bridge.spawn()
    ready(hall, timeout=20)
    fake.hold("AT+CMGD")
    fake.deliver("13912345678", "1")
    fake.wait_for_command("AT+CMGD")
    bridge.kill()
    fake.release(execute=False)  # the delete died with the process
    assert len(fake.sim) == 1
    with sqlite3.connect(db) as conn:
        assert [row[0] for row in conn.execute("SELECT text FROM inbox")] == ["1"]
    bridge.spawn()
    assert fake.wait_for(lambda f: f.sim == {}, timeout=20)  # found again by the sweep, known, deleted
    fake.deliver("13912345678", "2")
    taken = hall.wait_taken(2, timeout=20)  # one at a time, in order: "1" was settled before "2"
    assert [m["text"] for m in taken] == ["1", "2"]
    assert len({r["request_id"] for r in hall.requests if r["text"] == "1"}) == 1
    with sqlite3.connect(db) as conn:
        assert sorted(row[0] for row in conn.execute("SELECT text FROM inbox")) == ["1", "2"]


def test_a_broker_restart_loses_neither_a_sent_answer_nor_a_received_message(tmp_path, fake):
    with LocalBroker() as broker:
        config = bridge_config(tmp_path, broker.port)
        hall = HallStandIn(broker.port, Topics(config.site.id))
        app = BridgeApp(config, config.bridges[0], fake=fake).start()
        try:
            ready(hall)
            fake.hold("AT+CMGS")
            hall.offer("e1")
            assert fake.wait_for(lambda f: len(f.sent) == 1)
            broker.stop()
            fake.release()  # sent while the broker is away: its answer cannot reach the hall now
            fake.deliver("13912345678", "1")  # received while the broker is away
            assert fake.wait_for(lambda f: f.sim == {})  # recorded (then deleted), though nobody can take it
            mark = hall.status.mark()
            broker.start()
            connected(hall, mark)  # the bridge is back (its status was republished)
            assert hall.connected.wait(20)
            hall.offer("e1")  # the hall offers every text not yet confirmed again
            assert hall.answer_of("e1", timeout=20)["ok"]
            assert all(a["ok"] for a in hall.answers("e1"))
            assert [m["text"] for m in hall.wait_taken(1, timeout=20)] == ["1"]
            assert len(fake.sent) == 1
        finally:
            app.close()
            hall.stop()


def test_a_hall_restart_in_the_middle_loses_nothing(broker, config, bridge, fake, hall):
    ready(hall)
    hall.answering = False
    fake.deliver("13912345678", "1")
    first = hall.wait_requests(1)[0]
    fake.hold("AT+CMGS")
    hall.offer("e1")
    assert fake.wait_for(lambda f: len(f.sent) == 1)
    hall.stop()  # the controller goes down
    fake.release()  # the answer to e1 goes to a broker with no hall listening
    fake.deliver("13912345678", "2")
    again = HallStandIn(broker.port, hall.topics)  # the controller is back
    try:
        again.publish(again.topics.hall_status, "online", retain=True)
        taken = again.wait_taken(2, timeout=20)
        assert [m["text"] for m in taken] == ["1", "2"]
        assert taken[0]["request_id"] == first["request_id"]
        again.offer("e1")
        assert again.answer_of("e1")["ok"]
        assert len(fake.sent) == 1
    finally:
        again.stop()


def test_sigterm_stops_the_bridge_cleanly_and_its_last_will_says_offline(tmp_path, broker):
    config = bridge_config(tmp_path, broker.port)  # modem: the fake, in the bridge's own process
    hall = HallStandIn(broker.port, Topics(config.site.id))
    bridge = BridgeProcess(tmp_path / "hall.toml")
    try:
        bridge.spawn()
        ready(hall, timeout=20)
        mark = hall.status.mark()
        assert bridge.terminate() == 0
        last = hall.wait_status(lambda s: not s["online"], mark)
        assert last == {"online": False, "state": "offline", "last_error": None, "outbox_queued": 0,
                        "inbox_waiting": 0, "parts_waiting": 0}
        mark = hall.status.mark()
        bridge.spawn()
        ready(hall, mark, timeout=20)
        mark = hall.status.mark()
        bridge.kill()  # only the broker can speak for it now
        assert hall.wait_status(lambda s: not s["online"], mark) == \
            {"online": False, "state": "offline", "last_error": None}
    finally:
        bridge.close()
        hall.stop()


def test_with_fake_modem_the_command_runs_without_the_configured_modem(tmp_path, broker):
    config = bridge_config(tmp_path, 1, modem='modem = { type = "serial", device = "/dev/no-such-modem" }')
    hall = HallStandIn(broker.port, Topics(config.site.id))
    bridge = BridgeProcess(tmp_path / "hall.toml", "--id", "gsm1", "--fake-modem",
                           "--broker", f"127.0.0.1:{broker.port}")  # the config names port 1
    try:
        bridge.spawn()
        status = ready(hall, timeout=20)
        assert status["modem"]["port"].startswith("/dev/pts/")
        hall.offer("e1")
        assert hall.answer_of("e1", timeout=20)["ok"]
        assert bridge.terminate() == 0
    finally:
        bridge.close()
        hall.stop()


# -- the command line and the config -----------------------------------------------------------------------

def test_the_command_says_which_bridge_is_missing(tmp_path, broker, capsys):
    bridge_config(tmp_path, broker.port)
    assert main(["bridge", "--config", str(tmp_path / "hall.toml"), "--id", "nope"]) == 2
    assert "no bridge 'nope' in the config's [[bridges]] (known: gsm1)" in capsys.readouterr().err


def test_with_two_bridges_the_command_wants_an_id(tmp_path, broker, capsys):
    bridge_config(tmp_path, broker.port, extra='\n[[bridges]]\nid = "gsm2"\n')
    assert main(["bridge", "--config", str(tmp_path / "hall.toml")]) == 2
    assert "say which bridge: --id ID" in capsys.readouterr().err


@pytest.mark.parametrize("extra, error", [
    ("retry_max_s = 0.01\n", "retry_max_s must not be less than retry_min_s"),
    ('modem = { type = "serial", pin = "12ab" }\n', "bridges[0].modem.serial.pin: String should match pattern"),
    ('modem = { type = "fake", fault = "smoke" }\n', "bridges[0].modem.fake.fault: Input should be"),
    ("atempts = 3\n", 'bridges[0].atempts: unknown key; did you mean "attempts"?'),
])
def test_a_bad_bridge_section_is_refused_with_where_and_why(tmp_path, broker, extra, error):
    path = write_config(tmp_path, broker.port)
    path.write_text(path.read_text(encoding="utf-8") + '\n[[bridges]]\nid = "gsm1"\n' + extra, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert error in str(refused.value)
    assert "12ab" not in str(refused.value)  # a PIN, even a wrong one, is never repeated


def test_the_bridge_db_lives_beside_the_hall_db_unless_told(tmp_path, broker):
    config = bridge_config(tmp_path, broker.port)
    assert db_path(config, config.bridges[0]) == Path(config.storage.db).parent / "bridge-gsm1.db"
    elsewhere = bridge_config(tmp_path, broker.port, extra='db = "/var/lib/paihao/sms.db"\n')
    assert db_path(elsewhere, elsewhere.bridges[0]) == Path("/var/lib/paihao/sms.db")


def test_a_bridge_stopped_while_the_hall_does_not_answer_stops_at_once_and_asks_again_later(tmp_path, broker, fake):
    """A stop (SIGTERM, the demo's Ctrl-C) does not wait out the hall's reply timeout: the hand-over
    is given up, the message stays in the bridge's store and goes again, same id, at the next start."""
    config = bridge_config(tmp_path, broker.port)
    config = config.model_copy(update={"bridges": [config.bridges[0].model_copy(update={"reply_timeout_s": 120.0})]})
    hall = HallStandIn(broker.port, Topics(config.site.id), answering=False)
    try:
        app = BridgeApp(config, config.bridges[0], fake=fake).start()
        ready(hall)
        fake.deliver("13912345678", "1")
        [asked] = hall.wait_requests(1)  # … and the bridge now waits for an answer that never comes
        stopping = threading.Thread(target=app.close)
        stopping.start()
        stopping.join(30)
        assert not stopping.is_alive(), "the bridge waited out the hall's 120 s reply timeout"
        hall.answering = True
        again = BridgeApp(config, config.bridges[0], fake=fake).start()
        try:
            [taken] = hall.wait_taken(1)
            assert taken["request_id"] == asked["request_id"] and taken["text"] == "1"
        finally:
            again.close()
    finally:
        hall.stop()
