"""``paihao broker-config``, the real command: its files, idempotency, passwords; and the
optional TLS listener, with the real mosquitto and the real controller."""

from __future__ import annotations

import re
import stat
import subprocess
from pathlib import Path

import pytest

from paihao.broker_config import hash_matches, parse_passwd
from paihao.credentials import read_credentials
from paihao.errors import BrokerError
from tests.conftest import FakeClock, RunningHall
from tests.locked import broker_config, locked_config_file, start_locked


def _files(out: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(out.iterdir())}


def test_the_files_lock_the_broker_and_say_so(tmp_path):
    path = locked_config_file(tmp_path)
    done = broker_config(path)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "broker"
    conf = (out / "mosquitto.conf").read_text()
    for line in ("allow_anonymous false", "set_tcp_nodelay true", f"password_file {out}/passwd",
                 f"acl_file {out}/acl", "log_dest stderr", "persistence false"):
        assert line in conf.splitlines(), line
    acl = (out / "acl").read_text()
    assert "user kiosk-k1\n" in acl and "topic write paihao/v1/" in acl
    assert "topic readwrite" not in acl.split("user monitor")[1]  # only the hall may write everywhere
    passwords = read_credentials(out / "credentials.toml")
    hashes = parse_passwd((out / "passwd").read_text())
    assert set(hashes) == set(passwords)
    assert all(hash_matches(hashes[name], pw) for name, pw in passwords.items())
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert modes == {"mosquitto.conf": 0o644, "passwd": 0o640, "acl": 0o640, "credentials.toml": 0o600}
    assert stat.S_IMODE(out.stat().st_mode) == 0o750
    for password in passwords.values():  # what it printed names files, never a password
        assert password not in done.stdout + done.stderr


def test_running_it_twice_changes_nothing_and_says_so(tmp_path):
    path = locked_config_file(tmp_path)
    assert broker_config(path).returncode == 0
    before = _files(tmp_path / "broker")
    again = broker_config(path)
    assert again.returncode == 0 and "nothing changed" in again.stdout
    assert _files(tmp_path / "broker") == before  # same bytes, not even rewritten


def test_given_passwords_are_used_kept_ones_stay_and_removed_devices_lose_their_account(tmp_path):
    path = locked_config_file(tmp_path)
    assert broker_config(path).returncode == 0
    first = read_credentials(tmp_path / "broker" / "credentials.toml")
    chosen = tmp_path / "chosen.toml"
    chosen.write_text('"kiosk-k1" = "a password with \\"quotes\\" and spaces"\n', encoding="utf-8")
    path.write_text(path.read_text(encoding="utf-8").replace('[[kiosks]]\nid = "k2"\n', ""), encoding="utf-8")
    assert broker_config(path, "--credentials", str(chosen)).returncode == 0
    second = read_credentials(tmp_path / "broker" / "credentials.toml")
    assert second["kiosk-k1"] == 'a password with "quotes" and spaces'
    assert "kiosk-k2" not in second and "kiosk-k2" not in (tmp_path / "broker" / "passwd").read_text()
    assert {k: v for k, v in second.items() if k != "kiosk-k1"} == {k: v for k, v in first.items()
                                                                   if k not in ("kiosk-k1", "kiosk-k2")}


def test_a_broker_the_hall_could_not_reach_is_refused_before_writing(tmp_path):
    path = locked_config_file(tmp_path)
    text = path.read_text(encoding="utf-8")
    # The processes dial [mqtt] port; a broker listening elsewhere would lock them all out.
    path.write_text(re.sub(r'(\[broker\]\nbind = "127.0.0.1"\nport = )\d+', r"\g<1>1", text), encoding="utf-8")
    done = broker_config(path)
    assert done.returncode == 2
    assert "is not [broker] port" in done.stderr
    assert not (tmp_path / "broker").exists()


# -- TLS ---------------------------------------------------------------------------------


def _certificate(folder: Path, name: str = "127.0.0.1") -> None:
    folder.mkdir(exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"),
                    "-subj", f"/CN={name}", "-addext", f"subjectAltName=IP:{name}"],
                   check=True, capture_output=True, timeout=60)


def test_over_tls_the_hall_serves_a_kiosk_and_a_broker_with_another_certificate_is_refused(tmp_path):
    _certificate(tmp_path / "tls")
    locked = start_locked(tmp_path, tls=True)
    try:
        conf = (tmp_path / "broker" / "mosquitto.conf").read_text()
        assert f"listener {locked.broker.port} 127.0.0.1" in conf and "certfile " in conf
        watcher = locked.client("monitor", reply=False)
        hall = RunningHall(locked.config, FakeClock()).start(watcher)  # the polled client, over TLS
        try:
            kiosk = locked.client("kiosk-k1")
            reply = kiosk.request(locked.topics.kiosk_request("k1"),
                                  {"request_id": "tls-1", "action": "ticket", "dept": "02", "item": "0202",
                                   "phone": "13812345678"}, timeout=5)
            assert reply["ok"]
            kiosk.stop()
        finally:
            hall.stop()
            watcher.stop()
        _certificate(tmp_path / "other")  # a broker we do not trust: a stranger's certificate
        # No CONNACK ever comes, so start() gives up after its wait: 2 s is plenty on loopback.
        with pytest.raises(BrokerError, match="no MQTT broker answered"):
            locked.client("kiosk-k1", wait=2, ca_file=str(tmp_path / "other" / "cert.pem"))
        with pytest.raises(BrokerError, match="no MQTT broker answered"):  # and no plain MQTT on the TLS port
            locked.client("kiosk-k1", wait=2, tls=False, ca_file=None)
    finally:
        locked.close()
