"""The SQLite store: one writer, WAL, synchronous=FULL, numbered migrations."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from hall.schema import MIGRATIONS
from paihao.errors import PaihaoError

log = logging.getLogger(__name__)


def open_store(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if need be) the hall database and bring its schema up to date."""
    _private(Path(path))
    # Opened by whoever starts the service, used by the hall loop's thread:
    # still one writer at a time, so the same-thread check is lifted.
    db = sqlite_utils.Database(sqlite3.connect(str(path), check_same_thread=False))
    db.conn.row_factory = sqlite3.Row  # rows by column name; still indexable like tuples
    db.conn.execute("PRAGMA journal_mode=WAL")
    # FULL: a change is on disk before the request is answered ok, even if
    # the power goes the moment after.
    db.conn.execute("PRAGMA synchronous=FULL")
    db.conn.execute("PRAGMA foreign_keys=ON")
    db.conn.execute("PRAGMA busy_timeout=5000")
    migrate(db)
    return db


def _private(path: Path) -> None:
    """The database holds phone numbers: readable by the service's user only, whatever the umask.

    SQLite gives the -wal and -shm files the main file's permissions, so making that one
    0600 before SQLite first opens it covers all three; an older, laxer file is tightened.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            log.warning("%s was readable by others; now by its owner only", file)
            file.chmod(0o600)


def schema_version(db: sqlite_utils.Database) -> int:
    return db.conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite_utils.Database) -> None:
    current = schema_version(db)
    if current > len(MIGRATIONS):
        raise RuntimeError(
            f"database schema {current} is newer than this paihao knows ({len(MIGRATIONS)}); upgrade paihao"
        )
    for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
        log.info("applying database migration %d", number)
        with db.atomic():
            for statement in _statements(script):
                db.conn.execute(statement)
            db.conn.execute(f"PRAGMA user_version={number}")


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit on its own)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer)
            buffer = ""
    if buffer.strip():
        statements.append(buffer)
    return statements


def get_meta(db: sqlite_utils.Database, key: str, default: str | None = None) -> str | None:
    row = db.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def set_meta(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """``db.atomic()``, but nested blocks use one fixed savepoint name.

    sqlite-utils names each savepoint randomly; every such name is a new SQL
    text, which evicts the prepared statements of the hot path from the
    sqlite3 statement cache (it cost a third of the controller's time).
    """
    if not db.conn.in_transaction:
        with db.atomic():
            yield
        return
    db.conn.execute("SAVEPOINT paihao_request")
    try:
        yield
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK TO SAVEPOINT paihao_request")
            db.conn.execute("RELEASE SAVEPOINT paihao_request")
        raise
    else:
        db.conn.execute("RELEASE SAVEPOINT paihao_request")


class StoreError(PaihaoError, OSError):
    """The database cannot be read as this paihao expects (missing, or another schema)."""


def open_readonly(path: str | Path) -> sqlite3.Connection:
    """A read-only connection for reports: safe beside the running controller (WAL readers never block it)."""
    if not Path(path).is_file():
        raise StoreError(f"{path}: no such database")
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=5000")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version != len(MIGRATIONS):
        conn.close()
        raise StoreError(
            f"{path}: database schema {version}, this paihao reads schema {len(MIGRATIONS)};"
            " start the controller (paihao hall) once to upgrade it, or upgrade paihao"
        )
    return conn
