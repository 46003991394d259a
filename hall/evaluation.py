"""Evaluation by SMS: the text after a service, and what a citizen's reply does.

After ``complete`` or ``accept`` the evaluation text is queued in the same transaction
(none without a phone number, with ``[sms] enabled = false``, or for a number that
opted out). A reply (docs/protocol.md, "The controller's side"):

- a rating (hall/replies.py) rates that number's latest finished, unrated service within
  ``[sms] reply_window``; ``evaluated`` is published, and for "unsatisfied" ``complaint``
  too. The first valid reply counts: a later one finds nothing left to rate;
- TD opts the number out: texts not yet confirmed sent are withdrawn (never offered
  again, and cancelled on the bridge, which may hold them already), and the
  ``opted_out`` text (if any) confirms it, once;
- anything else, and a rating with nothing to rate, gets the ``help`` text, at most once
  per number per reply window, so that an auto-reply on the other end cannot start a loop.

No reply ever goes to a number that opted out, other than the one confirmation.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING

from bus.codes import ErrorCode
from bus.payloads import SmsInbox
from bus.privacy import mask_phone, normalize_phone
from hall.optouts import OptOuts
from hall.outbox import Outbox
from hall.outcome import Outcome, Refused
from hall.replies import OPT_OUT, RATINGS, UNSATISFIED, parse_reply
from paihao.config import parse_duration

if TYPE_CHECKING:
    from hall.engine import Engine

log = logging.getLogger(__name__)

WORDS_KEPT = 500  # characters of a complaint's text carried in the event
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")


class Evaluations:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.db = engine.db
        self.sms = engine.config.sms
        self.outbox = Outbox(engine.db, engine.config.site.id, parse_duration(self.sms.resend).total_seconds())
        self.optouts = OptOuts(engine.db)
        self.reply_window_s = parse_duration(self.sms.reply_window).total_seconds()

    # -- after a service ------------------------------------------------------------------
    def after_service(self, ticket: dict, window: str, clerk: str | None, now: datetime) -> list[dict]:
        """Inside the complete/accept transaction: queue the evaluation text; the payloads to offer."""
        phone = ticket["phone"]
        if not self.sms.enabled or not phone or self.optouts.contains(phone):
            return []
        row_id, payload = self.outbox.add(phone, "evaluation", self._text(ticket, window, now), now)
        self.db.conn.execute(
            "INSERT INTO evaluations (ticket, day, dept, window, clerk, item, finished_at, outbox)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (ticket["id"], ticket["day"], ticket["dept"], window, clerk, ticket["item"], now.timestamp(), row_id),
        )
        return [payload]

    def _text(self, ticket: dict, window_id: str, now: datetime) -> str:
        config = self.engine.config
        local = now.astimezone(self.engine.tz)
        window = config.window(window_id)
        dept = config.department(ticket["dept"])
        item = config.item(ticket["item"]) if ticket["item"] else None
        dept_name = dept.name if dept else ticket["dept"]
        return self.sms.template.format(
            hall=config.site.name,
            date=f"{local.month}月{local.day}日",
            window=(window.name if window and window.name else f"{window_id}号窗口"),
            item=item.name if item else dept_name,  # transferred without an item: its department
            ticket=ticket["number"],
            dept=dept_name,
        )

    # -- a citizen's reply -------------------------------------------------------------------
    def reply(self, request: SmsInbox, now: datetime) -> Outcome:
        _check_received_at(request.received_at)
        phone = normalize_phone(request.phone)
        if phone is None:
            # A service number (the operator's 10086, a bank): never answer it, it may answer back.
            log.info("an SMS from a number that is not a mainland mobile; not answered")
            return Outcome(reply={"ok": True, "result": "ignored"})
        meaning = parse_reply(request.text)
        if meaning == OPT_OUT:
            return self._opt_out(phone, request, now)
        if meaning in RATINGS:
            service = self._unrated(phone, now)
            if service is not None:
                return self._rate(service, meaning, phone, request, now)
        return self._help(phone, now)

    def _unrated(self, phone: str, now: datetime) -> dict | None:
        row = self.db.conn.execute(
            "SELECT e.*, t.number FROM evaluations e JOIN sms_outbox o ON o.id = e.outbox"
            " JOIN tickets t ON t.id = e.ticket"
            " WHERE o.phone = ? AND o.kind = 'evaluation' AND e.rating IS NULL AND e.finished_at >= ?"
            " ORDER BY e.finished_at DESC, e.id DESC LIMIT 1",
            (phone, now.timestamp() - self.reply_window_s),
        ).fetchone()
        return dict(row) if row else None

    def _rate(self, service: dict, rating: str, phone: str, request: SmsInbox, now: datetime) -> Outcome:
        self.db.conn.execute(
            "UPDATE evaluations SET rating = ?, rated_at = ? WHERE id = ?", (rating, now.timestamp(), service["id"])
        )
        common = {"ticket": service["number"], "window": service["window"], "clerk": service["clerk"],
                  "request_id": request.request_id}
        events = [self.engine.journal.emit("evaluated", now, dept=service["dept"], rating=rating, **common)]
        if rating == UNSATISFIED:
            events.append(self.engine.journal.emit(
                "complaint", now, dept=service["dept"], item=service["item"], rating=rating,
                phone=mask_phone(phone), text=mask_phones_in(request.text.strip())[:WORDS_KEPT], **common,
            ))
        return Outcome(reply={"ok": True, "result": "rated", "rating": rating}, events=events)

    def _opt_out(self, phone: str, request: SmsInbox, now: datetime) -> Outcome:
        if not self.optouts.add(phone, now):
            return Outcome(reply={"ok": True, "result": "opted_out"})  # said TD before: confirmed then
        # 退订 must take effect at once: in this transaction, before the confirmation is queued.
        withdrawn = self.outbox.cancel(phone)
        # Published, not audit-only: an entry nobody hears would look like a lost event (a gap
        # in seq) to the wall, which then warns that cards may be missing.
        event = self.engine.journal.emit("sms_opted_out", now, phone=mask_phone(phone), cancelled=len(withdrawn),
                                         request_id=request.request_id)
        sms = []
        if self.sms.enabled and self.sms.opted_out:
            sms.append(self.outbox.add(phone, "opted_out", self.sms.opted_out.format(hall=self._hall), now)[1])
        return Outcome(reply={"ok": True, "result": "opted_out"}, events=[event], sms=sms, sms_cancel=withdrawn)

    def _help(self, phone: str, now: datetime) -> Outcome:
        since = now.timestamp() - self.reply_window_s
        if not self.sms.enabled or self.optouts.contains(phone) or self.outbox.sent_recently(phone, "help", since):
            return Outcome(reply={"ok": True, "result": "no_reply"})
        _, payload = self.outbox.add(phone, "help", self.sms.help.format(hall=self._hall), now)
        return Outcome(reply={"ok": True, "result": "help"}, sms=[payload])

    @property
    def _hall(self) -> str:
        return self.engine.config.site.name


def mask_phones_in(text: str) -> str:
    """A citizen's words with any mobile number in them masked: 请打13812345678 -> 请打138****5678."""
    return _PHONE_IN_TEXT.sub(lambda m: f"{m[1]}****{m[3]}", text)


def _check_received_at(text: str) -> None:
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None:
        raise Refused(ErrorCode.BAD_REQUEST, "received_at: not ISO 8601 with an offset, e.g. 2026-11-27T09:30:00+08:00")
