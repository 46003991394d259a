"""The SMS outbox: every text the hall wants sent, kept until the bridge confirms it.

A text is a row, written in the same transaction as the change that caused it, and
offered on ``sms/outbox`` right after the commit; then again every ``[sms] resend``
until ``sms/sent`` names its id. The bridge remembers the ids it has sent, so an
offer that arrives twice is sent once. Nothing is lost across a restart of the
controller (pending rows are offered again at start), the broker or the bridge.

A row's ``status``:

- ``pending``: offered on ``sms/outbox`` until ``sms/sent`` names it;
- ``sent`` / ``failed``: the bridge's word (final);
- ``cancelling``: withdrawn (the number answered TD, in that same transaction). Never offered
  again; its id is offered on ``sms/cancel`` until the bridge answers, since the bridge may
  already hold the text (waiting for a modem, for hours). The answer makes it ``cancelled``,
  or ``sent`` / ``failed`` if its sending had already begun: what citizens received counts;
- ``cancelled``: the bridge never sent it and never will (final).

Ids are ``{site}-{prefix}-{row id}``: the row id is never reused (AUTOINCREMENT) and the
prefix is random per database, so an id is never given twice, even to a bridge whose
memory outlived a fresh database.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

import sqlite_utils

from bus.payloads import CANCELLED, SmsSent
from hall.store import get_meta

log = logging.getLogger(__name__)

FINAL = ("sent", "failed", "cancelled")  # the bridge has spoken: a later sms/sent changes nothing


class ResendSchedule:
    """When each id was last offered, and which are due again (memory only: after a restart
    everything outstanding is due at once)."""

    def __init__(self, resend_s: float) -> None:
        self.resend_s = resend_s
        self._offered: dict[str, float] = {}  # id -> when it was last offered (epoch)
        self._next_check = 0.0

    def offered(self, ids: list[str], stamp: float) -> None:
        for sms_id in ids:
            self._offered[sms_id] = stamp
        if ids:
            self._next_check = min(self._next_check, stamp + self.resend_s)

    def answered(self, sms_id: str) -> None:
        self._offered.pop(sms_id, None)

    def forget(self) -> None:
        self._offered.clear()
        self._next_check = 0.0

    def quiet(self, stamp: float) -> bool:
        """Nothing can be due yet (unless the clock went back: then look)."""
        return stamp < self._next_check <= stamp + self.resend_s

    def due(self, outstanding: list[str], stamp: float) -> set[str]:
        """Of the ids still unanswered, those not offered within the last ``resend``; marks them offered now."""
        due, soonest, offered = set(), stamp + self.resend_s, {}
        for sms_id in outstanding:
            last = self._offered.get(sms_id)
            # A clock that went back (last in the future) must not hold an offer back.
            if last is None or stamp - last >= self.resend_s or last > stamp:
                due.add(sms_id)
                offered[sms_id] = stamp
            else:
                offered[sms_id] = last
                soonest = min(soonest, last + self.resend_s)
        self._offered = offered  # answered ids drop out here
        self._next_check = soonest
        return due


class Outbox:
    def __init__(self, db: sqlite_utils.Database, site: str, resend_s: float) -> None:
        self.db = db
        self._prefix = f"{site}-{get_meta(db, 'sms_id_prefix')}-"
        self._texts = ResendSchedule(resend_s)  # pending rows, on sms/outbox
        self._cancels = ResendSchedule(resend_s)  # cancelling rows, on sms/cancel

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
            "SELECT 1 FROM sms_outbox WHERE phone = ? AND kind = ? AND created_at >= ?"
            " AND status NOT IN ('cancelling', 'cancelled') LIMIT 1",
            (phone, kind, since),
        ).fetchone()
        return row is not None

    def cancel(self, phone: str) -> list[str]:
        """Withdraw the texts queued for this number that no bridge has confirmed yet; their ids,
        to offer on ``sms/cancel`` once the transaction commits."""
        ids = [row[0] for row in self.db.conn.execute(
            "SELECT sms_id FROM sms_outbox WHERE phone = ? AND status = 'pending' ORDER BY id", (phone,)
        )]
        self.db.conn.execute("UPDATE sms_outbox SET status = 'cancelling' WHERE phone = ? AND status = 'pending'",
                             (phone,))
        return ids

    def confirm(self, sent: SmsSent, now: datetime) -> bool:
        """The bridge's word on one id: sent, failed for good, or cancelled. False for an unknown id.

        A withdrawn text the bridge had already begun to send still went out (or may have):
        the bridge's word wins, so the monthly report counts what citizens really received.
        """
        row = self.db.conn.execute("SELECT status FROM sms_outbox WHERE sms_id = ?", (sent.id,)).fetchone()
        if row is None:
            log.warning("sms/sent for unknown id %s; ignored", sent.id)
            return False
        self._texts.answered(sent.id)
        self._cancels.answered(sent.id)
        if row[0] in FINAL:
            return True  # a repeated confirmation: the first one counts
        if sent.ok:
            if row[0] == "cancelling":
                log.info("text %s had gone out before the bridge heard it was withdrawn", sent.id)
            self.db.conn.execute(
                "UPDATE sms_outbox SET status = 'sent', done_at = ? WHERE sms_id = ?", (now.timestamp(), sent.id)
            )
        elif sent.error is not None and sent.error.code == CANCELLED:
            log.info("text %s cancelled: the bridge dropped it unsent", sent.id)
            self.db.conn.execute(
                "UPDATE sms_outbox SET status = 'cancelled', done_at = ? WHERE sms_id = ?", (now.timestamp(), sent.id)
            )
        else:
            error = sent.error.model_dump() if sent.error else {"code": "unknown", "message": ""}
            log.warning("the SMS bridge gave up on text %s: %s %s", sent.id, error["code"], error["message"])
            self.db.conn.execute(
                "UPDATE sms_outbox SET status = 'failed', done_at = ?, error = ? WHERE sms_id = ?",
                (now.timestamp(), json.dumps(error, ensure_ascii=False), sent.id),
            )
        return True

    # -- the resend schedules (memory only: after a restart everything outstanding is due) -------
    def offered(self, payloads: list[dict], now: datetime) -> None:
        self._texts.offered([payload["id"] for payload in payloads], now.timestamp())

    def cancels_offered(self, ids: list[str], now: datetime) -> None:
        self._cancels.offered(ids, now.timestamp())

    def forget_offers(self) -> None:
        """After a reconnect: offer everything pending, and every cancel unanswered, again at the next check."""
        self._texts.forget()
        self._cancels.forget()

    def due(self, now: datetime) -> list[dict]:
        """The pending texts not offered within the last ``resend``; marks them offered now."""
        stamp = now.timestamp()
        if self._texts.quiet(stamp):
            return []
        pending = self.db.conn.execute(
            "SELECT sms_id, phone, text FROM sms_outbox WHERE status = 'pending' AND phone IS NOT NULL ORDER BY id"
        ).fetchall()
        due = self._texts.due([row[0] for row in pending], stamp)
        return [{"id": sms_id, "phone": phone, "text": text} for sms_id, phone, text in pending if sms_id in due]

    def due_cancels(self, now: datetime) -> list[str]:
        """The ids withdrawn whose cancel the bridge has not answered, not offered within the last ``resend``."""
        stamp = now.timestamp()
        if self._cancels.quiet(stamp):
            return []
        cancelling = [row[0] for row in self.db.conn.execute(
            "SELECT sms_id FROM sms_outbox WHERE status = 'cancelling' ORDER BY id"
        )]
        due = self._cancels.due(cancelling, stamp)
        return [sms_id for sms_id in cancelling if sms_id in due]
