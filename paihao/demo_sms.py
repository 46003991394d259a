"""The demo's SMS path: the real bridge on the fake GSM modem, and citizens who answer.

The controller queues an evaluation text after every service; the bridge sends it
through the fake modem (the same AT dialogue and PDUs a SIM800 would see); a
simulated citizen reads it and, a few hall-minutes later, replies on the modem
like a phone would: mostly 1, sometimes 2, now and then 3 with a reason (a
complaint on the wall), and once in a while something that is no rating at all
(the controller answers it with its help text).
"""

from __future__ import annotations

import heapq
import logging
import random
import threading
import time
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

from firmware_bridge.app import BridgeApp
from firmware_bridge.fake_modem import FakeModem
from paihao.config import HallConfig
from paihao.device_config import Bridge
from paihao.device_config import FakeModem as FakeModemConfig

log = logging.getLogger(__name__)

# (weight, reply): what citizens of a county hall answer, roughly.
REPLIES = [
    (70, "1"), (12, "满意"), (10, "2"), (4, "3 等得太久了"), (2, "不满意，材料被退回两次"), (2, "谢谢"),
]
EVALUATION_MARK = "请回复"  # in the evaluation template; the help and TD texts are not answered


class RepliesFromCitizens:
    """Answers each evaluation text the fake modem sent, after a hall-time delay."""

    def __init__(self, fake: FakeModem, rng: random.Random, speed: float) -> None:
        self.fake, self.rng, self.speed = fake, rng, speed
        self._due: list[tuple[float, int, str, str]] = []
        self._answered = 0

    def run(self, stop: threading.Event) -> None:
        order = 0
        while not stop.is_set():
            next_due = self._due[0][0] - time.monotonic() if self._due else 1.0
            # Woken by the modem's next command (a text being sent) or when a reply is due.
            self.fake.wait_for(lambda f: len(f.sent) > self._answered or stop.is_set(), timeout=max(0.05, next_due))
            texts = self.fake.texts()
            for phone, text in texts[self._answered:]:
                if EVALUATION_MARK in text and self.rng.random() < 0.8:  # one in five never answers
                    reply = self.rng.choices([r for _, r in REPLIES], weights=[w for w, _ in REPLIES])[0]
                    delay = self.rng.uniform(60, 1800) / self.speed  # 1 to 30 hall-minutes
                    order += 1
                    heapq.heappush(self._due, (time.monotonic() + delay, order, phone, reply))
            self._answered = len(texts)
            while self._due and self._due[0][0] <= time.monotonic():
                _, _, phone, reply = heapq.heappop(self._due)
                self.fake.deliver(phone, reply)


@contextmanager
def demo_sms(config: HallConfig, workdir: Path, rng: random.Random, speed: float) -> Iterator[BridgeApp]:
    """The bridge (the configured one's id, on the fake modem, its db in ``workdir``) and replying citizens."""
    base = config.bridges[0] if config.bridges else Bridge(id="gsm1")
    bridge = base.model_copy(update={"modem": FakeModemConfig(type="fake"), "db": str(workdir / "bridge.db")})
    fake = FakeModem().start()
    app = BridgeApp(config, bridge, fake=fake).start()
    stop = threading.Event()
    citizens = threading.Thread(target=RepliesFromCitizens(fake, rng, speed).run, args=(stop,),
                                name="sms-citizens", daemon=True)
    citizens.start()
    try:
        yield app
    finally:
        stop.set()
        fake.nudge()
        citizens.join(5)
        app.close()
        fake.stop()
