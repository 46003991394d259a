"""systemd's notify protocol, spoken by the real ``paihao`` processes to a real unix datagram
socket standing in for systemd: READY once serving, WATCHDOG from the main loop while it
turns (and not while it hangs), STOPPING on the way out."""

from __future__ import annotations

import os
import signal
import socket
import threading
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hall.service import HallService
from paihao.systemd import Notifier
from tests.conftest import FakeClock, write_config

WATCHDOG_USEC = 400_000  # a ping every 0.2 s


class FakeSystemd:
    """The receiving end of $NOTIFY_SOCKET."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "notify.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))

    def env(self) -> dict[str, str]:
        return {**os.environ, "NOTIFY_SOCKET": str(self.path), "WATCHDOG_USEC": str(WATCHDOG_USEC)}

    def next(self, timeout: float) -> str | None:
        """The next message, or None after ``timeout`` seconds of silence."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(4096).decode()
        except TimeoutError:
            return None

    def wait_for(self, field: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.next(left)
            if message is not None and field in message.splitlines():
                return message
        raise AssertionError(f"no {field} from the process within {timeout} s")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[FakeSystemd]:
    fake = FakeSystemd(tmp_path)
    yield fake
    fake.close()


def _spawn(args: list[str], systemd: FakeSystemd, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "paihao.cli", *args], env=systemd.env(),
                                stdout=out, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def test_the_hall_process_is_ready_feeds_the_watchdog_and_says_it_is_stopping(tmp_path, broker, systemd):
    path = write_config(tmp_path, broker.port)
    hall = _spawn(["hall", "--config", str(path)], systemd, tmp_path / "hall.log")
    try:
        assert "STATUS=serving site" in systemd.wait_for("READY=1")
        for _ in range(3):
            systemd.wait_for("WATCHDOG=1", timeout=5)
        assert _stop(hall) == 0
        systemd.wait_for("STOPPING=1", timeout=5)
    finally:
        _stop(hall)


class StallingClock(FakeClock):
    """The hall's clock, which can be made to hang whoever reads it: the hall loop."""

    def __init__(self) -> None:
        super().__init__()
        self.running = threading.Event()
        self.running.set()

    def __call__(self):
        self.running.wait()
        return super().__call__()


def test_the_watchdog_is_fed_from_the_hall_loop_and_not_while_it_hangs(hall_config, peer, systemd):
    clock = StallingClock()
    service = HallService(hall_config, clock=clock)
    environ = {"NOTIFY_SOCKET": str(systemd.path), "WATCHDOG_USEC": str(WATCHDOG_USEC)}
    stop = threading.Event()
    with Notifier(environ=environ) as notifier:
        loop = threading.Thread(target=service.run, args=(stop,), kwargs={"alive": notifier.watchdog})
        loop.start()
        try:
            for _ in range(3):
                systemd.wait_for("WATCHDOG=1", timeout=5)
            clock.running.clear()  # the loop hangs at its next look at the clock (a request, a tick)
            reply = peer.request_async(peer.topics.kiosk_request("k1"), {
                "request_id": uuid.uuid4().hex, "action": "ticket", "dept": "02", "item": "0202",
                "phone": "13812345678"})
            silent = False
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not silent:
                silent = systemd.next(timeout=2.5 * WATCHDOG_USEC / 1e6) is None
            clock.running.set()
            assert silent, "the watchdog was fed while the hall loop hung"
            systemd.wait_for("WATCHDOG=1", timeout=5)  # fed again once the loop turns
            assert reply.result(timeout=10)["ok"]  # and the request that waited is served
        finally:
            clock.running.set()
            stop.set()
            service.wake()
            loop.join(10)
            service.close()


@pytest.mark.parametrize("args", [
    ["kiosk", "--id", "k1", "--screenshots", "{tmp}/shots"],
    ["caller", "--id", "p1"],
    ["display", "--id", "wall1", "--screenshots", "{tmp}/shots"],
    ["bridge", "--id", "gsm1"],
], ids=["kiosk", "caller", "display", "bridge"])
def test_a_device_is_ready_and_feeds_the_watchdog(tmp_path, broker, systemd, args):
    path = write_config(tmp_path, broker.port)
    if args[0] == "bridge":  # tests/hall.toml has none: the bridge's tests bring their own
        path.write_text(path.read_text(encoding="utf-8") + '\n[[bridges]]\nid = "gsm1"\nmodem = { type = "fake" }\n',
                        encoding="utf-8")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    device = _spawn([args[0], "--config", str(path), *args[1:]], systemd, tmp_path / "device.log")
    try:
        systemd.wait_for("READY=1")
        systemd.wait_for("WATCHDOG=1", timeout=5)
        systemd.wait_for("WATCHDOG=1", timeout=5)
        assert _stop(device) == 0, (tmp_path / "device.log").read_text()
        systemd.wait_for("STOPPING=1", timeout=5)
    finally:
        _stop(device)


def test_outside_systemd_nothing_is_sent_and_children_do_not_inherit_the_socket(systemd):
    quiet = Notifier(environ={})
    quiet.ready()
    quiet.watchdog()
    assert not quiet.active
    environ = {"NOTIFY_SOCKET": str(systemd.path), "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}
    with Notifier(environ=environ) as other_pid:  # the watchdog is another process's
        assert other_pid.interval is None and environ == {}
        other_pid.ready()
    assert systemd.next(1) == "READY=1"
