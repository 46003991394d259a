"""The database file holds phone numbers: only the service's user may read it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from hall.store import open_store


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_and_its_wal_and_shm_are_private_whatever_the_umask(tmp_path):
    old = os.umask(0o022)  # a umask that would make new files world-readable
    try:
        db = open_store(tmp_path / "data" / "hall.db")
        db.conn.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")  # so the WAL exists
        db.conn.commit()
        files = [tmp_path / "data" / name for name in ("hall.db", "hall.db-wal", "hall.db-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert _mode(tmp_path / "data") == 0o700  # the folder it made, too
        db.close()
    finally:
        os.umask(old)


def test_a_database_left_readable_by_others_is_tightened_on_open(tmp_path, caplog):
    first = open_store(tmp_path / "hall.db")
    first.close()
    for name in ("hall.db", "hall.db-wal", "hall.db-shm"):
        if (tmp_path / name).exists():
            (tmp_path / name).chmod(0o644)
    again = open_store(tmp_path / "hall.db")
    try:
        assert _mode(tmp_path / "hall.db") == 0o600
        assert all(_mode(f) == 0o600 for f in tmp_path.iterdir())
        assert "readable by others" in caplog.text
    finally:
        again.close()
