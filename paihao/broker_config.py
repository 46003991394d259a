"""``paihao broker-config``: Mosquitto's config, password file and ACL, from the hall config.

Anonymous access is off; every process has its own account (paihao/accounts.py)
and may touch only its own topics. Passwords come from a credentials file when
one is given, else from the one written last time, else are generated; a
password that did not change keeps its hash, so running this twice writes
nothing the second time. Accounts of devices no longer in the config are dropped.
"""

from __future__ import annotations

import base64
import grp
import hashlib
import hmac
import os
import pwd
import secrets
from dataclasses import dataclass
from pathlib import Path

from paihao.accounts import Account, accounts
from paihao.config import HallConfig
from paihao.credentials import generate_password, read_credentials, render_credentials
from paihao.errors import ConfigError

# Mosquitto 2's own format ($7$: PBKDF2-SHA512, as mosquitto_passwd writes it). Its default of
# 101 rounds is weak for a chosen password; ours are 192 random bits, which no rounds improve.
ITERATIONS = 101
SALT_BYTES = 12
CONF, PASSWD, ACL, CREDENTIALS = "mosquitto.conf", "passwd", "acl", "credentials.toml"


@dataclass(frozen=True)
class BrokerFile:
    name: str
    text: str
    mode: int
    broker_reads: bool  # the mosquitto user must read it: group-readable by its group


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, ITERATIONS)
    return f"$7${ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def hash_matches(stored: str, password: str) -> bool:
    try:
        _, kind, rounds, salt, digest = stored.split("$")
        if kind != "7":
            return False
        expected = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), base64.b64decode(salt), int(rounds))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(base64.b64encode(expected).decode(), digest)


def parse_passwd(text: str) -> dict[str, str]:
    """account -> hash, from a password file written before (blank and # lines skipped)."""
    found = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#") and ":" in line:
            name, _, stored = line.partition(":")
            found[name] = stored.strip()
    return found


def check_listeners(config: HallConfig) -> None:
    """The hall's processes dial [mqtt] port: the broker must listen there, the right way."""
    mqtt, broker = config.mqtt, config.broker
    wanted = broker.tls_port if mqtt.tls else broker.port
    if mqtt.port != wanted:
        kind = "tls_port" if mqtt.tls else "port"
        raise ConfigError(f"[mqtt] port {mqtt.port}{' (tls)' if mqtt.tls else ''} is not [broker] {kind} "
                          f"({wanted or 'none'}): the hall's processes could not reach this broker")


def choose_passwords(config: HallConfig, *sources: dict[str, str]) -> dict[str, str]:
    """A password for every account: the first source that has one, else a new one."""
    chosen = {}
    for account in accounts(config):
        known = next((s[account.name] for s in sources if account.name in s), None)
        chosen[account.name] = known or generate_password()
    return chosen


def render(config: HallConfig, passwords: dict[str, str], broker_dir: Path, *, run_user: str = "mosquitto",
           old_hashes: dict[str, str] | None = None, source: str = "the hall config") -> list[BrokerFile]:
    """The four files, for a broker that will read them from ``broker_dir``."""
    check_listeners(config)
    old_hashes = old_hashes or {}
    hashes = {name: old_hashes[name] if hash_matches(old_hashes.get(name, ""), pw) else hash_password(pw)
              for name, pw in passwords.items()}
    header = f"Written by paihao broker-config from {source}: run it again rather than editing this file."
    return [
        BrokerFile(CONF, _conf(config, broker_dir, run_user, header), 0o644, False),
        BrokerFile(PASSWD, "".join(f"{name}:{hashes[name]}\n" for name in sorted(hashes)), 0o640, True),
        BrokerFile(ACL, _acl(accounts(config), header), 0o640, True),
        BrokerFile(CREDENTIALS, render_credentials(passwords, comment=header + "\nEvery account's password: "
                                                   "for root only. Each Pi gets its own accounts' lines."),
                   0o600, False),
    ]


def _conf(config: HallConfig, broker_dir: Path, run_user: str, header: str) -> str:
    broker = config.broker
    bind = f" {broker.bind}" if broker.bind else ""
    lines = [
        f"# {header}",
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {broker_dir / PASSWD}",
        f"acl_file {broker_dir / ACL}",
        f"user {run_user}",
        "# Without it every QoS 1 round trip on a LAN can stall ~40 ms on delayed ACKs.",
        "set_tcp_nodelay true",
        "max_queued_messages 100000",
        "max_inflight_messages 0",
        f"persistence {'true' if broker.persistence else 'false'}",
        f"persistence_location {broker.persistence_dir.rstrip('/')}/",
        "# To the journal (standard error under systemd), never to a file on the SD card.",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
    ]
    if broker.port:
        lines += ["", f"listener {broker.port}{bind}"]
    if broker.tls_port:
        lines += ["", f"listener {broker.tls_port}{bind}", f"certfile {broker.certfile}",
                  f"keyfile {broker.keyfile}", "tls_version tlsv1.2"]
    return "\n".join(lines) + "\n"


def _acl(found: list[Account], header: str) -> str:
    lines = [f"# {header}", "# No account may do anything not granted here; anonymous clients are refused."]
    for account in found:
        lines += ["", f"# {account.what}", f"user {account.name}"]
        both = [t for t in account.read if t in account.write]
        lines += [f"topic readwrite {t}" for t in both]
        lines += [f"topic read {t}" for t in account.read if t not in both]
        lines += [f"topic write {t}" for t in account.write if t not in both]
    return "\n".join(lines) + "\n"


# -- the command ---------------------------------------------------------------------


def write_broker_config(config: HallConfig, out: Path, *, credentials: Path | None = None,
                        run_user: str = "mosquitto", source: str = "the hall config") -> list[tuple[Path, bool]]:
    """Write the files into ``out``; (path, changed) for each."""
    out = out.resolve()
    given = read_credentials(credentials) if credentials else {}
    previous = read_credentials(out / CREDENTIALS) if (out / CREDENTIALS).exists() else {}
    old_hashes = parse_passwd((out / PASSWD).read_text()) if (out / PASSWD).exists() else {}
    passwords = choose_passwords(config, given, previous)
    files = render(config, passwords, out, run_user=run_user, old_hashes=old_hashes, source=source)
    out.mkdir(parents=True, exist_ok=True)
    group = _group_of(run_user)
    _own(out, 0o750, group)
    return [(out / f.name, write_if_changed(out / f.name, f.text, f.mode, group if f.broker_reads else None))
            for f in files]


def write_if_changed(path: Path, text: str, mode: int, group: int | None = None) -> bool:
    """Replace the file atomically, with its mode set before it appears; False if it was the same."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        _own(path, mode, group)
        return False
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    _own(tmp, mode, group)
    tmp.replace(path)
    return True


def _group_of(user: str) -> int | None:
    """The broker's group, when we may give files to it (as root, and it exists)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(user).pw_gid
    except KeyError:
        try:
            return grp.getgrnam(user).gr_gid
        except KeyError:
            return None


def _own(path: Path, mode: int, group: int | None) -> None:
    if group is not None:
        os.chown(path, 0, group)
    os.chmod(path, mode)
