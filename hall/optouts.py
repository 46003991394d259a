"""Numbers that answered TD: kept as a keyed hash, never as the number.

An opt-out must outlive the phone retention (a citizen who said TD in January must not
get a text in August), but the number itself must not. So only HMAC-SHA256(number) is
kept, keyed with a random salt made with the database (meta ``phone_salt``). It cannot be
read back; with the database *and* the salt someone could still test all 10^10 mobile
numbers against it, so it is pseudonymous, not anonymous: docs/protocol.md says so.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import sqlite_utils

from hall.store import get_meta


class OptOuts:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self._key = bytes.fromhex(get_meta(db, "phone_salt") or "")

    def _hash(self, phone: str) -> str:
        return hmac.new(self._key, phone.encode("ascii"), hashlib.sha256).hexdigest()

    def contains(self, phone: str) -> bool:
        row = self.db.conn.execute("SELECT 1 FROM sms_opt_outs WHERE phone_hash = ?", (self._hash(phone),)).fetchone()
        return row is not None

    def add(self, phone: str, now: datetime) -> bool:
        """Opt the number out; False if it already was."""
        cursor = self.db.conn.execute(
            "INSERT OR IGNORE INTO sms_opt_outs (phone_hash, at) VALUES (?, ?)", (self._hash(phone), now.timestamp())
        )
        return cursor.rowcount == 1
