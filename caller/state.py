"""The clerks logged in at a pad's windows, kept in a small JSON file across restarts.

A pad that restarts (a power cut, an update) logs its clerks in again by
itself; the controller answers a login of the clerk already in with "ok, no
change". The file is replaced atomically (write, fsync, rename), so a power
cut leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)


class ClerkStore:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._clerks: dict[str, str] = self._load()

    def _load(self) -> dict[str, str]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {str(w): str(c) for w, c in data.get("clerks", {}).items() if c}
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("ignored unreadable pad state %s (%s): clerks log in again", self.path, exc)
            return {}

    def get(self, window: str) -> str | None:
        with self._lock:
            return self._clerks.get(window)

    def set(self, window: str, clerk: str | None) -> None:
        with self._lock:
            if self._clerks.get(window) == clerk:
                return
            if clerk is None:
                self._clerks.pop(window, None)
            else:
                self._clerks[window] = clerk
            self._save(dict(self._clerks))

    def _save(self, clerks: dict[str, str]) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump({"clerks": clerks}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            log.error("could not keep the pad state in %s: %s", self.path, exc)
