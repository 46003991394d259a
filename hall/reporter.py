"""The controller's own monthly report: last month's, made by a worker thread.

On the first day of a month (site timezone) the hall loop starts a worker that reads the
database through its own read-only connection (WAL: the loop keeps writing meanwhile),
writes the CSV and XLSX and hands back the summary; the loop keeps it in ``meta`` and
publishes it retained on ``reports/{month}`` (again after every reconnect).

That first report is preliminary (``"final": false``): replies to the month's last
evaluation texts may still come in for ``[sms] reply_window``. Once that window has
passed the month is made again, ``"final": true``. A controller that was down on the
1st makes the report when it starts. A month without a single ticket is not reported
(``paihao report`` makes one on demand).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime

import sqlite_utils

from hall.report_files import write_report
from hall.reports import MonthSpan, month_report, previous_month, summary
from hall.store import open_readonly, set_meta, transaction
from paihao.config import HallConfig, parse_duration

log = logging.getLogger(__name__)

RETRY_S = 3600  # after a failure (a full disk, a folder it may not write): try again in an hour


def saved_summaries(db: sqlite_utils.Database) -> list[dict]:
    rows = db.conn.execute("SELECT value FROM meta WHERE key LIKE 'report:%' ORDER BY key").fetchall()
    return [json.loads(r[0]) for r in rows]


def is_final(config: HallConfig, month: str, now: datetime) -> bool:
    """Whether the month's reply window has closed: no rating of it can change any more."""
    reply_window_s = parse_duration(config.sms.reply_window).total_seconds()
    return now.timestamp() >= MonthSpan.of(month, config.tz).end + reply_window_s


def make_report(config: HallConfig, month: str, *, final: bool, made_at: datetime) -> dict:
    """Read the month, write its files, return the summary (any thread; its own connection)."""
    conn = open_readonly(config.storage.db)
    try:
        report = month_report(conn, config, month)
    finally:
        conn.close()
    paths = write_report(config.reports.folder, config.site.id, report)
    made = made_at.astimezone(config.tz).isoformat(timespec="seconds")
    return summary(report, final=final, made_at=made, files={k: p.name for k, p in paths.items()})


class MonthlyReports:
    def __init__(self, config: HallConfig, db: sqlite_utils.Database, *, wake: Callable[[], None]) -> None:
        self.config, self.db, self.wake = config, db, wake
        self._done = {s["month"]: bool(s["final"]) for s in saved_summaries(db)}
        self._empty: set[str] = set()
        self._worker: threading.Thread | None = None
        self._results: queue.SimpleQueue = queue.SimpleQueue()
        self._retry_at = 0.0

    def check(self, now: datetime) -> None:
        """In the hall loop, every tick: start last month's report if it is due."""
        if self._worker is not None or time.monotonic() < self._retry_at:
            return
        month = previous_month(now, self.config.tz)
        final = is_final(self.config, month, now)
        if month in self._done and (self._done[month] or not final):
            return
        if month in self._empty or not self._has_tickets(month):
            self._empty.add(month)
            return
        log.info("making the %s report for %s", "final" if final else "preliminary", month)
        self._worker = threading.Thread(target=self._work, args=(month, final, now), name=f"report-{month}",
                                        daemon=True)
        self._worker.start()

    def _has_tickets(self, month: str) -> bool:
        span = MonthSpan.of(month, self.config.tz)
        row = self.db.conn.execute(
            "SELECT 1 FROM tickets WHERE day >= ? AND day < ? LIMIT 1", (span.first_day, span.next_first_day)
        ).fetchone()
        return row is not None

    def _work(self, month: str, final: bool, now: datetime) -> None:
        try:
            self._results.put(make_report(self.config, month, final=final, made_at=now))
        except Exception as exc:
            log.exception("the %s report could not be made; trying again in %d s", month, RETRY_S)
            self._results.put(exc)
        finally:
            self.wake()

    def ready(self) -> bool:
        return not self._results.empty()

    def collect(self) -> dict | None:
        """In the hall loop: the finished report's summary, now kept in meta; None after a failure."""
        result = self._results.get_nowait()
        if self._worker is not None:
            self._worker.join()
        self._worker = None
        if isinstance(result, Exception):
            self._retry_at = time.monotonic() + RETRY_S
            return None
        with transaction(self.db):
            set_meta(self.db, f"report:{result['month']}", json.dumps(result, ensure_ascii=False))
        self._done[result["month"]] = result["final"]
        log.info("report for %s written: %s", result["month"], ", ".join(result["files"].values()))
        return result

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.join(30)
