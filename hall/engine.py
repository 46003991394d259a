"""The queue engine: every decision of the hall, as plain Python over the store.

No MQTT and no clock in here: each call gets ``now`` (an aware datetime), so
the engine is tested directly and a whole day runs in milliseconds.

Each request runs in one transaction (a savepoint, when the service commits
several requests together) with its journal entries and its idempotency
record, so a request is either fully applied and remembered, or not at all.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlite_utils

from bus.codes import ErrorCode
from bus.payloads import KioskRequest, Request, SmsInbox, WindowCommand
from bus.privacy import mask_phone, normalize_phone
from hall.actions import ACTIONS
from hall.estimates import ServiceTimes
from hall.evaluation import Evaluations
from hall.journal import Journal
from hall.numbering import next_number
from hall.outcome import Outcome, Refused
from hall.store import transaction
from hall.views import ticket_view, window_view
from hall.workdays import WorkCalendar
from paihao.config import HallConfig


class Engine:
    def __init__(self, db: sqlite_utils.Database, config: HallConfig, calendar: WorkCalendar) -> None:
        self.db = db
        self.config = config
        self.calendar = calendar
        self.tz = config.tz
        self.journal = Journal(db, self.tz)
        self.service_times = ServiceTimes(db, config)
        self.evaluations = Evaluations(self)
        self.outbox = self.evaluations.outbox

    # -- entry points ------------------------------------------------------
    def handle(self, source: str, request: Request, now: datetime) -> Outcome:
        """Apply one request exactly once; a repeated request_id gets its first answer."""
        cached = self.db.conn.execute(
            "SELECT response FROM requests WHERE source = ? AND request_id = ?",
            (source, request.request_id),
        ).fetchone()
        if cached:
            return Outcome(reply=json.loads(cached[0]), reply_json=cached[0])
        try:
            with transaction(self.db):
                outcome = self._apply(source, request, now)
                # After _apply: a refusal rolls the transaction back, and the
                # journal would believe a checkpoint saved that never was.
                self.journal.checkpoint()
                outcome.reply_json = self._remember(source, request, outcome.reply, now)
        except Refused as refused:
            # The refusal is remembered too: a resend of the same request_id
            # gets this same answer, even if the hall has moved on meanwhile.
            outcome = Outcome(reply=refused.reply())
            with transaction(self.db):
                outcome.reply_json = self._remember(source, request, outcome.reply, now)
        return outcome

    def _remember(self, source: str, request: Request, reply: dict, now: datetime) -> str:
        """Store the reply for a resend of this request_id; return it encoded, as it is sent."""
        text = json.dumps(reply, ensure_ascii=False, separators=(",", ":"))
        self.db.conn.execute(
            "INSERT INTO requests (source, request_id, response, at) VALUES (?, ?, ?, ?)",
            (source, request.request_id, text, now.timestamp()),
        )
        return text

    def _apply(self, source: str, request: Request, now: datetime) -> Outcome:
        if isinstance(request, SmsInbox):
            return self.evaluations.reply(request, now)
        if isinstance(request, KioskRequest):
            return self.issue_ticket(source.rsplit("/", 1)[-1], request, now)
        if isinstance(request, WindowCommand):
            window_id = source.rsplit("/", 1)[-1]
            return self.window_action(window_id, request, now)
        raise Refused(ErrorCode.BAD_REQUEST, "unsupported request")

    # -- kiosks --------------------------------------------------------------
    def issue_ticket(self, kiosk: str, request: KioskRequest, now: datetime) -> Outcome:
        dept = self.config.department(request.dept)
        if dept is None:
            raise Refused(ErrorCode.UNKNOWN_DEPT, f"no department {request.dept!r}", "没有这个部门")
        item = self.config.item(request.item)
        if item is None or item.dept != dept.code:
            raise Refused(ErrorCode.UNKNOWN_ITEM, f"department {dept.code} has no item {request.item!r}", "该部门没有这个事项")
        phone = normalize_phone(request.phone)
        if phone is None:
            raise Refused(ErrorCode.BAD_PHONE, "not a mainland mobile number (11 digits starting with 1)", "手机号码不正确，请输入11位手机号")
        held = self._scalar(
            "SELECT count(*) FROM tickets WHERE phone = ? AND dept = ? AND status = 'waiting'", (phone, dept.code)
        )
        limit = self.config.queue.max_waiting_per_phone
        if held >= limit:
            raise Refused(ErrorCode.LIMIT_REACHED, f"this phone already holds {held} waiting tickets here (at most {limit})", f"该号码在本部门已有{held}张未办理的号，最多{limit}张")
        day = self.local_day(now)
        number = next_number(self.db, day, dept.code)
        ahead = self._scalar("SELECT count(*) FROM tickets WHERE dept = ? AND status = 'waiting'", (dept.code,))
        # queue_seq is the issue order: the id this row gets (tickets are never deleted),
        # set in the INSERT itself rather than by an UPDATE that rewrites the row and its index.
        self.db.conn.execute(
            "INSERT INTO tickets (day, number, dept, item, phone, kiosk, status, queue_seq, issued_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 'waiting', (SELECT coalesce(max(id), 0) + 1 FROM tickets), ?)",
            (day, number, dept.code, item.code, phone, kiosk, now.timestamp()),
        )
        est_wait_s = self.estimated_wait(dept.code, ahead)
        event = self.journal.emit(
            "ticket_issued", now, ticket=number, kiosk=kiosk, dept=dept.code, item=item.code,
            phone=mask_phone(phone), ahead=ahead, est_wait_s=est_wait_s, request_id=request.request_id,
        )
        ticket = {
            "number": number, "dept": dept.code, "item": item.code, "issued_at": self.iso(now.timestamp()),
            "ahead": ahead, "est_wait_s": est_wait_s, "phone": mask_phone(phone),
        }
        return Outcome(reply={"ok": True, "ticket": ticket}, events=[event], depts={dept.code})

    # -- windows ---------------------------------------------------------------
    def window_action(self, window_id: str, command: WindowCommand, now: datetime) -> Outcome:
        if self.config.window(window_id) is None:
            raise Refused(ErrorCode.UNKNOWN_WINDOW, f"no window {window_id!r}", "没有这个窗口")
        missing = command.missing_fields()
        if missing:
            raise Refused(ErrorCode.BAD_REQUEST, f"{command.action} needs {', '.join(missing)}")
        outcome = ACTIONS[command.action](self, window_id, command, now)
        outcome.windows.add(window_id)
        outcome.reply = {"ok": True, "window": self.window_state(window_id, now), **outcome.reply}
        return outcome

    # -- shared helpers ----------------------------------------------------------
    def local_day(self, now: datetime) -> str:
        return now.astimezone(self.tz).date().isoformat()

    def iso(self, epoch: float | None) -> str | None:
        if epoch is None:
            return None
        return datetime.fromtimestamp(epoch, self.tz).isoformat(timespec="seconds")

    def _scalar(self, sql: str, params: tuple = ()) -> int:
        return self.db.conn.execute(sql, params).fetchone()[0]

    def window_row(self, window_id: str) -> dict:
        row = self.db.conn.execute("SELECT * FROM windows WHERE id = ?", (window_id,)).fetchone()
        return dict(row) if row else {"id": window_id, "status": "closed", "clerk": None, "serving": None}

    def save_window(self, window: dict) -> None:
        self.db.conn.execute(
            "INSERT INTO windows (id, status, clerk, serving) VALUES (:id, :status, :clerk, :serving)"
            " ON CONFLICT (id) DO UPDATE SET status = excluded.status, clerk = excluded.clerk,"
            " serving = excluded.serving",
            window,
        )

    def ticket_row(self, ticket_id: int) -> dict:
        return dict(self.db.conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone())

    def window_state(self, window_id: str, now: datetime) -> dict:
        window = self.window_row(window_id)
        serving = self.ticket_row(window["serving"]) if window["serving"] else None
        return window_view(self, self.config.window(window_id), window, serving, now)

    def ticket_state(self, ticket: dict, now: datetime) -> dict:
        return ticket_view(self, ticket, now)

    def estimated_wait(self, dept: str, ahead: int) -> int:
        """Seconds until a ticket with ``ahead`` people before it is called."""
        open_ids = {r[0] for r in self.db.conn.execute("SELECT id FROM windows WHERE status = 'open'")}
        open_windows = sum(1 for w in self.config.windows if dept in w.depts and w.id in open_ids)
        return round(ahead * self.service_times.average(dept) / max(open_windows, 1))
