"""``paihao caller``: the call-pads of one Pi — one window or several — in one process.

Per window: a flow (caller/flow.py) behind a WindowPad, its buttons, LEDs
and buzzer (gpiozero), its keypad (evdev, or the fake one) and its LCD
(RPLCD, or the fake one); one MQTT link for them all. ``--tty`` swaps the
hardware for a terminal: the keys come from the keyboard, and the screen
shows what the LEDs, the buzzer and the LCD would.

Order of start: feedback, link, inputs; of stop, the reverse (inputs first,
so that nothing is pressed into a pad whose link is gone).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TextIO

from caller import screen
from caller.errors import UsageError
from caller.flow import PadFlow
from caller.gpio import Buttons, GpioFeedback, gpio_errors, make_pin_factory
from caller.keypad import EvdevKeypad, FakeKeypad, KeypadReader, require_evdev
from caller.lcd import FakeLcd, I2cLcd, LcdFeedback, require_rplcd
from caller.link import CallerLink
from caller.pad import WindowPad
from caller.state import ClerkStore
from caller.tty import TtyKeys, TtyPanel
from paihao.config import HallConfig
from paihao.device_config import CallerPad, PadWindow
from paihao.errors import ConfigError
from paihao.systemd import serve

log = logging.getLogger(__name__)

TICK_S = 1.0  # the LCD's clock; the pads' faults in the status


def utc_now() -> datetime:
    return datetime.now(UTC)


def find_pad(config: HallConfig, pad_id: str | None, window: str | None = None) -> CallerPad:
    """The pad to run: by id; the only one; or, for a terminal, one made for ``window``."""
    if pad_id:
        pad = config.caller(pad_id)
        if pad is None:
            known = ", ".join(c.id for c in config.callers) or "none"
            raise ConfigError(f"no caller {pad_id!r} in the config's [[callers]] (known: {known})")
        served = [w.window for w in pad.windows]
        if window and window not in served:
            raise UsageError(f"pad {pad_id} serves window{'s' if len(served) > 1 else ''} {', '.join(served)}, "
                             f"not {window}")
        return pad
    if window:
        for pad in config.callers:
            if any(w.window == window for w in pad.windows):
                return pad
        if config.window(window) is None:
            raise ConfigError(f"no window {window!r} in the config's [[windows]]")
        return CallerPad(id=f"tty-{window}", windows=[PadWindow(window=window)], gpio="mock")
    if len(config.callers) == 1:
        return config.callers[0]
    if not config.callers:
        raise ConfigError("the config has no [[callers]]: add this Pi's call-pad (docs/config.md), "
                          "or run a soft-pad in this terminal with --tty --window W")
    known = ", ".join(c.id for c in config.callers)
    raise ConfigError(f"the config has {len(config.callers)} call-pads in [[callers]] ({known}): say which "
                      f"one this Pi runs with --id ID, or run a soft-pad with --tty --window W")


def state_path(config: HallConfig, pad: CallerPad) -> Path:
    """A relative state_file is relative to the db's folder, like the db to the config's."""
    path = Path(pad.state_file or f"caller-{pad.id}.json")
    return path if path.is_absolute() else Path(config.storage.db).parent / path


class CallerApp:
    def __init__(self, config: HallConfig, pad: CallerPad, *, tty: TextIO | None = None,
                 tty_window: str | None = None, tty_in: TextIO | None = None, now: Callable[[], datetime] = utc_now,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.config, self.pad_config = config, pad
        self.now, self.monotonic = now, monotonic  # the hall's clock (LCD); the buttons' (double presses)
        self.tty = tty is not None
        # A terminal pad stands in for the hardware: mock pins, no evdev, fake LCDs.
        self.pin_factory = make_pin_factory("mock" if self.tty else pad.gpio)
        self.store = ClerkStore(state_path(config, pad))
        self.link = CallerLink(config, pad.id, [w.window for w in pad.windows],
                               reply_timeout_s=pad.reply_timeout_s, attempts=pad.attempts,
                               on_window=self._window, on_queue=self._queue, on_online=self._online)
        self.pads: dict[str, WindowPad] = {}
        self.buttons: dict[str, Buttons] = {}
        self.leds: dict[str, GpioFeedback] = {}
        self.lcds: dict[str, LcdFeedback] = {}
        self.keypads: dict[str, KeypadReader] = {}
        self.panel = TtyPanel([w.window for w in pad.windows], tty) if tty is not None else None
        self.tty_keys: TtyKeys | None = None
        self._tty_in = tty_in
        if self.panel and tty_window:
            self.panel.selected = tty_window
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        for entry in pad.windows:
            self._build(entry)

    def _build(self, entry: PadWindow) -> None:
        window = self.config.window(entry.window)
        assert window is not None  # the config's validation saw to it
        pad_id = self.pad_config.id
        flow = PadFlow(entry.window, depts=window.depts, clerk_ids=[c.id for c in self.config.clerks],
                       new_request_id=lambda: f"{pad_id}-{uuid.uuid4().hex[:16]}", repeat_s=self.pad_config.repeat_s)
        pad = WindowPad(flow, self.link, self.store, now=self.now, monotonic=self.monotonic)
        self.pads[entry.window] = pad
        hardware = not self.tty
        if entry.pins_used():
            leds = {"green": entry.leds.green, "amber": entry.leds.amber, "red": entry.leds.red}
            with gpio_errors(entry.window):
                self.leds[entry.window] = GpioFeedback(leds, entry.buzzer, self.pin_factory)
                self.buttons[entry.window] = Buttons(
                    entry.pins.model_dump(), pad.key, bounce_s=self.pad_config.bounce_s,
                    hold_s=self.pad_config.hold_s, factory=self.pin_factory)
            pad.feedbacks.append(self.leds[entry.window])
        if entry.lcd is not None or self.tty:
            lcd_config = entry.lcd
            if hardware and lcd_config and lcd_config.type == "i2c":
                require_rplcd(entry.window)
                opener = partial(I2cLcd, lcd_config.address, port=lcd_config.port, expander=lcd_config.expander)
            else:
                opener = FakeLcd
            self.lcds[entry.window] = LcdFeedback(opener, f"lcd of window {entry.window}")
            pad.feedbacks.append(self.lcds[entry.window])
        if entry.keypad and hardware:
            if entry.keypad != "fake":
                require_evdev(entry.window, entry.keypad)
            opener = (lambda: FakeKeypad()) if entry.keypad == "fake" else (lambda p=entry.keypad: EvdevKeypad(p))
            self.keypads[entry.window] = KeypadReader(opener, pad.key, hold_s=self.pad_config.hold_s,
                                                      name=f"keypad of window {entry.window}")
        if self.panel:
            pad.feedbacks.append(self.panel.feedback(entry.window))

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> CallerApp:
        for pad in self.pads.values():
            pad.render(force=True)  # "OFFLINE" until the hall is heard
        self.link.start()
        for reader in self.keypads.values():
            reader.start()
        if self.panel:
            keys = TtyKeys(self.panel, lambda w, k: self.pads[w].key(k), **({"stream": self._tty_in} if self._tty_in else {}))
            self.tty_keys = keys.start()
        self._ticker = threading.Thread(target=self._tick_loop, name="caller-tick", daemon=True)
        self._ticker.start()
        log.info("caller %s serving windows %s", self.pad_config.id, ", ".join(self.pads))
        return self

    def close(self) -> None:
        if self._stop.is_set():
            return  # closed already
        self._stop.set()
        if self.tty_keys:
            self.tty_keys.stop()
        for reader in self.keypads.values():
            reader.stop(wait=False)
        for reader in self.keypads.values():
            reader.stop()
        for buttons in self.buttons.values():
            buttons.close()
        if self._ticker:
            self._ticker.join(2)
        self.link.stop()  # a command still in flight ends now ("No reply"): its feedback goes out first
        for pad in self.pads.values():
            pad.idle.wait(2)
        for leds in self.leds.values():
            leds.close()
        for lcd in self.lcds.values():
            lcd.close()

    def __enter__(self) -> CallerApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def keypad(self, window: str) -> FakeKeypad:
        """The fake keypad of a window (tests, demo); there once the app has started."""
        device = self.keypads[window].device
        if not isinstance(device, FakeKeypad):
            raise TypeError(f"window {window} has no fake keypad")
        return device

    # -- from the link (network thread) ---------------------------------------------------
    def _window(self, window: str, state: dict, seq: int) -> None:
        if window in self.pads:
            self.pads[window].window_state(state, seq)

    def _queue(self, dept: str, waiting: int) -> None:
        for pad in self.pads.values():
            pad.queue_state(dept, waiting)

    def _online(self) -> None:
        offline = self.offline_reason()
        for pad in self.pads.values():
            pad.connection(offline)

    def offline_reason(self) -> str | None:
        if not self.link.bus.connected.is_set():
            return screen.OFFLINE
        return None if self.link.hall_online else screen.HALL_OFFLINE

    # -- every second -----------------------------------------------------------------------
    def _tick_loop(self) -> None:
        while not self._stop.wait(TICK_S):
            try:
                self.tick()
            except Exception:
                log.exception("caller tick failed")

    def tick(self) -> None:
        self._online()
        for pad in self.pads.values():
            pad.render()
        faults = [r.fault for r in self.keypads.values() if r.fault]
        faults += [f.fault for f in self.lcds.values() if f.fault]
        self.link.set_faults(faults, faults[-1] if faults else None)

    def run(self, stop: threading.Event, *, alive: Callable[[], None] = lambda: None) -> None:
        """``alive`` is called on every turn (systemd's watchdog), while the ticker still ticks."""
        while not stop.wait(0.5) and not self._stop.is_set():
            if self._ticker is not None and self._ticker.is_alive():
                alive()


def run_caller(config: HallConfig, pad_id: str | None, *, tty: bool, window: str | None) -> None:
    import sys

    if window and not tty:
        raise UsageError("--window goes with --tty (a soft-pad in this terminal); a Pi's pad is chosen with --id")
    pad = find_pad(config, pad_id, window if tty else None)
    if tty:  # the terminal is the pad's screen: only what goes wrong may write over it
        logging.getLogger().setLevel(logging.WARNING)
    app = CallerApp(config, pad, tty=sys.stdout if tty else None, tty_window=window)
    serve(app, f"caller {pad.id}", lambda: f"caller {pad.id}: windows {', '.join(app.pads)}")
