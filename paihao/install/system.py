"""Where the installer's changes go: the real system, or a staging folder.

``StagedSystem`` is the fake that ships: every file is written under a root
folder exactly as it would be on the Pi (contents and modes), and what would be
done to users and systemd is kept in ``ROOT/.paihao-staged.json``, so that a
second run sees the first one's users and units, as it would on a Pi. It serves
``./install --root DIR`` (a dry run to read before the real one) and the tests.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from paihao.errors import PaihaoError


class Files:
    """File operations relative to ``root``; each says whether it changed anything."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.changes: list[str] = []
        self.log: list[str] = []

    def at(self, path: str | Path) -> Path:
        return self.root / Path(path).relative_to("/")

    def read(self, path: str | Path) -> bytes | None:
        try:
            return self.at(path).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, path: str | Path, data: bytes, mode: int, owner: str = "root", group: str = "root") -> bool:
        """Replace atomically, mode and owner set before it appears; unchanged bytes are left alone."""
        target = self.at(path)
        changed = self.read(path) != data
        if changed:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.paihao-new")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            self._own(tmp, mode, owner, group)
            tmp.replace(target)
            self.changes.append(f"wrote {path}")
        elif self._own(target, mode, owner, group):
            self.changes.append(f"set the owner and mode of {path}")
        return changed

    def mkdir(self, path: str | Path, mode: int, owner: str = "root", group: str = "root") -> bool:
        target = self.at(path)
        made = not target.is_dir()
        if made:
            target.mkdir(parents=True)
            self.changes.append(f"made {path}/")
        if self._own(target, mode, owner, group) and not made:
            self.changes.append(f"set the owner and mode of {path}/")
        return made

    def remove(self, path: str | Path) -> bool:
        target = self.at(path)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        else:
            return False
        self.changes.append(f"removed {path}")
        return True

    def _own(self, target: Path, mode: int, owner: str, group: str) -> bool:
        """Set mode (and owner, see subclasses); True if something was different."""
        different = (target.stat().st_mode & 0o7777) != mode
        if different:
            target.chmod(mode)
        return different


class RealSystem(Files):
    """The Pi itself: root is /, users and units are real."""

    def __init__(self) -> None:
        super().__init__(Path("/"))

    def _own(self, target: Path, mode: int, owner: str, group: str) -> bool:
        st = target.stat()
        uid, gid = pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid
        different = (st.st_uid, st.st_gid) != (uid, gid)
        if different:
            os.chown(target, uid, gid)
        return super()._own(target, mode, owner, group) or different

    def run(self, *argv: str) -> None:
        self.log.append(" ".join(argv))
        done = subprocess.run(argv)
        if done.returncode != 0:  # its own message is above; say which step, without a traceback
            raise PaihaoError(f"{' '.join(argv)} failed (exit status {done.returncode})")

    def user_exists(self, name: str) -> bool:
        try:
            pwd.getpwnam(name)
            return True
        except KeyError:
            return False

    def group_exists(self, name: str) -> bool:
        try:
            grp.getgrnam(name)
            return True
        except KeyError:
            return False

    def groups_of(self, user: str) -> set[str]:
        return {g.gr_name for g in grp.getgrall() if user in g.gr_mem}

    def _systemctl_ok(self, *args: str) -> bool:
        return subprocess.run(["systemctl", *args], capture_output=True).returncode == 0

    def unit_enabled(self, unit: str) -> bool:
        return self._systemctl_ok("is-enabled", "--quiet", unit)

    def unit_active(self, unit: str) -> bool:
        return self._systemctl_ok("is-active", "--quiet", unit)

    def enabled_units(self, prefix: str) -> list[str]:
        wants = Path("/etc/systemd/system/multi-user.target.wants")
        return sorted(p.name for p in wants.glob(f"{prefix}*")) if wants.is_dir() else []


class StagedSystem(Files):
    """Everything under ``root``; users, groups and units only remembered."""

    STATE = ".paihao-staged.json"

    def __init__(self, root: Path, groups: tuple[str, ...] = ("mosquitto", "video", "render", "input", "audio",
                                                              "dialout", "lp", "gpio", "i2c")) -> None:
        super().__init__(root)
        path = root / self.STATE
        self.state = json.loads(path.read_text()) if path.exists() else {
            "users": {}, "groups": list(groups), "enabled": [], "active": [], "owners": {}}

    def save(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / self.STATE).write_text(json.dumps(self.state, indent=1, sort_keys=True) + "\n")

    def _own(self, target: Path, mode: int, owner: str, group: str) -> bool:
        final = target
        if target.name.endswith(".paihao-new"):  # Files.write's temporary: it becomes the real name
            final = target.with_name(target.name.removeprefix(".").removesuffix(".paihao-new"))
        key = "/" + str(final.relative_to(self.root))
        different = self.state["owners"].get(key) != f"{owner}:{group}"
        self.state["owners"][key] = f"{owner}:{group}"
        return super()._own(target, mode, owner, group) or different

    def owner(self, path: str) -> str | None:
        return self.state["owners"].get(path)

    def run(self, *argv: str) -> None:
        """Not run: remembered, and its effect on users and units emulated."""
        self.log.append(" ".join(argv))
        command, *args = argv
        if command == "useradd":
            self.state["users"][args[-1]] = []
        elif command == "userdel":
            self.state["users"].pop(args[-1], None)
        elif command == "usermod":  # usermod -a -G g1,g2 user
            self.state["users"][args[-1]] = sorted(set(self.state["users"][args[-1]]) | set(args[2].split(",")))
        elif command == "systemctl":
            self._systemctl(args)

    def _systemctl(self, args: list[str]) -> None:
        verb, units = args[0], [a for a in args[1:] if not a.startswith("--")]
        enabled, active = set(self.state["enabled"]), set(self.state["active"])
        if verb in ("enable", "disable"):
            (enabled.update if verb == "enable" else enabled.difference_update)(units)
            if "--now" in args:
                (active.update if verb == "enable" else active.difference_update)(units)
        elif verb in ("start", "restart"):
            active.update(units)
        elif verb == "stop":
            active.difference_update(units)
        self.state["enabled"], self.state["active"] = sorted(enabled), sorted(active)

    def user_exists(self, name: str) -> bool:
        return name in self.state["users"]

    def group_exists(self, name: str) -> bool:
        return name in self.state["groups"]

    def groups_of(self, user: str) -> set[str]:
        return set(self.state["users"].get(user, []))

    def unit_enabled(self, unit: str) -> bool:
        return unit in self.state["enabled"]

    def unit_active(self, unit: str) -> bool:
        return unit in self.state["active"]

    def enabled_units(self, prefix: str) -> list[str]:
        return [u for u in self.state["enabled"] if u.startswith(prefix)]
