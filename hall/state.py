"""The retained state topics, built from the store (docs/protocol.md shows each)."""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hall.engine import Engine

NEXT_SHOWN = 5
RECENT_CALLS = 10


def queue_state(engine: Engine, dept: str) -> dict:
    waiting = engine.db.conn.execute(
        "SELECT count(*) FROM tickets WHERE status = 'waiting' AND dept = ?", (dept,)
    ).fetchone()[0]
    shown = engine.db.conn.execute(
        "SELECT number FROM tickets WHERE status = 'waiting' AND dept = ? ORDER BY priority DESC, queue_seq LIMIT ?",
        (dept, NEXT_SHOWN),
    ).fetchall()
    config = engine.config.department(dept)
    return {
        "dept": dept,
        "name": config.name if config else dept,
        "floor": config.floor if config else None,
        "waiting": waiting,
        "next": [r[0] for r in shown],
        "est_wait_s": engine.estimated_wait(dept, waiting),
    }


class RecentCalls:
    """The last calls, newest first; kept in memory, seeded from the journal at start."""

    def __init__(self, engine: Engine) -> None:
        rows = engine.db.conn.execute(
            "SELECT ticket, window, at FROM journal WHERE type IN ('called', 'recalled')"
            " ORDER BY seq DESC LIMIT ?",
            (RECENT_CALLS,),
        ).fetchall()
        self._calls = deque(({"ticket": t, "window": w, "at": _iso_seconds(a)} for t, w, a in rows), maxlen=RECENT_CALLS)

    def add(self, event: dict) -> bool:
        if event["type"] not in ("called", "recalled"):
            return False
        self._calls.appendleft({"ticket": event["ticket"], "window": event["window"], "at": _iso_seconds(event["at"])})
        return True

    def state(self) -> dict:
        return {"calls": list(self._calls)}


def _iso_seconds(at: str) -> str:
    return datetime.fromisoformat(at).isoformat(timespec="seconds")
