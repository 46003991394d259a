"""The bridge's own SQLite: what it was asked to send, and what it received.

Nothing is lost and nothing is sent twice because of the order of writes here:

- an outbox id is inserted before anything else is done with it; a part is marked
  ``sending`` (committed) before its PDU is written to the modem, and counted as
  sent after the modem's +CMGS. A row still ``sending`` at start-up was interrupted
  by a crash: it may have gone out, so it is failed as ``uncertain``, never re-sent;
- a cancel (sms/cancel) is committed before it is answered. It takes a text only while
  no part of it has been written: ``queued`` with no part done. That check and the
  mark ``sending`` are each one transaction under the store's lock, so whichever comes
  first wins: a cancelled text is never marked ``sending`` (the modem thread then
  leaves the prompt without writing the PDU), and a text marked ``sending`` is not
  cancelled (it is answered with what happened). An id never offered is recorded
  ``cancelled`` too, so an offer that comes late is answered, never sent;
- a received PDU is recorded (with its hash, in ``seen``) before it is deleted from
  the SIM; one found again on the SIM after a crash is recognised by its hash and
  only deleted. Parts of a long message wait in ``parts`` until all are there.

WAL and synchronous=FULL: a commit is on disk before the modem is told anything.
Three threads use the store (MQTT, modem, inbox courier), one at a time, by a lock.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from bus.privacy import normalize_phone
from firmware_bridge.errors import SendCancelled
from firmware_bridge.phones import masked
from firmware_bridge.pdu import Sms, decode_units
from firmware_bridge.schema import SCHEMA

log = logging.getLogger(__name__)

MAX_INBOX_TEXT = 2000  # bus/payloads.py SmsInbox.text
GAP = "[…]"  # where a part that never came would be

FINISHED = ("sent", "failed", "cancelled")  # states with an sms/sent answer


def sender(number: str) -> str:
    """A mainland mobile as the hall keeps it (13912345678, not +8613912345678); others as they came."""
    return normalize_phone(number) or number


def iso(moment: datetime) -> str:
    """UTC, fixed width: these strings sort as the moments do."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def pdu_hash(pdu_hex: str) -> str:
    return hashlib.sha256(pdu_hex.strip().upper().encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Outgoing:
    id: str
    phone: str
    text: str
    parts_done: int
    ref: int | None
    attempts: int


@dataclass(frozen=True)
class Incoming:
    request_id: str
    phone: str
    text: str
    received_at: str


class BridgeStore:
    def __init__(self, path: str | Path, *, bridge_id: str, clock: Callable[[], datetime]) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.bridge_id, self.clock = bridge_id, clock
        self._lock = threading.RLock()
        self.db = sqlite_utils.Database(sqlite3.connect(str(path), check_same_thread=False, isolation_level=None))
        self.db.conn.row_factory = sqlite3.Row
        self.db.conn.execute("PRAGMA journal_mode=WAL")
        self.db.conn.execute("PRAGMA synchronous=FULL")
        self.db.conn.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self.db.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _migrate(self) -> None:
        version = self.db.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(SCHEMA):
            raise RuntimeError(f"bridge database schema {version} is newer than this paihao knows; upgrade paihao")
        for number, script in enumerate(SCHEMA[version:], start=version + 1):
            with self._tx() as conn:
                for statement in filter(str.strip, script.split(";")):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={number}")

    def _now(self) -> str:
        return iso(self.clock())

    # -- the outbox -------------------------------------------------------------------------------------
    def offer(self, sms_id: str, phone: str, text: str) -> tuple[str, dict | None]:
        """Take an offered text: ("new", None), ("queued", None) if it is already waiting or
        being sent, or ("done", its recorded sms/sent answer)."""
        now = self._now()
        with self._tx() as conn:
            row = conn.execute("SELECT state FROM outbox WHERE id = ?", (sms_id,)).fetchone()
            if row is None:
                conn.execute("INSERT INTO outbox (id, phone, text, state, next_try_at, offered_at) "
                             "VALUES (?, ?, ?, 'queued', ?, ?)", (sms_id, phone, text, now, now))
                return "new", None
        if row["state"] in FINISHED:
            return "done", self.answer(sms_id)
        return "queued", None

    def cancel(self, sms_id: str) -> tuple[str, str | None]:
        """Withdraw a text unless some of it may have gone out. ("cancelled", its number) when it
        is cancelled now (None: an id never offered, recorded so that it never will be sent);
        ("done", None) if it already has an answer; ("busy", None) while it is being sent —
        it is answered when that ends, with what happened."""
        now = self._now()
        with self._tx() as conn:
            row = conn.execute("SELECT state, phone, parts_done FROM outbox WHERE id = ?", (sms_id,)).fetchone()
            if row is None:
                conn.execute("INSERT INTO outbox (id, phone, text, state, next_try_at, offered_at, error_code, "
                             "error_message, done_at) VALUES (?, '', '', 'cancelled', ?, ?, 'cancelled', ?, ?)",
                             (sms_id, now, now, "cancelled before the bridge was offered it", now))
                return "cancelled", None
            if row["state"] in FINISHED:
                return "done", None
            if row["state"] == "sending" or row["parts_done"] > 0:
                return "busy", None  # a long text whose first parts went out is finished, as one message
            conn.execute("UPDATE outbox SET state = 'cancelled', phone = '', text = '', error_code = 'cancelled', "
                         "error_message = ?, done_at = ? WHERE id = ?", ("cancelled before it was sent", now, sms_id))
            return "cancelled", row["phone"]

    def answer(self, sms_id: str) -> dict | None:
        """The sms/sent payload of a finished id."""
        with self._lock:
            row = self.db.conn.execute("SELECT state, error_code, error_message FROM outbox WHERE id = ?",
                                       (sms_id,)).fetchone()
        if row is None or row["state"] not in FINISHED:
            return None
        if row["state"] == "sent":
            return {"id": sms_id, "ok": True, "error": None}
        return {"id": sms_id, "ok": False, "error": {"code": row["error_code"], "message": row["error_message"]}}

    def recover(self) -> list[str]:
        """Fail every text caught ``sending`` by a crash: it may have gone out; never send it again."""
        now = self._now()
        with self._tx() as conn:
            rows = conn.execute("SELECT id, phone, parts_done FROM outbox WHERE state = 'sending'").fetchall()
            for row in rows:
                log.warning("text %s to %s: the bridge stopped while part %d was being sent; it may have gone "
                            "out, so it is not sent again (answered: uncertain)",
                            row["id"], masked(row["phone"]), row["parts_done"] + 1)
                conn.execute("UPDATE outbox SET state = 'failed', error_code = 'uncertain', error_message = ?, "
                             "done_at = ? WHERE id = ?",
                             ("the bridge stopped while the modem was sending it; it may have been sent", now,
                              row["id"]))
        return [row["id"] for row in rows]

    def due(self, limit: int = 20) -> list[Outgoing]:
        with self._lock:
            rows = self.db.conn.execute(
                "SELECT id, phone, text, parts_done, ref, attempts FROM outbox WHERE state = 'queued' "
                "AND next_try_at <= ? ORDER BY offered_at, id LIMIT ?", (self._now(), limit)).fetchall()
        return [Outgoing(**dict(row)) for row in rows]

    def next_due(self) -> datetime | None:
        """When the earliest queued text (now, or after a failed try) is due."""
        with self._lock:
            row = self.db.conn.execute("SELECT MIN(next_try_at) FROM outbox WHERE state = 'queued'").fetchone()
        return datetime.fromisoformat(row[0]) if row[0] else None

    def reference(self, sms_id: str, parts: int) -> int:
        """The concatenation reference of a text: taken once, from a counter that survives restarts."""
        with self._tx() as conn:
            row = conn.execute("SELECT ref FROM outbox WHERE id = ?", (sms_id,)).fetchone()
            if row["ref"] is not None:
                return row["ref"]
            counter = conn.execute("SELECT value FROM meta WHERE key = 'next_ref'").fetchone()
            ref = int(counter[0]) if counter else 0
            conn.execute("INSERT INTO meta (key, value) VALUES ('next_ref', ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str((ref + 1) % 256),))
            conn.execute("UPDATE outbox SET ref = ?, parts_total = ? WHERE id = ?", (ref, parts, sms_id))
            return ref

    def sending(self, sms_id: str, part: int) -> None:
        """Part ``part`` (0-based) is about to be written to the modem; SendCancelled if the text
        is no longer queued (a cancel came first): then nothing may be written."""
        with self._tx() as conn:
            if conn.execute("UPDATE outbox SET state = 'sending', parts_done = ? WHERE id = ? AND state = 'queued'",
                            (part, sms_id)).rowcount != 1:
                raise SendCancelled(f"text {sms_id} was cancelled before its PDU was written")

    def part_sent(self, sms_id: str, part: int, total: int) -> bool:
        """The modem took part ``part``; True when that was the last, and the text is sent."""
        done = part + 1 == total
        with self._tx() as conn:
            conn.execute("UPDATE outbox SET state = ?, parts_done = ?, done_at = ? WHERE id = ?",
                         ("sent" if done else "queued", part + 1, self._now() if done else None, sms_id))
        return done

    def retry(self, sms_id: str, code: str, message: str, delay_s: float) -> int:
        """Not sent this time (the modem or network said so): try again after ``delay_s``; the tries so far."""
        at = iso(self.clock() + timedelta(seconds=delay_s))
        with self._tx() as conn:
            conn.execute("UPDATE outbox SET state = 'queued', attempts = attempts + 1, next_try_at = ?, "
                         "error_code = ?, error_message = ? WHERE id = ?", (at, code, message, sms_id))
            return conn.execute("SELECT attempts FROM outbox WHERE id = ?", (sms_id,)).fetchone()[0]

    def put_back(self, sms_id: str) -> None:
        """The modem failed before the PDU was written: nothing went out, the text waits as it was."""
        with self._tx() as conn:
            conn.execute("UPDATE outbox SET state = 'queued' WHERE id = ? AND state = 'sending'", (sms_id,))

    def fail(self, sms_id: str, code: str, message: str) -> dict:
        with self._tx() as conn:
            conn.execute("UPDATE outbox SET state = 'failed', error_code = ?, error_message = ?, done_at = ? "
                         "WHERE id = ? AND state != 'cancelled'", (code, message[:500], self._now(), sms_id))
        return self.answer(sms_id) or {}

    # -- received messages ----------------------------------------------------------------------------------
    def seen(self, digest: str) -> bool:
        with self._lock:
            return self.db.conn.execute("SELECT 1 FROM seen WHERE pdu_hash = ?", (digest,)).fetchone() is not None

    def record(self, sms: Sms, digest: str) -> str | None:
        """Record a received PDU; the request_id of the message it completes, if it does."""
        now = self._now()
        sent_at = sms.timestamp.isoformat() if sms.timestamp else None  # in the network's own zone
        with self._tx() as conn:
            conn.execute("INSERT OR IGNORE INTO seen (pdu_hash, stored_at) VALUES (?, ?)", (digest, now))
            if sms.concat is None or sms.concat.total == 1:
                return self._inbox(conn, sender(sms.number), sms.text, sms.timestamp.isoformat() if sms.timestamp else now)
            key = (sms.number, sms.concat.ref, sms.concat.total)
            conn.execute("INSERT OR IGNORE INTO parts (sender, ref, total, seq, encoding, units, sent_at, stored_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (*key, sms.concat.seq, sms.encoding, sms.units,
                                                              sent_at, now))
            have = conn.execute("SELECT COUNT(*) FROM parts WHERE sender = ? AND ref = ? AND total = ?",
                                key).fetchone()[0]
            return self._assemble(conn, key) if have == sms.concat.total else None

    def flush_parts(self, older_than: timedelta) -> list[str]:
        """Hand over long messages whose missing parts have not come for ``older_than``, gaps marked."""
        cutoff = iso(self.clock() - older_than)
        with self._tx() as conn:
            keys = conn.execute("SELECT sender, ref, total FROM parts GROUP BY sender, ref, total "
                                "HAVING MIN(stored_at) < ?", (cutoff,)).fetchall()
            ids = []
            for key in keys:
                log.warning("a long message from %s still lacks parts after %s; handed over with gaps",
                            masked(key["sender"]), older_than)
                ids.append(self._assemble(conn, tuple(key)))
        return ids

    def _assemble(self, conn: sqlite3.Connection, key: tuple) -> str:
        rows = conn.execute("SELECT seq, encoding, units, sent_at, stored_at FROM parts WHERE sender = ? AND ref = ? "
                            "AND total = ? ORDER BY seq", key).fetchall()
        by_seq = {row["seq"]: row for row in rows}
        pieces, run, encoding = [], b"", rows[0]["encoding"]
        for seq in range(1, key[2] + 1):
            if seq in by_seq and by_seq[seq]["encoding"] == encoding:
                run += by_seq[seq]["units"]  # joined as code units: a split surrogate pair or escape survives
                continue
            pieces.append(decode_units(encoding, run) + GAP)
            run = by_seq[seq]["units"] if seq in by_seq else b""
            encoding = by_seq[seq]["encoding"] if seq in by_seq else encoding
        pieces.append(decode_units(encoding, run))
        stamps = [datetime.fromisoformat(row["sent_at"]) for row in rows if row["sent_at"]]
        received_at = min(stamps).isoformat() if stamps else rows[0]["stored_at"]
        conn.execute("DELETE FROM parts WHERE sender = ? AND ref = ? AND total = ?", key)
        return self._inbox(conn, sender(key[0]), "".join(pieces), received_at)

    def _inbox(self, conn: sqlite3.Connection, phone: str, text: str, received_at: str) -> str:
        if len(text) > MAX_INBOX_TEXT:
            log.warning("a message from %s of %d characters is cut to %d", masked(phone), len(text), MAX_INBOX_TEXT)
            text = text[:MAX_INBOX_TEXT - 1] + "…"
        request_id = f"{self.bridge_id}-{uuid.uuid4().hex[:20]}"
        conn.execute("INSERT INTO inbox (request_id, phone, text, received_at, state, stored_at) "
                     "VALUES (?, ?, ?, ?, 'pending', ?)", (request_id, phone, text, received_at, self._now()))
        return request_id

    def pending(self, limit: int = 20) -> list[Incoming]:
        with self._lock:
            rows = self.db.conn.execute("SELECT request_id, phone, text, received_at FROM inbox WHERE state = 'pending' "
                                        "ORDER BY stored_at, request_id LIMIT ?", (limit,)).fetchall()
        return [Incoming(**dict(row)) for row in rows]

    def answered(self, request_id: str, ok: bool, error: str | None = None) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE inbox SET state = ?, answered_at = ?, error = ? WHERE request_id = ?",
                         ("answered" if ok else "refused", self._now(), error, request_id))

    # -- housekeeping -----------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Texts waiting to be sent, and received messages the hall has not taken yet."""
        with self._lock:
            conn = self.db.conn
            queued = conn.execute("SELECT COUNT(*) FROM outbox WHERE state IN ('queued', 'sending')").fetchone()[0]
            waiting = conn.execute("SELECT COUNT(*) FROM inbox WHERE state = 'pending'").fetchone()[0]
            parts = conn.execute("SELECT COUNT(*) FROM parts").fetchone()[0]
        return {"outbox_queued": queued, "inbox_waiting": waiting, "parts_waiting": parts}

    def purge(self, older_than: timedelta) -> None:
        """Forget finished texts and handed-over messages (their phone numbers with them)."""
        cutoff = iso(self.clock() - older_than)
        with self._tx() as conn:
            conn.execute("DELETE FROM outbox WHERE state IN ('sent', 'failed', 'cancelled') AND done_at < ?", (cutoff,))
            conn.execute("DELETE FROM inbox WHERE state IN ('answered', 'refused') AND answered_at < ?", (cutoff,))
            conn.execute("DELETE FROM seen WHERE stored_at < ?", (cutoff,))

