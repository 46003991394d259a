"""Secrets stay secret: a config dump masks them, and the real controller logs none,
whether the broker lets it in or refuses it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from paihao.credentials import connection, login
from paihao.dump import MASK
from paihao.errors import ConfigError
from tests.locked import LockedHall, start_locked


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paihao.cli", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def locked(tmp_path_factory) -> LockedHall:
    hall = start_locked(tmp_path_factory.mktemp("protected"))
    yield hall
    hall.close()


def test_a_config_dump_masks_every_secret(tmp_path):
    from tests.conftest import write_config

    path = write_config(tmp_path, 1883)
    text = path.read_text(encoding="utf-8").replace(
        '[mqtt]\nhost = "127.0.0.1"', '[mqtt]\nhost = "127.0.0.1"\nusername = "hall"\npassword = "pw-Secret-1"')
    text += '\n[[bridges]]\nid = "gsm1"\nmodem = { type = "serial", device = "/dev/ttyUSB2", pin = "4711" }\n'
    path.write_text(text, encoding="utf-8")
    done = _cli("check-config", "--dump", str(path))
    assert done.returncode == 0, done.stderr
    assert "pw-Secret-1" not in done.stdout and "4711" not in done.stdout
    dumped = json.loads(done.stdout)
    assert dumped["mqtt"]["password"] == MASK and dumped["mqtt"]["username"] == "hall"
    assert dumped["bridges"][0]["modem"]["pin"] == MASK
    assert dumped["storage"]["db"] == str(tmp_path / "hall.db")  # the effective value: resolved
    assert dumped["windows"][1]["depts"] == ["02", "05"]


class HallOutput:
    """``paihao -v hall`` (debug logging), its output read line by line as it comes."""

    def __init__(self, config: Path) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self.process = subprocess.Popen([sys.executable, "-m", "paihao.cli", "-v", "hall", "--config", str(config)],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()

    def wait_for(self, text: str, timeout: float = 15) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: any(text in line for line in self.lines), timeout), text

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(15)
        self._reader.join(5)
        self.process.stdout.close()  # type: ignore[union-attr]
        return "".join(self.lines)


def _run_hall(locked: LockedHall, config: Path, *, online: bool) -> str:
    """The controller until it is online and served a ticket, or was refused; its output."""
    hall = HallOutput(config)
    try:
        if online:
            hall.wait_for("published the hall's state; online")
            kiosk = locked.client("kiosk-k1")
            reply = kiosk.request(locked.topics.kiosk_request("k1"), {
                "request_id": f"dp-{time.monotonic_ns()}", "action": "ticket", "dept": "02", "item": "0202",
                "phone": "13812345678"}, timeout=5)
            kiosk.stop()
            assert reply["ok"]
        else:
            hall.wait_for("Not authorized")
    finally:
        output = hall.stop()
    return output


def test_the_controller_logs_no_password_and_no_phone_number(locked):
    output = _run_hall(locked, locked.config_path, online=True)
    assert "connected to MQTT broker" in output
    for password in locked.passwords.values():
        assert password not in output
    assert "13812345678" not in output


def test_a_refused_controller_says_so_without_the_password(locked):
    text = locked.config_path.read_text(encoding="utf-8").replace(
        'credentials = "broker/credentials.toml"', 'username = "hall"\npassword = "wrong-Secret-2"')
    config = locked.config_path.with_name("refused.toml")
    config.write_text(text, encoding="utf-8")
    output = _run_hall(locked, config, online=False)
    assert "refused paihao-hall" in output and "wrong-Secret-2" not in output
    assert locked.passwords["hall"] not in output


def test_a_process_finds_its_password_where_systemd_put_it(locked, tmp_path, monkeypatch):
    config = locked.config.model_copy(update={"mqtt": locked.config.mqtt.model_copy(update={"credentials": None})})
    assert login(config, "kiosk-k1") == (None, None)  # no file anywhere: anonymous, as the tests' broker
    (tmp_path / "mqtt").write_text(f'"kiosk-k1" = "{locked.passwords["kiosk-k1"]}"\n')
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert login(config, "kiosk-k1") == ("kiosk-k1", locked.passwords["kiosk-k1"])
    with pytest.raises(ConfigError, match="no password for account 'caller-p1'") as refused:
        connection(config, "caller-p1")
    assert locked.passwords["kiosk-k1"] not in str(refused.value)


def test_a_broken_credentials_file_is_named_without_quoting_it(tmp_path, locked):
    broken = tmp_path / "credentials.toml"
    broken.write_text('"hall" = "half-a-Secret-3\n')
    config = locked.config.model_copy(update={"mqtt": locked.config.mqtt.model_copy(
        update={"credentials": str(broken)})})
    with pytest.raises(ConfigError) as error:
        login(config, "hall")
    assert str(broken) in str(error.value) and "half-a-Secret-3" not in str(error.value)
