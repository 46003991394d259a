"""Benchmark of the monthly report.

    .venv/bin/python bench/report.py [--tickets 100000] [--runs 9]

Fills a temporary SQLite file, made by the real schema (hall/store.py), with a month
(November 2026) of config/rongchang.toml: ``--tickets`` tickets over its working days
in 14 departments, at 20 windows with their clerks; served, no-shows and never-called
tickets; yellow and red cards for the services over their limits; promised cases;
an evaluation text for each service, most confirmed sent, 40 % of them answered.
Then times, each ``--runs`` times (warm), p50 and p99:

- the floor: one scan of the month's tickets, ``SELECT count(*), total(...)``;
- the report: hall/reports.py, every column per department, window and clerk;
- the report with its CSV and XLSX written, as ``paihao report`` does.

Target (issue 6): a month of 100,000 tickets reported in under 2 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import chinese_calendar  # noqa: E402

from hall.report_files import write_report  # noqa: E402
from hall.reports import MonthSpan, month_report  # noqa: E402
from hall.store import open_readonly, open_store  # noqa: E402
from paihao.config import HallConfig, load_config  # noqa: E402

CONFIG = ROOT / "config" / "rongchang.toml"
MONTH = "2026-11"
TARGET_S = 2.0


def line(name: str, samples_s: list[float], floor_s: float | None = None, floor_name: str = "") -> float:
    ordered = sorted(samples_s)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    ratio = f"  ratio to {floor_name} {p50 / floor_s:.1f}" if floor_s else ""
    print(f"{name:<44} p50 {p50 * 1000:9.1f} ms  p99 {p99 * 1000:9.1f} ms  (n={len(ordered)}){ratio}", flush=True)
    return p50


class Month:
    """Rows for one month of a busy hall, generated with a fixed seed."""

    def __init__(self, config: HallConfig, tickets: int, seed: int = 6) -> None:
        self.config = config
        self.random = random.Random(seed)
        self.tz = config.tz
        first = date(2026, 11, 1)
        self.days = [first + timedelta(days=n) for n in range(30)
                     if chinese_calendar.is_workday(first + timedelta(days=n))]
        self.per_day = tickets // len(self.days)
        self.total = self.per_day * len(self.days)
        self.windows = {d.code: [w.id for w in config.windows if d.code in w.depts] for d in config.departments}
        self.clerk_of = {w.id: config.clerks[n % len(config.clerks)].id for n, w in enumerate(config.windows)}
        self.items = {d.code: [i for i in config.items if i.dept == d.code] for d in config.departments}
        weights = [8 if d.floor == 1 else 3 if d.floor == 2 else 1 for d in config.departments]
        self.depts = self.random.choices([d.code for d in config.departments], weights, k=self.total)
        self.tickets, self.outbox, self.evaluations, self.cards, self.cases = [], [], [], [], []

    def generate(self) -> Month:
        n = 0
        for day in self.days:
            opening = datetime.combine(day, datetime.min.time(), self.tz) + timedelta(hours=9)
            counters: dict[str, int] = {}
            for k in range(self.per_day):
                dept = self.depts[n]
                n += 1
                counters[dept] = counters.get(dept, 0) + 1
                issued = opening.timestamp() + k * 8 * 3600 / self.per_day
                self._ticket(n, day, dept, counters[dept], issued)
        return self

    def _ticket(self, n: int, day: date, dept: str, seq: int, issued: float) -> None:
        r = self.random
        item = r.choice(self.items[dept])
        limit = item.limit.total_seconds()
        window = r.choice(self.windows[dept])
        clerk = self.clerk_of[window]
        fate = r.random()
        phone = f"139{n:08d}"
        if fate < 0.06:  # never called: expired at night
            self.tickets.append((n, day.isoformat(), f"{dept}{seq:03d}", dept, item.code, phone, "expired", n, issued,
                                 None, None, None, None, issued + 36000))
            return
        called = issued + r.expovariate(1 / 900)
        if fate < 0.13:  # called, did not come
            self.tickets.append((n, day.isoformat(), f"{dept}{seq:03d}", dept, item.code, phone, "expired", n, issued,
                                 called, limit, window, clerk, called + 60))
            return
        finished = called + r.gammavariate(2, limit / 4)
        status = "accepted" if item.kind == "promised" else "completed"
        self.tickets.append((n, day.isoformat(), f"{dept}{seq:03d}", dept, item.code, phone, status, n, issued,
                             called, limit, window, clerk, finished))
        for level, factor in (("yellow", 1), ("red", 2)):
            if finished - called > limit * factor:
                self.cards.append((level, dept, window, clerk, n, None, called + limit * factor, finished))
        if status == "accepted":
            due = day + timedelta(days=7)
            done = finished + r.uniform(1, 10) * 86400
            self.cases.append((f"{day.strftime('%Y%m%d')}-{dept}{seq:03d}", n, dept, item.code, window, clerk,
                               finished, due.isoformat(), (due + timedelta(days=7)).isoformat(), "done", done, clerk))
        outcome = r.random()
        state = "sent" if outcome < 0.95 else "failed" if outcome < 0.98 else "pending"
        self.outbox.append((n, f"bench-000000-{n}", phone, "evaluation", "【荣昌县行政服务中心】…", state, finished))
        rating = None
        if state == "sent" and r.random() < 0.4:
            rating = r.choices(("satisfied", "basic", "unsatisfied"), (85, 10, 5))[0]
        self.evaluations.append((n, day.isoformat(), dept, window, clerk, item.code, finished, n, rating,
                                 finished + 600 if rating else None))

    def save(self, path: Path) -> None:
        db = open_store(path)
        with db.atomic():
            db.conn.executemany(
                "INSERT INTO tickets (id, day, number, dept, item, phone, kiosk, status, queue_seq, issued_at,"
                " called_at, limit_s, window, clerk, finished_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'k1', ?, ?, ?, ?, ?, ?, ?, ?)",
                self.tickets)
            db.conn.executemany(
                "INSERT INTO sms_outbox (id, sms_id, phone, kind, text, status, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                self.outbox)
            db.conn.executemany(
                "INSERT INTO evaluations (ticket, day, dept, window, clerk, item, finished_at, outbox, rating,"
                " rated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self.evaluations)
            db.conn.executemany(
                "INSERT INTO cards (level, dept, window, clerk, ticket, case_id, since, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self.cards)
            db.conn.executemany(
                "INSERT INTO cases (id, ticket, dept, item, window, clerk, accepted_at, due_date, red_date, status,"
                " done_at, done_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self.cases)
        db.conn.execute("ANALYZE")
        db.close()


def timed(func, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(CONFIG, storage={"db": str(Path(tmp) / "hall.db")}, reports={"folder": str(Path(tmp))})
        started = time.perf_counter()
        month = Month(config, args.tickets).generate()
        month.save(Path(config.storage.db))
        print(f"generated {month.total} tickets, {len(month.cards)} cards, {len(month.cases)} cases, "
              f"{len(month.evaluations)} evaluations in {time.perf_counter() - started:.1f} s", flush=True)
        conn = open_readonly(config.storage.db)
        span = MonthSpan.of(MONTH, config.tz)
        floor_sql = ("SELECT count(*), total(finished_at - called_at) FROM tickets WHERE day >= ? AND day < ?")

        def floor() -> None:
            conn.execute(floor_sql, (span.first_day, span.next_first_day)).fetchone()

        floor_s = line("floor: one scan of the month's tickets", timed(floor, args.runs))
        report = month_report(conn, config, MONTH)
        assert report.rows["hall"][0]["issued"] == month.total
        line("report: every column, 3 levels", timed(lambda: month_report(conn, config, MONTH), args.runs),
             floor_s, "one scan")
        full = line("report + CSV + XLSX written", timed(
            lambda: write_report(config.reports.folder, config.site.id, month_report(conn, config, MONTH)), args.runs),
            floor_s, "one scan")
        conn.close()
        print(f"{'target: a month of 100,000 tickets < 2 s':<44} {full:.3f} s  ratio to target {full / TARGET_S:.2f}")


if __name__ == "__main__":
    main()
