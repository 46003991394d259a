"""Helpers to drive the real display and feed it protocol messages as the controller publishes them."""

from __future__ import annotations

import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from display.app import DisplayApp
from tests.conftest import Peer


def step_until(app: DisplayApp, condition, timeout: float = 10.0) -> None:
    """Run the display's loop until ``condition()``, woken by the messages it receives."""
    deadline = time.monotonic() + timeout
    app.step()
    while not condition():
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"condition not met; banner {app.banner.current}, strip {app.frame().text('strip')}"
        # A lost connection has no event to wait on (paho only clears a flag): look again within 50 ms.
        if app.changed.wait(min(remaining, 0.05)):
            app.changed.clear()
        app.step()


def shown(app: DisplayApp, role: str) -> list[str]:
    return app.frame().text(role)


def publish_hall(peer: Peer, at: str, calls: list[dict]) -> None:
    """Retained state as the controller publishes it (docs/protocol.md's examples)."""
    t = peer.topics
    peer.publish(t.queue("02"), {"dept": "02", "name": "国土资源局", "floor": 1, "waiting": 3,
                                 "next": ["02004", "02005", "02006"], "est_wait_s": 1500}, retain=True)
    peer.publish(t.window("2"), {"window": "2", "name": "2号窗口", "floor": 1, "status": "open", "clerk": "c01",
                                 "clerk_name": "张敏", "depts": ["02", "05"],
                                 "serving": {"ticket": "02001", "dept": "02", "item": "0201", "called_at": at,
                                             "limit_s": 1200, "card": "red"}}, retain=True)
    peer.publish(t.recent_calls, {"calls": calls}, retain=True)
    peer.publish(t.active_cards, {"cards": [
        {"level": "red", "dept": "02", "window": "2", "clerk": "c01", "ticket": "02001", "since": at,
         "overdue_s": 1800}], "at": at}, retain=True)
    peer.wait_published(t.hall_status, "online", retain=True)


def called(peer: Peer, seq: int, ticket: str, window: str, at: str) -> None:
    peer.publish(peer.topics.event("called"), {"type": "called", "seq": seq, "at": at, "ticket": ticket,
                                               "window": window, "clerk": "c01", "dept": ticket[:2],
                                               "item": "0202", "limit_s": 600})


def iso(clock, **delta) -> str:
    return (clock() + timedelta(**delta)).astimezone(ZoneInfo("Asia/Shanghai")).isoformat(timespec="seconds")
