"""Simulated citizens and clerks for the demo, speaking protocol v1 like real devices.

Everything goes over MQTT, as a kiosk or a call-pad would send it; the
simulator never touches the controller's database.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable

from bus.client import BusClient
from bus.topics import Topics
from paihao.config import HallConfig
from paihao.errors import BusTimeout

log = logging.getLogger(__name__)


class Simulator:
    """A hall's day at ``speed`` times real time: tickets arrive, clerks call and serve
    (unless the demo's call-pads do, see ``clerks``).

    Some services run long on purpose, so yellow and red cards appear.
    """

    def __init__(self, config: HallConfig, bus: BusClient, *, speed: float, rng: random.Random,
                 clerks: bool = True) -> None:
        self.config, self.bus, self.speed, self.rng = config, bus, speed, rng
        self.clerks = clerks  # False: real call-pads (caller.simulated) serve the windows
        self.topics = Topics(config.site.id)
        self._agenda: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._serving: dict[str, str] = {}  # window -> item code being served

    def at(self, sim_seconds: float, action: Callable[[], None]) -> None:
        """Run ``action`` after ``sim_seconds`` of hall time."""
        heapq.heappush(self._agenda, (time.monotonic() + sim_seconds / self.speed, next(self._order), action))

    def run(self, stop: threading.Event) -> None:
        clerks = iter(self.config.clerks if self.clerks else ())
        for window in self.config.windows:
            clerk = next(clerks, None)
            if clerk:
                self.at(self.rng.uniform(0, 120), lambda w=window.id, c=clerk.id: self.login(w, c))
        self.at(0, self.citizen_arrives)
        while not stop.is_set() and self._agenda:
            due, _, action = self._agenda[0]
            if stop.wait(max(0.0, due - time.monotonic())):
                break
            heapq.heappop(self._agenda)
            try:
                action()
            except BusTimeout as exc:
                log.warning("simulator: %s", exc)

    # -- citizens -------------------------------------------------------------
    def citizen_arrives(self) -> None:
        item = self.rng.choice(self.config.items)
        phone = f"1{self.rng.choice('3578')}{self.rng.randrange(10**9):09d}"
        kiosk = f"k{self.rng.randint(1, 4)}"
        # The next citizen first: a request that times out must not end the arrivals.
        self.at(self.rng.expovariate(1 / 25), self.citizen_arrives)  # one every ~25 s of hall time
        self.send(self.topics.kiosk_request(kiosk), {"action": "ticket", "dept": item.dept, "item": item.code, "phone": phone})

    # -- clerks -----------------------------------------------------------------
    def login(self, window: str, clerk: str) -> None:
        self.command(window, "login", clerk=clerk)
        self.at(1, lambda: self.call(window))

    def call(self, window: str) -> None:
        try:
            reply = self.command(window, "next")
        except BusTimeout:
            reply = {"ok": False}  # the hall was slow: this clerk tries again, as below
        if not reply.get("ok"):
            self.at(self.rng.uniform(20, 60), lambda: self.call(window))  # nobody waiting: look again soon
            return
        ticket = reply["ticket"]
        limit = ticket["limit_s"]
        if self.rng.random() < 0.08:
            self.at(self.rng.uniform(30, 90), lambda: self.finish(window, "skip"))  # the citizen never came
            return
        # Most services end within their limit; one in eight runs over.
        length = limit * (self.rng.uniform(1.1, 2.6) if self.rng.random() < 0.125 else self.rng.uniform(0.2, 0.9))
        item = self.config.item(ticket["item"]) if ticket["item"] else None
        action = "accept" if item and item.kind == "promised" else "complete"
        self.at(length, lambda: self.finish(window, action))

    def finish(self, window: str, action: str) -> None:
        self.at(self.rng.uniform(5, 40), lambda: self.call(window))  # first: a timeout must not idle the window
        self.command(window, action)

    # -- the bus ----------------------------------------------------------------
    def command(self, window: str, action: str, **fields: str) -> dict:
        return self.send(self.topics.window_command(window), {"action": action, **fields})

    def send(self, topic: str, payload: dict) -> dict:
        return self.bus.request(topic, {"request_id": uuid.uuid4().hex, **payload}, timeout=5)
