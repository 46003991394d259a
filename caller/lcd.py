"""The optional 16x2 character LCD of a window's pad: an HD44780 behind an I2C expander.

An LCD is anything with ``write(lines)`` (two strings of 16) and ``close()``.
The real one goes through RPLCD (and smbus2), imported only when configured;
``FakeLcd`` ships here and records what it was told, for the tests, the
terminal pad and the demo.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from caller.errors import MissingLibrary
from caller.flow import PadView
from caller.screen import COLS

log = logging.getLogger(__name__)
ROWS = 2


class Lcd(Protocol):
    def write(self, lines: tuple[str, str]) -> None: ...

    def close(self) -> None: ...


class FakeLcd:
    def __init__(self) -> None:
        self.lines: tuple[str, str] = (" " * COLS, " " * COLS)
        self.history: list[tuple[str, str]] = []

    def write(self, lines: tuple[str, str]) -> None:
        self.lines = lines
        self.history.append(lines)
        del self.history[:-200]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def close(self) -> None:
        pass


def require_rplcd(window: str) -> None:
    """At start: an I2C LCD needs RPLCD and smbus2 (the ``caller`` extra)."""
    try:
        import RPLCD.i2c  # noqa: F401
    except ImportError as exc:
        raise MissingLibrary(
            f"window {window}: lcd needs RPLCD and smbus2 ({exc}): pip install 'paihao[caller]' "
            '(docs/config.md, "On a Raspberry Pi"); on a laptop: lcd = { type = "fake" }, or paihao caller --tty'
        ) from None


class I2cLcd:
    """Sends only the rows that changed (and RPLCD, within them, only the characters that
    changed): at 100 kHz a full row takes about 10 ms, and the clock moves every second."""

    def __init__(self, address: int, *, port: int = 1, expander: str = "PCF8574", charlcd: object = None) -> None:
        if charlcd is None:
            try:
                from RPLCD.i2c import CharLCD
            except ImportError:
                raise ImportError("an LCD needs RPLCD and smbus2 (pip install 'paihao[caller]')") from None
            charlcd = CharLCD(expander, address, port=port, cols=COLS, rows=ROWS, charmap="A00",
                              auto_linebreaks=False)
        self.lcd = charlcd
        self._shown: list[str | None] = [None] * ROWS
        self.lcd.clear()

    def write(self, lines: tuple[str, str]) -> None:
        for row, text in enumerate(lines[:ROWS]):
            if text != self._shown[row]:
                self.lcd.cursor_pos = (row, 0)
                self.lcd.write_string(text)
                self._shown[row] = text

    def close(self) -> None:
        try:
            self.lcd.clear()
            self.lcd.close(clear=True)
        except OSError:
            pass


class LcdFeedback:
    """Shows a pad's view on an LCD. An LCD that cannot be opened or written to is a fault
    (reported in the pad's status), tried again at most every ``RETRY_S``, never a crash."""

    RETRY_S = 5.0

    def __init__(self, open_lcd: Callable[[], Lcd], name: str = "lcd",
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._open, self.name, self._monotonic = open_lcd, name, monotonic
        self.lcd: Lcd | None = None
        self.fault: str | None = None
        self._retry_at = 0.0
        self._lock = threading.Lock()
        self._closed = False
        self._connect()

    def _connect(self) -> None:
        try:
            self.lcd = self._open()
            self.fault = None
        except (OSError, ImportError) as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        if self.fault is None:
            log.error("%s: %s", self.name, exc)
        self.fault = f"{self.name}: {exc}"
        self.lcd = None  # opened again, and written in full, once it answers
        self._retry_at = self._monotonic() + self.RETRY_S

    def show(self, view: PadView) -> None:
        with self._lock:
            if self._closed:
                return
            if self.lcd is None and self._monotonic() >= self._retry_at:
                self._connect()
            if self.lcd is None:
                return
            try:
                self.lcd.write(view.lines)
                self.fault = None
            except OSError as exc:
                self._failed(exc)

    def beep(self, kind: str) -> None:
        pass

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self.lcd is not None:
                self.lcd.close()
