"""Installing a role on this Pi, and taking paihao off it again.

The order: check the config (nothing is touched if it fails); the service user;
/etc/paihao (the config, this Pi's passwords); the broker's files on the server;
/var/lib/paihao; the units; then systemd: enable and start what is not running,
restart what runs on a file that changed. Every step compares before it
writes, so a second run changes nothing, and says so.
"""

from __future__ import annotations

import logging
from pathlib import Path

from paihao import broker_config
from paihao.config import HallConfig, load_config
from paihao.credentials import generate_password, read_credentials, render_credentials
from paihao.errors import ConfigError
from paihao.install.roles import DATA, ETC, ROLES, UNITS, USER, Role, accounts_here, check, units
from paihao.install.system import RealSystem, StagedSystem

System = RealSystem | StagedSystem

log = logging.getLogger(__name__)

BROKER = ETC / "broker"
CONFIG = ETC / "hall.toml"
CREDENTIALS = ETC / "credentials.toml"
DROP_IN = UNITS / "mosquitto.service.d" / "paihao.conf"
HEADER = "Written by paihao's installer: the broker passwords of the processes on this Pi.\nFor root only; " \
         "systemd hands each service its file (LoadCredential=mqtt:...)."


def validate(role_name: str, config_file: Path, device: str | None) -> tuple[Role, HallConfig]:
    """The config as it will be read once installed; ConfigError if it would not run."""
    role = ROLES[role_name]
    config = load_config(config_file, folder=ETC)
    check(role, config, device)
    return role, config


def install(system: System, role_name: str, config_file: Path, source: Path, *, device: str | None = None,
            credentials: Path | None = None) -> list[str]:
    """Install ``role_name``; the list of what changed (empty: nothing)."""
    role, config = validate(role_name, config_file, device)
    given = read_credentials(credentials) if credentials else {}
    passwords = _passwords_here(system, role, config, device, given)  # may refuse: still nothing touched
    _user(system, role)
    system.mkdir(ETC, 0o755)
    config_changed = system.write(CONFIG, config_file.read_bytes(), 0o640, "root", USER)
    passwords_changed = system.write(CREDENTIALS, render_credentials(passwords, comment=HEADER).encode(), 0o600)
    broker_changed = _broker(system, config, given) if role.name == "server" else False
    system.mkdir(DATA, 0o700, USER, USER)
    units_changed = _units(system, role, source)
    if units_changed or broker_changed:
        system.run("systemctl", "daemon-reload")
    if role.name == "server":
        _start(system, ["mosquitto.service"], restart=broker_changed)
    _start(system, units(role, config, device), restart=config_changed or passwords_changed or units_changed)
    if config_changed or passwords_changed:
        # Other roles on this Pi read the same files.
        others = [u for u in system.enabled_units("paihao-") if u not in units(role, config, device)]
        for unit in others:
            if system.unit_active(unit):
                system.run("systemctl", "restart", unit)
    return system.changes + [f"ran: {c}" for c in system.log]


def _passwords_here(system: System, role: Role, config: HallConfig, device: str | None,
                    given: dict[str, str]) -> dict[str, str]:
    """This Pi's file: what it had, with this role's accounts added or updated."""
    old = system.read(CREDENTIALS)
    here = read_credentials(system.at(CREDENTIALS)) if old is not None else {}
    master = system.at(BROKER / broker_config.CREDENTIALS)
    known = read_credentials(master) if role.name == "server" and master.exists() else {}
    for account in accounts_here(role, config, device):
        password = given.get(account) or known.get(account) or here.get(account)
        if password is None and role.name != "server":
            raise ConfigError(f"no password for {account!r}: give the file the server's installer wrote "
                              f"(/etc/paihao/broker/credentials.toml there) with --credentials FILE")
        here[account] = password or generate_password()
    return here


def _user(system: System, role: Role) -> None:
    if not system.user_exists(USER):
        system.run("useradd", "--system", "--user-group", "--home-dir", str(DATA), "--no-create-home",
                   "--shell", "/usr/sbin/nologin", "--comment", "paihao service", USER)
    missing = [g for g in role.groups if system.group_exists(g) and g not in system.groups_of(USER)]
    if missing:
        system.run("usermod", "-a", "-G", ",".join(missing), USER)


def _broker(system: System, config: HallConfig, given: dict[str, str]) -> bool:
    """broker-config's four files in /etc/paihao/broker, and mosquitto pointed at them."""
    master = system.at(BROKER / broker_config.CREDENTIALS)
    previous = read_credentials(master) if master.exists() else {}
    here = read_credentials(system.at(CREDENTIALS))  # what this installer just wrote for the hall
    passwords = broker_config.choose_passwords(config, given, here, previous)
    old_passwd = system.read(BROKER / broker_config.PASSWD)
    old_hashes = broker_config.parse_passwd(old_passwd.decode()) if old_passwd else {}
    files = broker_config.render(config, passwords, BROKER, old_hashes=old_hashes, source=str(CONFIG))
    changed = system.mkdir(BROKER, 0o750, "root", "mosquitto")
    for file in files:
        group = "mosquitto" if file.broker_reads else "root"
        changed |= system.write(BROKER / file.name, file.text.encode(), file.mode, "root", group)
    return changed


def _units(system: System, role: Role, source: Path) -> bool:
    changed = False
    for name in role.templates:
        changed |= system.write(UNITS / name, (source / "systemd" / name).read_bytes(), 0o644)
    if role.name == "server":
        drop_in = (source / "systemd" / "mosquitto.service.d" / "paihao.conf").read_bytes()
        changed |= system.write(DROP_IN, drop_in, 0o644)
    return changed


def _start(system: System, names: list[str], *, restart: bool) -> None:
    for unit in names:
        if not system.unit_enabled(unit):
            system.run("systemctl", "enable", unit)
        if not system.unit_active(unit):
            system.run("systemctl", "start", unit)
        elif restart:
            system.run("systemctl", "restart", unit)


def uninstall(system: System, *, purge: bool = False) -> list[str]:
    """Stop and remove every paihao unit; with ``purge`` the config, the data and the user too."""
    for unit in system.enabled_units("paihao-"):
        system.run("systemctl", "disable", "--now", unit)
    removed = [system.remove(UNITS / role_unit) for role in ROLES.values() for role_unit in role.templates]
    broker = system.remove(DROP_IN)
    if any(removed) or broker:
        system.run("systemctl", "daemon-reload")
    if broker and system.unit_active("mosquitto.service"):
        system.run("systemctl", "restart", "mosquitto.service")  # back on Debian's own config
    if purge:
        system.remove(ETC)
        system.remove(DATA)
        if system.user_exists(USER):
            system.run("userdel", USER)
    return system.changes + [f"ran: {c}" for c in system.log]
