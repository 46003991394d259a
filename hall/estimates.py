"""How long a service takes, per department: the basis of every estimated wait."""

from __future__ import annotations

from collections import deque
from statistics import fmean

import sqlite_utils

from paihao.config import HallConfig

SAMPLES = 20  # recent services averaged: follows the day's pace, ignores last month


class ServiceTimes:
    def __init__(self, db: sqlite_utils.Database, config: HallConfig) -> None:
        self._recent: dict[str, deque[float]] = {}
        self._fallback: dict[str, float] = {}
        for dept in config.departments:
            limits = [i.limit.total_seconds() for i in config.items if i.dept == dept.code]
            # With no history yet, assume each service takes half its limit.
            self._fallback[dept.code] = fmean(limits) / 2
            rows = db.conn.execute(
                "SELECT finished_at - called_at FROM tickets WHERE dept = ? AND called_at IS NOT NULL"
                " AND finished_at IS NOT NULL AND status IN ('completed', 'accepted')"
                " ORDER BY finished_at DESC LIMIT ?",
                (dept.code, SAMPLES),
            ).fetchall()
            self._recent[dept.code] = deque((r[0] for r in reversed(rows)), maxlen=SAMPLES)

    def record(self, dept: str, seconds: float) -> None:
        self._recent.setdefault(dept, deque(maxlen=SAMPLES)).append(max(seconds, 0.0))

    def average(self, dept: str) -> float:
        recent = self._recent.get(dept)
        return fmean(recent) if recent else self._fallback.get(dept, 600.0)
