"""The engine harness shared by the engine tests: a real SQLite file, no broker, explicit clocks."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bus.payloads import KioskRequest, SmsInbox, SmsSent, WindowCommand
from hall.engine import Engine
from hall.store import open_store
from hall.supervisor import Supervisor
from hall.workdays import WorkCalendar
from paihao.config import load_config

CONFIG = Path(__file__).parents[1] / "hall.toml"
CST = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=CST)  # a Friday morning in Chongqing
PHONE, MASKED = "13812345678", "138****5678"
EVENT_TYPES = {
    "ticket_issued", "called", "recalled", "skipped", "requeued", "completed", "accepted", "case_done",
    "transferred", "card", "window_login", "window_logout", "window_paused", "window_resumed",
}


def phones(n: int) -> list[str]:
    return [f"139{i:08d}" for i in range(n)]


class Hall:
    """Engine and Supervisor over one SQLite file; keeps every reply and event."""

    def __init__(self, path: Path, **overrides: dict) -> None:
        overrides["storage"] = {"db": str(path), **overrides.get("storage", {})}
        overrides["reports"] = {"folder": str(path.parent / "reports"), **overrides.get("reports", {})}
        self.config = load_config(CONFIG, **overrides)
        self.now = T0
        self.replies: list[dict] = []
        self.events: list[dict] = []
        self.texts: list[dict] = []  # what was queued for the SMS bridge: {id, phone, text}
        self.cancels: list[str] = []  # outbox ids withdrawn from the SMS bridge (sms/cancel)
        self._ids = itertools.count(1)
        self.open()

    def open(self) -> None:
        self.db = open_store(self.config.storage.db)
        calendar = WorkCalendar(self.config.calendar.extra_workdays, self.config.calendar.extra_holidays)
        self.engine = Engine(self.db, self.config, calendar)
        self.supervisor = Supervisor(self.engine)

    def restart(self) -> None:
        self.db.close()
        self.open()

    def _handle(self, source: str, request) -> dict:
        outcome = self.engine.handle(source, request, self.now)
        self.replies.append(outcome.reply)
        self.events += outcome.events
        self.texts += outcome.sms
        self.cancels += outcome.sms_cancel
        return outcome.reply

    def ticket(self, dept="02", item="0202", phone=PHONE, rid=None) -> dict:
        request = KioskRequest(request_id=rid or f"k{next(self._ids)}", action="ticket", dept=dept, item=item,
                               phone=phone)
        return self._handle("kiosks/k1", request)

    def cmd(self, window: str, action: str, rid=None, **fields) -> dict:
        rid = rid or f"w{next(self._ids)}"
        return self._handle(f"windows/{window}", WindowCommand(request_id=rid, action=action, **fields))

    def sms(self, text: str, phone: str = PHONE, rid: str | None = None) -> dict:
        """A citizen's text, as the SMS bridge hands it over."""
        request = SmsInbox(request_id=rid or f"s{next(self._ids)}", phone=phone, text=text,
                           received_at=self.now.isoformat())
        return self._handle("sms/inbox", request)

    def sent(self, sms_id: str, ok: bool = True, error: dict | None = None) -> bool:
        """The bridge's word on a text, in its own transaction as the service applies it."""
        with self.db.atomic():
            return self.engine.outbox.confirm(SmsSent(id=sms_id, ok=ok, error=error), self.now)

    def do(self, window: str | None, action: str, fields: dict) -> dict:
        return self.ticket(**fields) if window is None else self.cmd(window, action, **fields)

    def serve(self, window="1", clerk="c01", dept="02", item="0202", phone=PHONE) -> str:
        ok(self.ticket(dept=dept, item=item, phone=phone))
        if self.engine.window_row(window)["status"] == "closed":
            ok(self.cmd(window, "login", clerk=clerk))
        return ok(self.cmd(window, "next"))["ticket"]["number"]

    def tick(self) -> None:
        self.events += self.supervisor.tick(self.now).events

    def active(self) -> list[dict]:
        return self.supervisor.active_cards(self.now)["cards"]

    def rows(self, sql: str) -> list[tuple]:
        return [tuple(r) for r in self.db.conn.execute(sql)]

    def dump(self) -> dict:
        """The hall's state: every table but the remembered answers to request_ids."""
        tables = [t for (t,) in self.rows(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'requests' ORDER BY name")]
        return {t: self.rows(f"SELECT * FROM [{t}] ORDER BY rowid") for t in tables}


def ok(reply: dict) -> dict:
    assert reply["ok"] is True, reply
    return reply


def number(reply: dict) -> str:
    return ok(reply)["ticket"]["number"]


def assert_has(actual: dict, expected: dict) -> None:
    assert {key: actual.get(key) for key in expected} == expected


def code(reply: dict) -> str:
    assert reply["ok"] is False, reply
    assert reply["error"]["message"]
    return reply["error"]["code"]


@pytest.fixture
def hall(tmp_path):
    h = Hall(tmp_path / "h.db")
    yield h
    h.db.close()
