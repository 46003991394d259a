"""The display's small state file: the calls it has announced and today's card tally.

Written whole to a temporary file, fsynced and renamed over the old one, so a
power cut leaves the old file or the new one, never half of one. Writes happen
in a thread of their own (an fsync on an SD card can take tens of
milliseconds, longer than a frame); the newest request wins.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)


def default_path(display_id: str) -> Path:
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "paihao" / f"display-{display_id}.json"


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._pending: dict | None = None
        self._cond = threading.Condition()
        self._closed = False
        self.written = threading.Event()  # set after each write; tests wait on it
        self._thread = threading.Thread(target=self._run, name="display-state", daemon=True)
        self._thread.start()

    def load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("display state file %s unreadable (%s); starting without it", self.path, exc)
            return {}

    def save(self, data: dict) -> None:
        """Queue ``data`` to be written (returns at once)."""
        with self._cond:
            self._pending = data
            self._cond.notify()

    def close(self) -> None:
        """Write what is pending, then stop."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(5)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._closed)
                data, self._pending = self._pending, None
                closed = self._closed
            if data is not None:
                self._write(data)
            if closed and data is None:
                return

    def _write(self, data: dict) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(data, f, ensure_ascii=False)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            self.written.set()
        except OSError as exc:
            log.error("cannot write the display state file %s: %s", self.path, exc)
