"""The journal: the append-only audit log, which is also the source of every event.

An event is written in the same transaction as the change it reports, and
published after the commit. ``published_seq`` in the meta table (updated in
the next transaction, at no extra commit) tells a restarted controller which
events may not have reached the broker; it publishes them again. Consumers
drop an event whose ``seq`` they have seen: delivery is at least once.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlite_utils

from hall.store import get_meta, set_meta


class Journal:
    def __init__(self, db: sqlite_utils.Database, tz: ZoneInfo) -> None:
        self.db = db
        self.tz = tz
        self.handed_seq = int(get_meta(db, "published_seq", "0") or 0)
        self._saved_seq = self.handed_seq

    def emit(
        self,
        event_type: str,
        now: datetime,
        *,
        ticket: str | None = None,
        window: str | None = None,
        clerk: str | None = None,
        request_id: str | None = None,
        **data: object,
    ) -> dict:
        """Append one entry; return the event as it will be published."""
        at = now.astimezone(self.tz).isoformat(timespec="milliseconds")
        body = {"ticket": ticket, "window": window, "clerk": clerk, **data}
        body = {k: v for k, v in body.items() if v is not None}
        seq = self.db.conn.execute(
            "INSERT INTO journal (at, type, window, clerk, ticket, request_id, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (at, event_type, window, clerk, ticket, request_id, json.dumps(body, ensure_ascii=False)),
        ).lastrowid
        return {"type": event_type, "seq": seq, "at": at, **body}

    def checkpoint(self) -> None:
        """Inside a transaction: record how far events have been handed to the broker."""
        if self.handed_seq != self._saved_seq:
            set_meta(self.db, "published_seq", str(self.handed_seq))
            self._saved_seq = self.handed_seq

    def mark_handed(self, seq: int) -> None:
        self.handed_seq = max(self.handed_seq, seq)

    def unpublished(self) -> list[dict]:
        """Events written after the last checkpoint: possibly never published."""
        rows = self.db.conn.execute(
            "SELECT seq, at, type, data FROM journal WHERE seq > ? ORDER BY seq", (self.handed_seq,)
        ).fetchall()
        events = []
        for seq, at, event_type, data in rows:
            body = json.loads(data)
            if not body.get("audit_only"):  # rows of versions before every entry was an event
                events.append({"type": event_type, "seq": seq, "at": at, **body})
        return events
