"""Phone retention (issue 7): full numbers are erased once ``[storage] phone_retention_days`` old.

Run at each day roll-over, in its transaction. Tickets and outbox rows lose their
number; evaluations never had one, so every rating stays, anonymous. A text still
pending that old can no longer be sent: it is marked failed (``expired``). Opt-outs
keep only a keyed hash (hall/optouts.py) and are not touched: a TD lasts.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlite_utils

EXPIRED = json.dumps({"code": "expired", "message": "still pending when its phone number was erased"})


def erase_old_phones(db: sqlite_utils.Database, now: datetime, days: int) -> dict[str, int]:
    """Erase numbers older than ``days``; how many rows of each table lost theirs."""
    cutoff = now.timestamp() - days * 86400
    db.conn.execute(
        "UPDATE sms_outbox SET status = 'failed', done_at = ?, error = ?"
        " WHERE status = 'pending' AND phone IS NOT NULL AND created_at < ?",
        (now.timestamp(), EXPIRED, cutoff),
    )
    outbox = db.conn.execute(
        "UPDATE sms_outbox SET phone = NULL WHERE phone IS NOT NULL AND created_at < ?", (cutoff,)
    ).rowcount
    tickets = db.conn.execute(
        "UPDATE tickets SET phone = NULL WHERE phone IS NOT NULL AND issued_at < ?", (cutoff,)
    ).rowcount
    return {"tickets": tickets, "sms_outbox": outbox}
