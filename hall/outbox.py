"""The SMS outbox: every text the hall wants sent, kept until the bridge confirms it.

A text is a row, written in the same transaction as the change that caused it, and
offered on ``sms/outbox`` right after the commit; then again every ``[sms] resend``
until ``sms/sent`` names its id. The bridge remembers the ids it has sent, so an
offer that arrives twice is sent once. Nothing is lost across a restart of the
controller (pending rows are offered again at start), the broker or the bridge.

Ids are ``{site}-{prefix}-{row id}``: the row id is never reused (AUTOINCREMENT) and the
prefix is random per database, so an id is never given twice, even to a bridge whose
memory outlived a fresh database.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

import sqlite_utils

from bus.payloads import SmsSent
from hall.store import get_meta

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, db: sqlite_utils.Database, site: str, resend_s: float) -> None:
        self.db = db
        self.resend_s = resend_s
        self._prefix = f"{site}-{get_meta(db, 'sms_id_prefix')}-"
        self._offered: dict[str, float] = {}  # sms_id -> when it was last offered (epoch)
        self._next_check = 0.0

    # -- inside a request's transaction ----------------------------------------------
    def add(self, phone: str, kind: str, text: str, now: datetime) -> tuple[int, dict]:
        """Queue one text; returns its row id and the payload to offer once the transaction commits."""
        row_id = self.db.conn.execute(
            "INSERT INTO sms_outbox (phone, kind, text, status, created_at) VALUES (?, ?, ?, 'pending', ?)",
            (phone, kind, text, now.timestamp()),
        ).lastrowid
        sms_id = f"{self._prefix}{row_id}"
        self.db.conn.execute("UPDATE sms_outbox SET sms_id = ? WHERE id = ?", (sms_id, row_id))
        return row_id, {"id": sms_id, "phone": phone, "text": text}

    def sent_recently(self, phone: str, kind: str, since: float) -> bool:
        """Whether a text of this kind was queued for this number since ``since``."""
        row = self.db.conn.execute(
            "SELECT 1 FROM sms_outbox WHERE phone = ? AND kind = ? AND created_at >= ? AND status != 'cancelled'"
            " LIMIT 1",
            (phone, kind, since),
        ).fetchone()
        return row is not None

    def cancel(self, phone: str, now: datetime) -> int:
        """Stop the texts queued for this number that no bridge has confirmed yet."""
        return self.db.conn.execute(
            "UPDATE sms_outbox SET status = 'cancelled', done_at = ? WHERE phone = ? AND status = 'pending'",
            (now.timestamp(), phone),
        ).rowcount

    def confirm(self, sent: SmsSent, now: datetime) -> bool:
        """The bridge's word on one id: sent, or failed for good. False for an unknown id.

        A cancelled text the bridge had already taken still went out: the bridge's word
        wins, so the monthly report counts what citizens really received.
        """
        row = self.db.conn.execute("SELECT status FROM sms_outbox WHERE sms_id = ?", (sent.id,)).fetchone()
        if row is None:
            log.warning("sms/sent for unknown id %s; ignored", sent.id)
            return False
        self._offered.pop(sent.id, None)
        if row[0] in ("sent", "failed"):
            return True  # a repeated confirmation: the first one counts
        if sent.ok:
            self.db.conn.execute(
                "UPDATE sms_outbox SET status = 'sent', done_at = ? WHERE sms_id = ?", (now.timestamp(), sent.id)
            )
        else:
            error = sent.error.model_dump() if sent.error else {"code": "unknown", "message": ""}
            log.warning("the SMS bridge gave up on text %s: %s %s", sent.id, error["code"], error["message"])
            self.db.conn.execute(
                "UPDATE sms_outbox SET status = 'failed', done_at = ?, error = ? WHERE sms_id = ?",
                (now.timestamp(), json.dumps(error, ensure_ascii=False), sent.id),
            )
        return True

    # -- the resend schedule (memory only: after a restart everything pending is due) -------
    def offered(self, payloads: list[dict], now: datetime) -> None:
        for payload in payloads:
            self._offered[payload["id"]] = now.timestamp()
        if payloads:
            self._next_check = min(self._next_check, now.timestamp() + self.resend_s)

    def forget_offers(self) -> None:
        """After a reconnect: offer everything pending again at the next check."""
        self._offered.clear()
        self._next_check = 0.0

    def due(self, now: datetime) -> list[dict]:
        """The pending texts not offered within the last ``resend``; marks them offered now."""
        stamp = now.timestamp()
        if stamp < self._next_check <= stamp + self.resend_s:
            return []  # nothing can be due yet (unless the clock went back: then look)
        pending = self.db.conn.execute(
            "SELECT sms_id, phone, text FROM sms_outbox WHERE status = 'pending' AND phone IS NOT NULL ORDER BY id"
        ).fetchall()
        due, soonest = [], stamp + self.resend_s
        offered = {}
        for sms_id, phone, text in pending:
            last = self._offered.get(sms_id)
            # A clock that went back (last in the future) must not hold a text back.
            if last is None or stamp - last >= self.resend_s or last > stamp:
                due.append({"id": sms_id, "phone": phone, "text": text})
                offered[sms_id] = stamp
            else:
                offered[sms_id] = last
                soonest = min(soonest, last + self.resend_s)
        self._offered = offered  # confirmed and cancelled texts drop out here
        self._next_check = soonest
        return due
