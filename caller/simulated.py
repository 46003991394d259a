"""Simulated clerks for the demo, pressing the buttons of real call-pads.

Each window gets a real CallerApp on gpiozero's mock pins, with the fake
keypad and the fake LCD; a clerk (one thread per window) types the login on
the keypad and presses the buttons by driving the mock pins, so every call
goes through the same code as on a Pi: gpiozero's callbacks, the flow and
its guards, the link with its retries, the LEDs.

    with simulated_clerks(config, speed=30, now=clock, rng=random.Random(1)) as clerks:
        ...                      # clerks.apps["2"].lcds["2"].lcd.text is window 2's LCD
"""

from __future__ import annotations

import logging
import random
import re
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from caller.app import CallerApp
from caller.screen import NO_REPLY
from paihao.config import HallConfig
from paihao.device_config import CallerPad, PadButtons, PadLcd, PadLeds, PadWindow

log = logging.getLogger(__name__)

PINS = PadButtons(next=5, recall=6, skip=13, complete=19, accept=26, pause=21)
LEDS = PadLeds(green=17, amber=27, red=22)
BUZZER = 18


def press_button(app: CallerApp, window: str, button: str, *, hold: bool = False, timeout: float = 10.0) -> bool:
    """Press a button on mock pins (held ``hold_s`` if ``hold``); wait until the pad has
    handled it and has no command in flight. False if that did not happen in time."""
    entry = next(w for w in app.pad_config.windows if w.window == window)
    pin = app.pin_factory.pin(getattr(entry.pins, button))  # type: ignore[union-attr]
    pad = app.pads[window]
    before = pad.presses
    pin.drive_low()
    if hold:  # gpiozero's hold thread calls when_held after hold_s: wait for that, not for time
        pad.wait_for(lambda _f: pad.presses > before, timeout)
    pin.drive_high()
    return pad.wait_for(lambda _f: pad.presses > before and pad.idle.is_set(), timeout)


class SimulatedClerks:
    def __init__(self, config: HallConfig, *, speed: float, rng: random.Random,
                 now: Callable[[], datetime], windows: Sequence[str], state_dir: Path) -> None:
        self.config, self.speed, self.rng = config, speed, rng
        self.stop_event = threading.Event()
        self.apps: dict[str, CallerApp] = {}
        self.served = 0
        for window in windows:
            pad = CallerPad(id=f"sim-{window}", gpio="mock", state_file=str(state_dir / f"caller-sim-{window}.json"),
                            windows=[PadWindow(window=window, pins=PINS, leds=LEDS, buzzer=BUZZER,
                                               keypad="fake", lcd=PadLcd(type="fake"))])
            # The clerks act in hall time, and so does the pads' double-press guard.
            self.apps[window] = CallerApp(config, pad, now=now, monotonic=lambda: time.monotonic() * speed)
        self._threads = [threading.Thread(target=self._clerk, args=(w, c.id), name=f"clerk-{w}", daemon=True)
                         for w, c in zip(windows, config.clerks, strict=False)]

    def start(self) -> SimulatedClerks:
        for app in self.apps.values():
            app.start()
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self._threads:
            thread.join(15)
        # Side by side: each pad's close waits out gpiozero's hold-time threads and the keypad's
        # read timeout, a few tenths of a second; twenty of them one by one held up Ctrl-C.
        closing = [threading.Thread(target=app.close, name=f"close-{window}") for window, app in self.apps.items()]
        for thread in closing:
            thread.start()
        for thread in closing:
            thread.join(15)

    def __enter__(self) -> SimulatedClerks:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait(self, hall_seconds: float) -> bool:
        """Let ``hall_seconds`` of hall time pass; True when the demo is stopping."""
        return self.stop_event.wait(hall_seconds / self.speed)

    # -- one clerk --------------------------------------------------------------------------
    def _clerk(self, window: str, clerk: str) -> None:
        app = self.apps[window]
        pad = app.pads[window]
        try:
            if self._wait(self.rng.uniform(0, 120)) or not self._login(app, window, clerk):
                return
            while not self.stop_event.is_set():
                self._serve_one(app, window)
        except Exception:
            log.exception("simulated clerk at window %s", window)
        finally:
            log.debug("simulated clerk at window %s leaves after %d presses", window, pad.presses)

    def _login(self, app: CallerApp, window: str, clerk: str) -> bool:
        pad = app.pads[window]
        while not self.stop_event.is_set():
            if pad.wait_for(lambda f: f.offline is None and f.state is not None, 1):
                if pad.flow.state and pad.flow.state.get("clerk") == clerk:
                    return True  # still logged in from before
                app.keypad(window).type(re.sub(r"\D", "", clerk) or clerk, "enter")
                if pad.wait_for(lambda f: bool(f.state and f.state.get("clerk") == clerk), 5):
                    return True
            if self._wait(30):
                return False
        return False

    def _serve_one(self, app: CallerApp, window: str) -> None:
        flow = app.pads[window].flow
        press_button(app, window, "next")
        serving = (flow.state or {}).get("serving")
        if not serving or flow.error in (NO_REPLY,):
            self._wait(self.rng.uniform(20, 60))  # nobody waiting (or no answer): look again soon
            return
        limit = serving["limit_s"]
        if self.rng.random() < 0.08:
            if not self._wait(self.rng.uniform(30, 90)):
                press_button(app, window, "skip")  # the citizen never came
            return
        # Most services end within their limit; one in eight runs over (a card on the wall).
        length = limit * (self.rng.uniform(1.1, 2.6) if self.rng.random() < 0.125 else self.rng.uniform(0.2, 0.9))
        if self._wait(length):
            return
        item = self.config.item(serving["item"]) if serving.get("item") else None
        press_button(app, window, "accept" if item and item.kind == "promised" else "complete")
        self.served += 1
        self._wait(self.rng.uniform(5, 40))


def simulated_clerks(config: HallConfig, *, speed: float = 30.0, rng: random.Random | None = None,
                     now: Callable[[], datetime] = lambda: datetime.now(UTC),
                     windows: Sequence[str] | None = None, state_dir: Path | None = None) -> SimulatedClerks:
    """Clerks at ``windows`` (default: every window that has a clerk to spare), not yet started:
    use as a context manager, or ``start()`` and ``stop()``. ``now`` is the hall's clock (the
    LCDs' elapsed times); ``speed`` how much faster than real time the clerks act."""
    chosen = list(windows) if windows is not None else [w.id for w in config.windows][: len(config.clerks)]
    folder = state_dir or Path(tempfile.mkdtemp(prefix="paihao-clerks-"))
    return SimulatedClerks(config, speed=speed, rng=rng or random.Random(), now=now, windows=chosen, state_dir=folder)
