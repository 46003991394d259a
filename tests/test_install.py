"""``./install``, the real script, into a staging root (``--root``): every file as it would be on
a Pi, the users and units it would make remembered by the StagedSystem that ships in paihao;
and ``systemd-analyze verify`` over the units as installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from paihao.credentials import read_credentials
from paihao.install.system import StagedSystem

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "config" / "rongchang.toml"


def install(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(REPO / "install"), *map(str, args)], capture_output=True, text=True, timeout=120)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _tree(root: Path) -> dict[str, tuple[bytes | None, int, int]]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None, _mode(p), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


def _hall_with_bridge(tmp_path: Path) -> Path:
    """The Rongchang config with an SMS bridge, as a server's would be."""
    path = tmp_path / "hall.toml"
    text = CONFIG.read_text(encoding="utf-8")
    assert '[[bridges]]\nid = "gsm1"' in text  # the shipped config has its modem
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def server(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "server"
    config = _hall_with_bridge(tmp_path)
    done = install("server", "--config", config, "--root", root)
    assert done.returncode == 0, done.stderr
    return root, config


def test_the_server_gets_its_files_with_their_owners_and_modes(server):
    root, config = server
    system = StagedSystem(root)
    expected = {  # path: (mode, owner)
        "/etc/paihao/hall.toml": (0o640, "root:paihao"),
        "/etc/paihao/credentials.toml": (0o600, "root:root"),
        "/etc/paihao/broker": (0o750, "root:mosquitto"),
        "/etc/paihao/broker/mosquitto.conf": (0o644, "root:root"),
        "/etc/paihao/broker/passwd": (0o640, "root:mosquitto"),
        "/etc/paihao/broker/acl": (0o640, "root:mosquitto"),
        "/etc/paihao/broker/credentials.toml": (0o600, "root:root"),
        "/var/lib/paihao": (0o700, "paihao:paihao"),
        "/etc/systemd/system/paihao-hall.service": (0o644, "root:root"),
        "/etc/systemd/system/paihao-bridge@.service": (0o644, "root:root"),
        "/etc/systemd/system/mosquitto.service.d/paihao.conf": (0o644, "root:root"),
    }
    for path, (mode, owner) in expected.items():
        assert (_mode(system.at(path)), system.owner(path)) == (mode, owner), path
    assert system.at("/etc/paihao/hall.toml").read_bytes() == config.read_bytes()
    # This Pi's passwords: the hall's and the bridge's, the same as the broker's; no device's.
    here = read_credentials(system.at("/etc/paihao/credentials.toml"))
    everyone = read_credentials(system.at("/etc/paihao/broker/credentials.toml"))
    assert set(here) == {"hall", "bridge-gsm1"}
    assert all(everyone[name] == password for name, password in here.items())
    assert {"kiosk-k1", "caller-pad1", "display-wall1", "monitor"} <= set(everyone)
    conf = system.at("/etc/paihao/broker/mosquitto.conf").read_text()
    assert "password_file /etc/paihao/broker/passwd" in conf and "user mosquitto" in conf
    assert system.state["users"] == {"paihao": ["dialout"]}
    units = {"mosquitto.service", "paihao-hall.service", "paihao-bridge@gsm1.service"}
    assert set(system.state["enabled"]) == set(system.state["active"]) == units


def test_running_it_twice_changes_nothing_and_says_so(server):
    root, config = server
    before = _tree(root)
    again = install("server", "--config", config, "--root", root)
    assert again.returncode == 0, again.stderr
    assert "nothing changed" in again.stdout and "ran:" not in again.stdout
    assert _tree(root) == before  # not one byte, mode or time


def test_a_changed_config_is_copied_and_restarts_what_reads_it(server):
    root, config = server
    config.write_text(config.read_text(encoding="utf-8").replace("red_factor = 2", "red_factor = 3"),
                      encoding="utf-8")
    done = install("server", "--config", config, "--root", root)
    assert done.returncode == 0, done.stderr
    assert "wrote /etc/paihao/hall.toml" in done.stdout
    assert "systemctl restart paihao-hall.service" in done.stdout
    assert "restart mosquitto" not in done.stdout  # its files did not change


@pytest.mark.parametrize("edit, message", [
    (("red_factor = 2", "red_factor = 0.5"), "supervision.red_factor"),
    (('db = "/var/lib/paihao/hall.db"', 'db = "/srv/hall.db"'), "may write only under /var/lib/paihao"),
    (('[mqtt]\nhost = "localhost"', '[mqtt]\nhost = "localhost"\nusername = "x"\npassword = "y"'),
     "leave credentials, username and password out"),
    (("port = 1883", "port = 8883"), "is not [broker] port"),
])
def test_an_invalid_config_is_refused_before_anything_is_changed(tmp_path, edit, message):
    config = tmp_path / "hall.toml"
    config.write_text(CONFIG.read_text(encoding="utf-8").replace(*edit), encoding="utf-8")
    root = tmp_path / "root"
    done = install("server", "--config", config, "--root", root)
    assert done.returncode == 2
    assert message in done.stderr and "nothing was changed" in done.stderr
    assert not root.exists() or not any(root.iterdir())


def test_a_device_pi_keeps_only_its_own_password(server, tmp_path):
    root, config = server
    master = StagedSystem(root).at("/etc/paihao/broker/credentials.toml")
    kiosk = tmp_path / "kiosk"
    refused = install("kiosk", "--id", "k1", "--config", config, "--root", kiosk)
    assert refused.returncode == 2 and "--credentials" in refused.stderr and not kiosk.exists()
    unknown = install("kiosk", "--id", "k9", "--config", config, "--credentials", master, "--root", kiosk)
    assert unknown.returncode == 2 and "no kiosk 'k9'" in unknown.stderr
    done = install("kiosk", "--id", "k1", "--config", config, "--credentials", master, "--root", kiosk)
    assert done.returncode == 0, done.stderr
    system = StagedSystem(kiosk)
    assert read_credentials(system.at("/etc/paihao/credentials.toml")) == {
        "kiosk-k1": read_credentials(master)["kiosk-k1"]}
    assert not system.at("/etc/paihao/broker").exists()  # no broker, no master file on a kiosk
    assert system.state["enabled"] == system.state["active"] == ["paihao-kiosk@k1.service"]
    assert set(system.state["users"]["paihao"]) == {"video", "render", "input", "lp", "dialout"}
    again = install("kiosk", "--id", "k1", "--config", config, "--root", kiosk)  # its password is there now
    assert again.returncode == 0 and "nothing changed" in again.stdout


def test_a_display_beside_the_server_adds_its_account_and_keeps_the_hall_running(server):
    root, config = server
    master = StagedSystem(root).at("/etc/paihao/broker/credentials.toml")
    done = install("display", "--id", "wall1", "--config", config, "--credentials", master, "--root", root)
    assert done.returncode == 0, done.stderr
    system = StagedSystem(root)
    assert set(read_credentials(system.at("/etc/paihao/credentials.toml"))) == {"hall", "bridge-gsm1",
                                                                                 "display-wall1"}
    assert "paihao-display@wall1.service" in system.state["active"]
    assert "paihao-hall.service" in system.state["active"]
    # the hall's credentials file changed under it: it is restarted to read it
    assert "systemctl restart paihao-hall.service" in done.stdout


def test_uninstall_stops_everything_and_purge_takes_the_data_too(server):
    root, _config = server
    done = install("uninstall", "--root", root)
    assert done.returncode == 0, done.stderr
    system = StagedSystem(root)
    assert not [u for u in system.state["enabled"] + system.state["active"] if u.startswith("paihao-")]
    assert not system.at("/etc/systemd/system/paihao-hall.service").exists()
    assert not system.at("/etc/systemd/system/mosquitto.service.d/paihao.conf").exists()
    assert "systemctl restart mosquitto.service" in done.stdout  # back on Debian's config
    assert system.at("/etc/paihao/hall.toml").exists() and system.at("/var/lib/paihao").exists()  # kept
    purged = install("uninstall", "--purge", "--root", root)
    assert purged.returncode == 0, purged.stderr
    system = StagedSystem(root)
    assert not system.at("/etc/paihao").exists() and not system.at("/var/lib/paihao").exists()
    assert system.state["users"] == {}


# -- the units -------------------------------------------------------------------------------

UNITS = sorted(p.name for p in (REPO / "systemd").glob("*.service"))


@pytest.mark.parametrize("name", UNITS)
def test_each_unit_is_a_hardened_watched_service(name):
    text = (REPO / "systemd" / name).read_text()
    for line in ("Type=notify", "Restart=always", "User=paihao", "ProtectSystem=strict", "NoNewPrivileges=yes",
                 "PrivateTmp=yes", "UMask=0077", "StandardOutput=journal", "StandardError=journal",
                 "Wants=network-online.target mosquitto.service", "After=network-online.target mosquitto.service",
                 "LoadCredential=mqtt:/etc/paihao/credentials.toml"):
        assert line in text.splitlines(), f"{name}: {line}"
    assert re.search(r"^WatchdogSec=\d+$", text, re.M)
    assert re.findall(r"^ReadWritePaths=(.*)$", text, re.M) == ["/var/lib/paihao"]  # nothing else writable
    assert "--config /etc/paihao/hall.toml" in text and ("--id %i" in text) == name.endswith("@.service")


def _verifiable_root(server_root: Path, tmp_path: Path) -> Path:
    """The staged Pi, with the system's own units and stand-ins for the programs they start."""
    root = tmp_path / "verify"
    shutil.copytree(server_root, root, symlinks=True)
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    for unit in ["etc/systemd/system", "usr/lib/systemd/system/mosquitto.service"]:
        for path in ([root / unit] if unit.endswith(".service") else (root / unit).rglob("*.service")):
            for program in re.findall(r"^Exec\w+=[-@!+:]*(/\S+)", path.read_text(), re.M):
                stub = root / program.lstrip("/")
                if not stub.exists():
                    stub.parent.mkdir(parents=True, exist_ok=True)
                    stub.write_text("#!/bin/sh\n")
                    stub.chmod(0o755)
    return root


def test_systemd_analyze_verify_finds_nothing_to_say(server, tmp_path):
    root, config = server
    for role, device in (("kiosk", "k1"), ("caller", "pad1"), ("display", "wall1")):
        master = StagedSystem(root).at("/etc/paihao/broker/credentials.toml")
        assert install(role, "--id", device, "--config", config, "--credentials", master,
                       "--root", root).returncode == 0
    root = _verifiable_root(root, tmp_path)
    names = ["paihao-hall.service", "paihao-bridge@gsm1.service", "paihao-kiosk@k1.service",
             "paihao-caller@pad1.service", "paihao-display@wall1.service", "mosquitto.service"]
    done = subprocess.run(["systemd-analyze", "verify", f"--root={root}", *names],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "SYSTEMD_LOG_COLOR": "0", "SYSTEMD_PAGER": ""})
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr
    state = json.loads((root / ".paihao-staged.json").read_text())
    assert set(names) <= set(state["active"])


def test_without_systemd_running_it_stops_before_installing_anything(tmp_path):
    """A container, or a Pi booted otherwise: no package, no venv, no user, nothing written."""
    env = {**os.environ, "PAIHAO_SYSTEMD_RUNTIME": str(tmp_path / "not-booted-with-systemd")}
    done = subprocess.run([str(REPO / "install"), "server", "--config", str(CONFIG)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "systemd is not running here" in done.stderr and "nothing was changed" in done.stderr
    assert done.stdout == ""
