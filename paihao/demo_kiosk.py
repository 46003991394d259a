"""The demo's kiosk: the real kiosk code on the fake printer, and a visitor who uses it.

With a display it opens a window; without one it writes a PNG of every
screen it shows into a folder. Every so often the visitor walks up and takes
a number by tapping through the screens, so the kiosk's whole path runs.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from kiosk.app import KioskApp
from paihao.config import HallConfig
from paihao.device_config import FakePrinter, Kiosk, Screen

TAP_S = 0.4  # between a visitor's taps
VISIT_EVERY_S = 20.0


def demo_kiosk_config(config: HallConfig) -> HallConfig:
    """The config's first kiosk (or a default one) on the fake printer, in a window."""
    base = config.kiosks[0] if config.kiosks else Kiosk(id="k1")
    kiosk = base.model_copy(update={"printer": FakePrinter(type="fake"),
                                    "screen": Screen(width=1080, height=1920, fullscreen=False)})
    return config.model_copy(update={"kiosks": [kiosk]})


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class Visitor:
    """Taps through home → matter → keypad → confirm, one tap at a time, on the kiosk's own frame."""

    def __init__(self, app: KioskApp, rng: random.Random) -> None:
        self.app, self.rng = app, rng
        self._plan: list[str] = []
        self._next = time.monotonic() + 5

    def step(self) -> None:
        if time.monotonic() < self._next:
            return
        if not self._plan:
            self._plan = self._new_plan()
            self._next = time.monotonic() + (TAP_S if self._plan else VISIT_EVERY_S)
            return
        target = self._plan.pop(0)
        box = self.app.frame.targets.get(target)
        if box is None:  # the screen is not what the visitor expected (paused, a message): give up
            self._plan = ["home"] if "home" in self.app.frame.targets else []
            return
        x, y, w, h = box
        self.app.tap(x + w // 2, y + h // 2)
        self._next = time.monotonic() + (TAP_S if self._plan else VISIT_EVERY_S)

    def _new_plan(self) -> list[str]:
        if self.app.flow.screen != "home" or not self.app.link.hall_online:
            return []
        item = self.rng.choice(self.app.flow.config.items)
        phone = f"1{self.rng.choice('3578')}{self.rng.randrange(10**9):09d}"
        return [f"dept:{item.dept}", f"item:{item.code}", *(f"key:{d}" for d in phone), "key:ok", "confirm"]


def start_demo_kiosk(config: HallConfig, output: Path, rng: random.Random,
                     now: Callable[[], datetime]) -> tuple[KioskApp, Visitor]:
    config = demo_kiosk_config(config)
    screenshots = None if has_display() else output
    app = KioskApp(config, config.kiosks[0].id, screenshots=screenshots, windowed=True, now=now)
    return app.start(), Visitor(app, rng)
