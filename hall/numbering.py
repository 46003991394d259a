"""Ticket numbers: department code + daily sequence, 02001, 02002, ...

The counter is bumped in the same transaction as the ticket is inserted,
so a number is never handed out twice, even across a crash. Past 999 the
sequence widens to four digits (021000) rather than refuse a citizen.
"""

from __future__ import annotations

import sqlite_utils


def format_number(dept: str, sequence: int) -> str:
    return f"{dept}{sequence:03d}"


def next_number(db: sqlite_utils.Database, day: str, dept: str) -> str:
    sequence = db.conn.execute(
        "INSERT INTO counters (day, dept, last) VALUES (?, ?, 1)"
        " ON CONFLICT (day, dept) DO UPDATE SET last = last + 1 RETURNING last",
        (day, dept),
    ).fetchone()[0]
    return format_number(dept, sequence)
