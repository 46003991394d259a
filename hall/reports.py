"""The monthly scores (issue 6): per department, window and clerk, from SQL aggregates.

Four grouped queries over the month's rows (tickets, evaluations, cards, finished cases),
each grouped by (department, window, clerk); the groups are then added up into the
hall, each department, each window and each clerk. Every column is defined in
docs/protocol.md ("Monthly reports"); in short:

- a ticket, its service, its no-show and its evaluation count in the month of its day
  (the local date it was issued), in the department that finished it;
- a card counts in the month it was earned (``since``), a promised case in the month it
  was finished;
- months are calendar months in the site's timezone.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from hall.supervision import day_end
from paihao.config import HallConfig, Score

_MONTH = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")

# (key, label): the columns of every file and summary, in order.
COLUMNS = [
    ("level", "级别"), ("id", "编号"), ("name", "名称"),
    ("issued", "取号数"), ("called", "叫号数"), ("served", "办结数"), ("no_shows", "过号未办"),
    ("avg_wait_s", "平均等候(秒)"), ("avg_service_s", "平均办理(秒)"), ("on_time_rate", "按时办结率"),
    ("yellow", "黄牌"), ("red", "红牌"),
    ("eval_sent", "评价短信已发"), ("eval_answered", "评价已回复"),
    ("satisfied", "满意"), ("basic", "基本满意"), ("unsatisfied", "不满意"),
    ("satisfaction_rate", "满意率"), ("score", "得分"),
]
RATES = ("on_time_rate", "satisfaction_rate")
LEVELS = ("hall", "department", "window", "clerk")


def check_month(text: str) -> str:
    if not _MONTH.match(text):
        raise ValueError(f"{text!r} is not a month such as 2026-11")
    return text


@dataclass(frozen=True)
class MonthSpan:
    month: str
    first_day: str  # ISO dates: the month's first day, and the next month's
    next_first_day: str
    start: float  # epoch seconds of their local midnights
    end: float

    @classmethod
    def of(cls, month: str, tz: ZoneInfo) -> MonthSpan:
        year, number = (int(part) for part in check_month(month).split("-"))
        first = date(year, number, 1)
        following = date(year + number // 12, number % 12 + 1, 1)
        start = datetime.combine(first, time(0), tz).timestamp()
        end = datetime.combine(following, time(0), tz).timestamp()
        return cls(month, first.isoformat(), following.isoformat(), start, end)


def previous_month(now: datetime, tz: ZoneInfo) -> str:
    local = now.astimezone(tz).date()
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return f"{year}-{month:02d}"


@dataclass
class Tally:
    """Sums for one group; they add up, so groups are combined by adding."""

    issued: int = 0
    called: int = 0
    served: int = 0
    no_shows: int = 0
    wait_s: float = 0.0
    service_s: float = 0.0
    services_on_time: int = 0
    cases_done: int = 0
    cases_on_time: int = 0
    yellow: int = 0
    red: int = 0
    eval_sent: int = 0
    eval_answered: int = 0
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0

    def add(self, other: Tally) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def row(self, score: Score, *, with_issued: bool) -> dict:
        answered = self.eval_answered
        finished = self.served + self.cases_done
        points = None
        if answered:
            mean = (self.satisfied * score.satisfied + self.basic * score.basic
                    + self.unsatisfied * score.unsatisfied) / answered
            points = round(mean - self.yellow * score.yellow_penalty - self.red * score.red_penalty, 2)
        return {
            "issued": self.issued if with_issued else None,
            "called": self.called, "served": self.served, "no_shows": self.no_shows,
            "avg_wait_s": round(self.wait_s / self.called) if self.called else None,
            "avg_service_s": round(self.service_s / self.served) if self.served else None,
            "on_time_rate": _rate(self.services_on_time + self.cases_on_time, finished),
            "yellow": self.yellow, "red": self.red,
            "eval_sent": self.eval_sent, "eval_answered": answered,
            "satisfied": self.satisfied, "basic": self.basic, "unsatisfied": self.unsatisfied,
            "satisfaction_rate": _rate(self.satisfied + self.basic, answered),
            "score": points,
        }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


Key = tuple[str, str | None, str | None]  # (dept, window, clerk)


@dataclass
class MonthReport:
    month: str
    rows: dict[str, list[dict]] = field(default_factory=dict)  # level -> rows

    def all_rows(self) -> list[dict]:
        return [row for level in LEVELS for row in self.rows.get(level, [])]


def month_report(conn: sqlite3.Connection, config: HallConfig, month: str) -> MonthReport:
    """The month's report from a (read-only) connection to the hall's database."""
    span = MonthSpan.of(month, config.tz)
    groups: dict[Key, Tally] = {}

    def tally(key: tuple) -> Tally:
        return groups.setdefault((key[0], key[1], key[2]), Tally())

    for dept, window, clerk, *sums in conn.execute(_TICKETS, (span.first_day, span.next_first_day)):
        t = tally((dept, window, clerk))
        t.issued, t.called, t.served, t.no_shows, t.wait_s, t.service_s, t.services_on_time = sums
    for _day, dept, window, clerk, *sums in conn.execute(_EVALUATIONS, (span.first_day, span.next_first_day)):
        t = tally((dept, window, clerk))
        t.eval_sent += sums[0]
        t.eval_answered += sums[1]
        t.satisfied += sums[2]
        t.basic += sums[3]
        t.unsatisfied += sums[4]
    for dept, window, clerk, yellow, red in conn.execute(_CARDS, (span.start, span.end)):
        t = tally((dept, window, clerk))
        t.yellow, t.red = yellow, red
    day_ends: dict[str, float] = {}
    for dept, window, clerk, done_at, due_date in conn.execute(_CASES, (span.start, span.end)):
        t = tally((dept, window, clerk))
        t.cases_done += 1
        if due_date not in day_ends:
            day_ends[due_date] = day_end(due_date, config.tz)
        t.cases_on_time += done_at < day_ends[due_date]  # finished on its due day at the latest
    return MonthReport(month, _roll_up(groups, config))


def _roll_up(groups: dict[Key, Tally], config: HallConfig) -> dict[str, list[dict]]:
    hall = Tally()
    by: dict[str, dict[str, Tally]] = {
        "department": {d.code: Tally() for d in config.departments},
        "window": {w.id: Tally() for w in config.windows},
        "clerk": {c.id: Tally() for c in config.clerks},
    }
    for (dept, window, clerk), t in groups.items():
        hall.add(t)
        by["department"].setdefault(dept, Tally()).add(t)
        if window is not None:
            by["window"].setdefault(window, Tally()).add(t)
        if clerk is not None:
            by["clerk"].setdefault(clerk, Tally()).add(t)
    score = config.reports.score
    rows = {"hall": [{"level": "hall", "id": config.site.id, "name": config.site.name,
                      **hall.row(score, with_issued=True)}]}
    for level, tallies in by.items():
        rows[level] = [
            {"level": level, "id": key, "name": _name(config, level, key),
             **t.row(score, with_issued=level == "department")}
            for key, t in sorted(tallies.items(), key=lambda kv: _order(kv[0]))
        ]
    return rows


def _order(key: str) -> tuple:
    """Windows 2 before 10; other ids alphabetically."""
    return (0, int(key), key) if key.isdigit() else (1, 0, key)


def _name(config: HallConfig, level: str, key: str) -> str:
    if level == "department":
        dept = config.department(key)
        return dept.name if dept else key
    if level == "window":
        window = config.window(key)
        return (window.name if window and window.name else None) or f"{key}号窗口"
    clerk = config.clerk(key)
    return clerk.name if clerk else key  # removed from the config since: still reported


_SERVED = "status IN ('completed', 'accepted')"
_TICKETS = f"""
    SELECT dept, window, clerk,
           count(*),
           count(called_at),
           sum({_SERVED}),
           sum(called_at IS NOT NULL AND status IN ('skipped', 'expired')),
           total(called_at - issued_at),
           total(CASE WHEN {_SERVED} THEN finished_at - called_at END),
           sum({_SERVED} AND finished_at - called_at <= limit_s)
    FROM tickets WHERE day >= ? AND day < ?
    GROUP BY dept, window, clerk
"""
# Grouped by day first, in the order of the index evaluations_month: no sort.
_EVALUATIONS = """
    SELECT e.day, e.dept, e.window, e.clerk,
           sum(o.status = 'sent'),
           count(e.rating),
           sum(e.rating IS 'satisfied'),
           sum(e.rating IS 'basic'),
           sum(e.rating IS 'unsatisfied')
    FROM evaluations e JOIN sms_outbox o ON o.id = e.outbox
    WHERE e.day >= ? AND e.day < ?
    GROUP BY e.day, e.dept, e.window, e.clerk
"""
_CARDS = """
    SELECT dept, window, clerk, sum(level = 'yellow'), sum(level = 'red')
    FROM cards WHERE since >= ? AND since < ?
    GROUP BY dept, window, clerk
"""
_CASES = "SELECT dept, window, clerk, done_at, due_date FROM cases WHERE done_at >= ? AND done_at < ?"


def summary(report: MonthReport, *, final: bool, made_at: str, files: dict[str, str]) -> dict:
    """The retained ``reports/{month}`` payload: the hall's and each department's row."""
    return {
        "month": report.month,
        "final": final,
        "made_at": made_at,
        "hall": _public(report.rows["hall"][0]),
        "departments": [_public(row) for row in report.rows["department"]],
        "files": files,
    }


def _public(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "level"}
