"""A private Mosquitto on a free loopback port, for the demo, the tests and the benchmarks.

It is the real broker (Debian's mosquitto), not a stand-in; only its
config is ours: loopback only, anonymous, no persistence unless asked,
and ``set_tcp_nodelay`` so QoS 1 round trips are not held up by Nagle.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from paihao.errors import BrokerError

MOSQUITTO_PATHS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


def find_mosquitto() -> str:
    found = shutil.which("mosquitto") or next((p for p in MOSQUITTO_PATHS if Path(p).exists()), None)
    if not found:
        raise BrokerError("mosquitto is not installed (Debian: apt-get install mosquitto)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalBroker:
    """``with LocalBroker() as broker:`` gives ``broker.port``; ``restart()`` keeps the port."""

    def __init__(self, port: int | None = None, *, tcp_nodelay: bool = True, persistence: bool = False,
                 max_inflight: int = 0) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.tcp_nodelay = tcp_nodelay
        self.persistence = persistence
        self.max_inflight = max_inflight  # 0: no limit; else also the Receive Maximum it announces
        self._dir = Path(tempfile.mkdtemp(prefix="paihao-broker-"))
        self._process: subprocess.Popen | None = None

    def _write_config(self) -> Path:
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self._dir}/",
            f"set_tcp_nodelay {'true' if self.tcp_nodelay else 'false'}",
            "max_queued_messages 100000",
            f"max_inflight_messages {self.max_inflight}",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
        ]
        path = self._dir / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self, timeout: float = 10.0) -> LocalBroker:
        config = self._write_config()
        log_file = open(self._dir / "mosquitto.log", "ab")
        self._process = subprocess.Popen(
            [find_mosquitto(), "-c", str(config)], stdout=log_file, stderr=subprocess.STDOUT
        )
        log_file.close()
        self._wait_listening(timeout)
        return self

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process and self._process.poll() is not None:
                raise BrokerError(f"mosquitto exited at start: {self.log_text()[-500:]}")
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)  # polling a port that has no event to await
        raise BrokerError(f"mosquitto did not listen on {self.host}:{self.port} within {timeout:g} s")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_text(self) -> str:
        path = self._dir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


class ConfiguredBroker(LocalBroker):
    """The real mosquitto with a config file of our making (``paihao broker-config``'s), as a hall
    server runs it: for the tests of accounts, ACLs and TLS. ``port`` is the one the file listens on."""

    def __init__(self, config_file: Path, port: int, host: str = "127.0.0.1") -> None:
        super().__init__(port)
        self.host = host
        self.config_file = config_file

    def _write_config(self) -> Path:
        return self.config_file
