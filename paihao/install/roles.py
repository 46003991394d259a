"""What each kind of Pi runs, and the checks its config must pass before anything is installed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from paihao.accounts import HALL, account_name
from paihao.broker_config import check_listeners
from paihao.config import HallConfig
from paihao.errors import ConfigError

ETC = Path("/etc/paihao")
DATA = Path("/var/lib/paihao")
UNITS = Path("/etc/systemd/system")
USER = "paihao"


@dataclass(frozen=True)
class Role:
    name: str
    templates: tuple[str, ...]  # unit files from systemd/
    groups: tuple[str, ...]  # the service user's groups, where the Pi has them
    needs_id: bool


ROLES = {
    "server": Role("server", ("paihao-hall.service", "paihao-bridge@.service"), ("dialout",), False),
    "kiosk": Role("kiosk", ("paihao-kiosk@.service",), ("video", "render", "input", "lp", "dialout"), True),
    "caller": Role("caller", ("paihao-caller@.service",), ("gpio", "i2c", "input"), True),
    "display": Role("display", ("paihao-display@.service",), ("video", "render", "audio"), True),
}


def units(role: Role, config: HallConfig, device: str | None) -> list[str]:
    """The units to enable: the hall and one bridge per [[bridges]], or the device's instance."""
    if role.name == "server":
        return ["paihao-hall.service", *(f"paihao-bridge@{b.id}.service" for b in config.bridges)]
    return [f"paihao-{role.name}@{device}.service"]


def accounts_here(role: Role, config: HallConfig, device: str | None) -> list[str]:
    """The broker accounts of the processes this Pi runs: only their passwords come here."""
    if role.name == "server":
        return [HALL, *(account_name("bridge", b.id) for b in config.bridges)]
    return [account_name(role.name, device)]


def check(role: Role, config: HallConfig, device: str | None) -> None:
    """Refuse, before anything is changed, a config that would not run as installed."""
    mqtt = config.mqtt
    if mqtt.credentials or mqtt.username or mqtt.password:
        raise ConfigError("[mqtt]: leave credentials, username and password out: the installer gives each "
                          f"process its own account, in {ETC / 'credentials.toml'}, which systemd hands to it")
    if role.needs_id:
        _device_exists(role, config, device)
    if role.name == "server":
        check_listeners(config)
        _writable("[storage] db", Path(config.storage.db))
        _writable("[reports] folder", _resolved(config.reports.folder))
        for bridge in config.bridges:
            if bridge.db:
                _writable(f"bridges {bridge.id}: db", Path(config.storage.db).parent / bridge.db)
    elif role.name == "caller":
        from caller.app import state_path  # here: the other roles' Pis have no caller extras

        _writable(f"callers {device}: state_file", state_path(config, config.caller(device)))  # type: ignore
    elif role.name == "display":
        state = config.display(device).state_file  # type: ignore[union-attr]
        if state:
            _writable(f"displays {device}: state_file", Path(state))


def _device_exists(role: Role, config: HallConfig, device: str | None) -> None:
    listed = {"kiosk": config.kiosks, "caller": config.callers, "display": config.displays}[role.name]
    known = [d.id for d in listed]
    if not device:
        raise ConfigError(f"say which {role.name} this Pi is: --id ID (the config has: {', '.join(known) or 'none'})")
    if device not in known:
        raise ConfigError(f"no {role.name} {device!r} in the config (it has: {', '.join(known) or 'none'})")


def _resolved(path: str) -> Path:
    return Path(path) if Path(path).is_absolute() else ETC / path


def _writable(what: str, path: Path) -> None:
    """The units let a service write only under /var/lib/paihao (ProtectSystem=strict)."""
    if not Path(os.path.normpath(path)).is_relative_to(DATA):
        raise ConfigError(f"{what} is {path}: the service may write only under {DATA}/ "
                          f"(e.g. {DATA / path.name})")
