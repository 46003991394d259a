"""The touchscreen kiosk that issues tickets (issue 3): a device, talks only through bus/."""

from __future__ import annotations

import os
from pathlib import Path

PICKLE_DIR = "ESCPOS_CAPABILITIES_PICKLE_DIR"


def _escpos_cache() -> None:
    """Give python-escpos a cache folder before anything here imports it.

    On import, escpos reads its printer database (a large JSON file) and keeps a pickle of it in
    ``$ESCPOS_CAPABILITIES_PICKLE_DIR``; unset, that is a new temporary folder on every import,
    never used again, so every kiosk start parsed the JSON again: 0.4 s of the start on the
    development VM, against 0.04 s from the pickle. The folder is the service's (systemd's
    ``CacheDirectory=``) or the user's cache, and only if it is private: a pickle is code,
    loaded on the next start. (escpos still makes an empty temporary folder on import, its
    default being computed even when the variable is set; the unit's PrivateTmp= clears it.)
    """
    if PICKLE_DIR in os.environ:
        return
    base = os.environ.get("CACHE_DIRECTORY", "").split(":")[0] or os.environ.get("XDG_CACHE_HOME") \
        or str(Path.home() / ".cache")
    folder = Path(base) / "paihao-escpos"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = folder.stat()
    except OSError:
        return  # escpos falls back to its temporary folder
    if status.st_uid == os.getuid() and not status.st_mode & 0o077:
        os.environ[PICKLE_DIR] = str(folder)


_escpos_cache()
