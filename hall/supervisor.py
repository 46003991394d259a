"""The supervisor's clock tick: records cards as services run late, and closes past days
(expiring their tickets, forgetting old request ids, erasing old phone numbers)."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from hall.outcome import Outcome
from hall.retention import erase_old_phones
from hall.store import transaction
from hall.supervision import Overdue, case_overdue, serving_overdue

if TYPE_CHECKING:
    from hall.engine import Engine

log = logging.getLogger(__name__)


class Supervisor:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.db = engine.db
        rows = self.db.conn.execute("SELECT ticket, case_id, level FROM cards").fetchall()
        self._recorded = {(r[0] or r[1], r[2]) for r in rows}
        # None: the first tick always looks for past days' tickets, even if
        # today's first ticket was issued just before a crash and restart.
        self._last_day: str | None = None

    def overdue(self, now: datetime) -> list[Overdue]:
        """Every service and case over its limit at ``now``: red first, then the latest."""
        stamp = now.timestamp()
        red_factor = self.engine.config.supervision.red_factor
        found: list[Overdue] = []
        for row in self.db.conn.execute("SELECT * FROM tickets WHERE status = 'serving'"):
            late = serving_overdue(dict(row), stamp, red_factor)
            if late:
                found.append(late)
        today = self.engine.local_day(now)
        for row in self.db.conn.execute("SELECT * FROM cases WHERE status = 'open' AND due_date < ?", (today,)):
            late = case_overdue(dict(row), stamp, self.engine.tz)
            if late:
                found.append(late)
        found.sort(key=lambda o: (o.level != "red", o.late_from))
        return found

    def active_cards(self, now: datetime) -> dict:
        stamp = now.timestamp()
        cards = []
        for late in self.overdue(now):
            entry = {"level": late.level, "dept": late.dept, "window": late.window, "clerk": late.clerk}
            entry["case" if late.case else "ticket"] = late.case or late.ticket
            entry.update(since=self.engine.iso(late.since), overdue_s=round(stamp - late.late_from))
            cards.append(entry)
        return {"cards": cards, "at": self.engine.iso(stamp)}

    def today(self, now: datetime) -> dict:
        """The cards earned today (their level began since local midnight), per department:
        the wall's 今日黄/红牌, from the record itself, so a screen that joins mid-day misses none."""
        day = now.astimezone(self.engine.tz).date()
        start = datetime.combine(day, time(0), self.engine.tz)
        end = datetime.combine(day + timedelta(days=1), time(0), self.engine.tz)
        counts: dict[str, dict[str, int]] = {}
        for dept, level, count in self.db.conn.execute(
            "SELECT dept, level, count(*) FROM cards WHERE since >= ? AND since < ? GROUP BY dept, level",
            (start.timestamp(), end.timestamp()),
        ):
            counts.setdefault(dept, {"yellow": 0, "red": 0})[level] = count
        depts = [{"dept": dept, **counts[dept]} for dept in sorted(counts)]
        return {"day": day.isoformat(), "yellow": sum(d["yellow"] for d in depts),
                "red": sum(d["red"] for d in depts), "depts": depts}

    def tick(self, now: datetime) -> Outcome:
        """Record newly earned cards and expire yesterday's queue; one transaction."""
        outcome = Outcome(reply={})
        earned: set = set()
        with transaction(self.db):
            self.roll_day(now, outcome)
            for late in self.overdue(now):
                self._record(late, now, outcome, earned)
            self.engine.journal.checkpoint()
        self._recorded |= earned  # only once committed
        return outcome

    def _record(self, late: Overdue, now: datetime, outcome: Outcome, earned: set) -> None:
        ref = late.ticket_id if late.ticket_id is not None else late.case
        levels = ("yellow", "red") if late.level == "red" else ("yellow",)
        for level in levels:
            if (ref, level) in self._recorded or (ref, level) in earned:
                continue
            since = late.since if level == late.level else late.late_from
            self.db.conn.execute(
                "INSERT OR IGNORE INTO cards (level, dept, window, clerk, ticket, case_id, since, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (level, late.dept, late.window, late.clerk, late.ticket_id, late.case, since, now.timestamp()),
            )
            earned.add((ref, level))
            event = self.engine.journal.emit(
                "card", now, ticket=late.ticket, window=late.window, clerk=late.clerk, level=level,
                dept=late.dept, case=late.case, since=self.engine.iso(since),
            )
            outcome.events.append(event)
            outcome.cards = True
            if late.window and late.ticket:
                outcome.windows.add(late.window)

    def roll_day(self, now: datetime, outcome: Outcome) -> None:
        """Inside a transaction, before anything else of a new day: past days' tickets expire.

        Numbers restart at 001 each day; a waiting 02001 from yesterday beside
        today's 02001 would call the wrong citizen.
        """
        today = self.engine.local_day(now)
        if self._last_day == today:
            return
        stale = self.db.conn.execute(
            "SELECT dept, count(*) FROM tickets WHERE day < ? AND status IN ('waiting', 'skipped') GROUP BY dept",
            (today,),
        ).fetchall()
        if stale:
            self.db.conn.execute(
                "UPDATE tickets SET status = 'expired', finished_at = ? WHERE day < ? AND status IN ('waiting', 'skipped')",
                (now.timestamp(), today),
            )
            counts = {dept: n for dept, n in stale}
            outcome.events.append(self.engine.journal.emit("tickets_expired", now, day=today, counts=counts))
            outcome.depts |= set(counts)
            log.info("new day %s: %d tickets of past days expired", today, sum(counts.values()))
        self._last_day = today
        outcome.cards = True  # case levels move at midnight
        keep_s = self.engine.config.queue.request_retention_days * 86400
        self.db.conn.execute("DELETE FROM requests WHERE at < ?", (now.timestamp() - keep_s,))
        erased = erase_old_phones(self.db, now, self.engine.config.storage.phone_retention_days)
        if any(erased.values()):
            outcome.events.append(self.engine.journal.emit("phones_erased", now, **erased))
            log.info("phone numbers erased after %d days: %s", self.engine.config.storage.phone_retention_days, erased)

