"""The controller as a hall manager runs it: the real ``paihao hall`` process,
killed, stopped and restarted, with the broker restarted under it."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bus.broker import LocalBroker
from bus.topics import Topics
from paihao.config import load_config
from tests.conftest import Peer, write_config


class HallProcess:
    """``paihao hall --config FILE`` in its own process."""

    def __init__(self, config_path: Path, peer: Peer, broker_port: int) -> None:
        self.config_path, self.peer, self.broker_port = config_path, peer, broker_port
        self.process: subprocess.Popen | None = None
        self.log = config_path.with_suffix(".log")

    def start(self) -> HallProcess:
        mark = self.peer.heard.mark()
        with self.log.open("a") as log:  # a file, not a pipe nobody reads while it fills
            self.process = subprocess.Popen(
                [sys.executable, "-m", "paihao.cli", "hall", "--config", str(self.config_path),
                 "--broker", f"127.0.0.1:{self.broker_port}"],
                stdout=log, stderr=subprocess.STDOUT,
            )
        self.wait_status("online", mark)
        return self

    def wait_status(self, status: str, after: int, timeout: float = 15) -> None:
        topic = self.peer.topics.hall_status
        self.peer.heard.wait_for(lambda m: m.topic == topic and m.payload == status.encode(), timeout, after)

    def stop(self) -> str:
        """SIGTERM, then the process's output."""
        assert self.process
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=15)
        return self.log.read_text()


@pytest.fixture
def setup(tmp_path: Path, broker: LocalBroker):
    path = write_config(tmp_path, broker.port)
    config = load_config(path)
    peer = Peer(broker.port, Topics(config.site.id))
    procs: list[HallProcess] = []

    def spawn() -> HallProcess:
        procs.append(HallProcess(path, peer, broker.port).start())
        return procs[-1]

    yield config, peer, spawn
    for proc in procs:
        if proc.process and proc.process.poll() is None:
            proc.process.kill()
            proc.process.wait()
    peer.stop()


def _tickets(db: str) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT number, status FROM tickets"))


def test_kill_9_in_a_burst_loses_no_acknowledged_ticket_and_reuses_no_number(setup):
    config, peer, spawn = setup
    hall = spawn()
    requests = [
        {"request_id": uuid.uuid4().hex, "action": "ticket", "dept": "02", "item": "0202",
         "phone": f"138{n:08d}"}
        for n in range(300)
    ]
    futures = [peer.request_async(peer.topics.kiosk_request(f"k{n % 4}"), r) for n, r in enumerate(requests)]
    # Kill the controller once a third of the burst is acknowledged.
    acknowledged_before = 100
    done_count = 0
    for future in futures:
        future.result(timeout=10)
        done_count += 1
        if done_count == acknowledged_before:
            break
    mark = peer.heard.mark()
    hall.process.kill()
    hall.process.wait()
    hall.wait_status("offline", mark)  # the broker delivered the Last Will
    mark = peer.heard.mark()
    acknowledged = {}
    for request, future in zip(requests, futures):
        if future.done() and not future.cancelled():
            acknowledged[request["request_id"]] = future.result()["ticket"]["number"]
    assert len(acknowledged) >= acknowledged_before
    for future in futures:
        future.cancel()

    stored = _tickets(config.storage.db)
    for number in acknowledged.values():
        assert stored[number] == "waiting"

    spawn()  # restart: the same database
    assert peer.heard.wait_for(lambda m: m.topic == peer.topics.hall_status and m.payload == b"online", 15, mark)
    # Every kiosk retries what it never heard back about, with the same request_id.
    replies = {
        r["request_id"]: peer.request(peer.topics.kiosk_request(f"k{n % 4}"), r, timeout=5)
        for n, r in enumerate(requests)
    }
    numbers = [reply["ticket"]["number"] for reply in replies.values()]
    for request_id, number in acknowledged.items():
        assert replies[request_id]["ticket"]["number"] == number  # the first answer again
    assert sorted(numbers) == [f"02{n:03d}" for n in range(1, 301)]  # each number once, none skipped
    assert len(_tickets(config.storage.db)) == 300


def test_sigterm_says_offline_and_exits_cleanly(setup):
    config, peer, spawn = setup
    hall = spawn()
    assert peer.ticket()["ok"]
    mark = peer.heard.mark()
    hall.process.send_signal(signal.SIGTERM)
    assert hall.process.wait(timeout=10) == 0
    hall.wait_status("offline", mark)
    output = hall.stop()
    assert "stopped" in output
    assert "13812345678" not in output  # no full phone number in the logs


def test_broker_restart_without_persistence_gets_the_retained_state_back(tmp_path: Path):
    with LocalBroker(persistence=False) as private:
        path = write_config(tmp_path, private.port)
        config = load_config(path)
        topics = Topics(config.site.id)
        with Peer(private.port, topics) as peer:
            hall = HallProcess(path, peer, private.port).start()
            try:
                peer.command("1", "login", clerk="c01")
                issued = peer.ticket()["ticket"]["number"]
                private.restart()  # all retained messages are gone with it
                with Peer(private.port, topics) as newcomer:
                    status = newcomer.heard.wait_for(lambda m: m.topic == topics.hall_status, 20)
                    assert status.payload == b"online"
                    queue = newcomer.heard.latest(topics.queue("02"), 20)
                    window = newcomer.heard.latest(topics.window("1"), 20)
                assert queue["next"] == [issued]
                assert window["clerk"] == "c01" and window["status"] == "open"
            finally:
                hall.stop()


def test_no_number_is_reused_after_a_restart(setup):
    config, peer, spawn = setup
    hall = spawn()
    first = peer.ticket()["ticket"]["number"]
    hall.stop()
    spawn()
    second = peer.ticket()["ticket"]["number"]
    assert (first, second) == ("02001", "02002")


def test_idempotent_across_restart(setup):
    config, peer, spawn = setup
    hall = spawn()
    request = {"request_id": "kiosk-k1-000017", "action": "ticket", "dept": "05", "item": "0501", "phone": "13912345678"}
    first = peer.request(peer.topics.kiosk_request("k1"), request, timeout=5)
    hall.stop()
    spawn()
    again = peer.request(peer.topics.kiosk_request("k1"), request, timeout=5)
    assert again == first
    assert list(_tickets(config.storage.db)) == ["05001"]
