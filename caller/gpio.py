"""Buttons, LEDs and the buzzer of a window's pad, through gpiozero.

The pin factory is chosen by config: ``gpio = "mock"`` is gpiozero's
MockFactory (a laptop, the tests, the demo: ``factory.pin(17).drive_low()``
presses the button on GPIO17); ``"auto"`` leaves the choice to gpiozero
(``GPIOZERO_PIN_FACTORY``, else lgpio on a Pi). gpiozero is imported only
here and only when a pad has pins, so the controller never needs it.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

from caller.flow import PadView
from caller.keymap import BUTTONS
from paihao.errors import PaihaoError

log = logging.getLogger(__name__)

BLINK_S = 0.25  # the red LED: a quarter second on, a quarter off
BEEP_S = 0.08


class GpioError(PaihaoError, RuntimeError):
    """The pins cannot be used: no pin factory (lgpio missing, not a Pi), a pin in use."""


@contextmanager
def gpio_errors(window: str) -> Iterator[None]:
    """gpiozero's failures to set a pin up, as one error that says what to do."""
    with warnings.catch_warnings():
        # gpiozero warns as it falls back from one pin library to the next; the error says it all
        warnings.simplefilter("ignore", category=Warning)
        try:
            yield
        except GpioError:
            raise
        except Exception as exc:
            raise GpioError(f"window {window}: the GPIO pins cannot be used ({exc}). On a Pi: sudo apt install "
                            "python3-lgpio, in a virtual environment made with --system-site-packages "
                            '(docs/config.md, "On a Raspberry Pi"). On a laptop: gpio = "mock" or '
                            "GPIOZERO_PIN_FACTORY=mock, or paihao caller --tty") from exc


def make_pin_factory(kind: str) -> object | None:
    if kind == "mock":
        from gpiozero.pins.mock import MockFactory

        return MockFactory()
    return None  # gpiozero decides


class Buttons:
    """A window's buttons (wired to ground, internal pull-up). Every button acts when
    pressed, except next: it acts when released, because held for ``hold_s`` it is a
    transfer and must not call anybody first."""

    def __init__(self, pins: dict[str, int | None], key: Callable[[str], None], *,
                 bounce_s: float, hold_s: float, factory: object | None) -> None:
        from gpiozero import Button

        self._key = key
        self._held = threading.Event()
        self.devices: dict[str, Button] = {}
        for name in BUTTONS:
            pin = pins.get(name)
            if pin is None:
                continue
            button = Button(pin, pull_up=True, bounce_time=bounce_s or None, hold_time=hold_s,
                            pin_factory=factory)
            if name == "next":
                button.when_held = self._next_held
                button.when_released = self._next_released
            else:
                button.when_pressed = partial(key, name)
            self.devices[name] = button

    def _next_held(self) -> None:
        self._held.set()
        self._key("hold_next")

    def _next_released(self) -> None:
        if self._held.is_set():
            self._held.clear()  # the end of a hold, not a press
            return
        self._key("next")

    def close(self) -> None:
        for button in self.devices.values():
            button.close()


class GpioFeedback:
    """Green: serving. Amber: paused. Red blinking: not connected, or the last thing
    asked did not happen. One beep: done; two: refused or failed."""

    def __init__(self, leds: dict[str, int | None], buzzer: int | None, factory: object | None) -> None:
        from gpiozero import LED, Buzzer

        self.leds = {name: LED(pin, pin_factory=factory) for name, pin in leds.items() if pin is not None}
        self.buzzer = Buzzer(buzzer, pin_factory=factory) if buzzer is not None else None
        self.lit: dict[str, bool] = {"green": False, "amber": False, "red": False}  # red: blinking
        self.beeps: list[str] = []  # what was sounded, newest last
        self._lock = threading.Lock()
        self._closed = False

    def show(self, view: PadView) -> None:
        with self._lock:
            if self._closed:
                return  # a command ending as the pad stops: its pins are given back already
            for name, on in (("green", view.green), ("amber", view.amber), ("red", view.red_blink)):
                if self.lit[name] == on:
                    continue  # blink() restarts its thread: only touch an LED that changes
                self.lit[name] = on
                led = self.leds.get(name)
                if led is None:
                    continue
                if not on:
                    led.off()
                elif name == "red":
                    led.blink(on_time=BLINK_S, off_time=BLINK_S, background=True)
                else:
                    led.on()

    def beep(self, kind: str) -> None:
        with self._lock:
            if self._closed:
                return
            self.beeps.append(kind)
            del self.beeps[:-20]
            if self.buzzer is not None:
                self.buzzer.beep(on_time=BEEP_S, off_time=BEEP_S, n=1 if kind == "ok" else 2, background=True)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for device in (*self.leds.values(), self.buzzer):
                if device is not None:
                    device.close()
