"""Broker passwords: the credentials file, and how a process finds its own.

The file is TOML, one ``account = "password"`` a line. ``paihao broker-config``
keeps the hall's whole set on the server; each Pi gets a file with only the
accounts of the processes it runs. A process finds it, in this order:

1. ``[mqtt] credentials`` in the config;
2. ``$CREDENTIALS_DIRECTORY/mqtt``: systemd's ``LoadCredential=mqtt:…``, which
   hands a root-only file to the service alone (the installed units do this);
3. otherwise ``[mqtt] username``/``password`` (one account for all), or none.

A password is never logged, printed or put in an error message.
"""

from __future__ import annotations

import json
import os
import secrets
import tomllib
from pathlib import Path

from paihao.config import HallConfig
from paihao.errors import ConfigError

SYSTEMD_DIR = "CREDENTIALS_DIRECTORY"
SYSTEMD_NAME = "mqtt"


def generate_password() -> str:
    """192 random bits in URL-safe characters: nothing to quote anywhere."""
    return secrets.token_urlsafe(24)


def read_credentials(path: str | Path) -> dict[str, str]:
    """account -> password; ConfigError (naming the file, never a password) if unusable."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such credentials file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.__class__.__name__}") from None
    except tomllib.TOMLDecodeError:
        # The parser's message may quote the line, and so a password.
        raise ConfigError(f"{path}: not valid TOML (account = \"password\" on each line)") from None
    bad = [key for key, value in raw.items() if not isinstance(value, str) or not value]
    if bad:
        raise ConfigError(f"{path}: {', '.join(sorted(bad))}: the password must be a non-empty string")
    return dict(raw)


def render_credentials(passwords: dict[str, str], *, comment: str) -> str:
    """The file's text; JSON's string quoting is valid TOML for any password."""
    lines = [f"# {line}" for line in comment.splitlines()]
    lines += [f"{json.dumps(name)} = {json.dumps(pw, ensure_ascii=False)}" for name, pw in sorted(passwords.items())]
    return "\n".join(lines) + "\n"


def credentials_path(config: HallConfig) -> Path | None:
    if config.mqtt.credentials:
        return Path(config.mqtt.credentials)
    folder = os.environ.get(SYSTEMD_DIR)
    if folder and (Path(folder) / SYSTEMD_NAME).is_file():
        return Path(folder) / SYSTEMD_NAME
    return None


def login(config: HallConfig, account: str) -> tuple[str | None, str | None]:
    """(username, password) for the process that runs as ``account``."""
    path = credentials_path(config)
    if path is None:
        return config.mqtt.username, config.mqtt.password
    passwords = read_credentials(path)
    if account not in passwords:
        raise ConfigError(f"{path}: no password for account {account!r} "
                          f"(paihao broker-config makes one; the installer copies it to this Pi)")
    return account, passwords[account]


def connection(config: HallConfig, account: str) -> dict:
    """Keyword arguments for a BusClient that logs in as ``account``."""
    username, password = login(config, account)
    mqtt = config.mqtt
    return {"host": mqtt.host, "port": mqtt.port, "username": username, "password": password,
            "keepalive": mqtt.keepalive_s, "tcp_nodelay": mqtt.tcp_nodelay,
            "tls": mqtt.tls, "ca_file": mqtt.ca_file}
