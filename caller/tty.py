"""``paihao caller --tty``: a terminal soft-pad for a clerk's PC or a laptop.

The same key map as the USB keypad (keymap.TTY_KEYS: the digits, + - * / .
Enter and Backspace, best on the keyboard's own keypad), and a picture of
what the physical pad would show: each window's LCD, its three LEDs and the
last beep. Tab moves the keys to the next window when the pad serves several;
there is no holding a key in a terminal, so transfer is ``*2`` dept Enter.
"""

from __future__ import annotations

import logging
import os
import select
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TextIO

from caller.flow import PadView
from caller.keymap import HELP, HELP_WINDOWS, TTY_KEYS
from caller.screen import COLS

log = logging.getLogger(__name__)


class TtyPanel:
    """Draws every window of the pad; ``feedback(window)`` is that window's Feedback."""

    def __init__(self, windows: Sequence[str], out: TextIO) -> None:
        self.windows = list(windows)
        self.out = out
        self.selected = self.windows[0]
        self.views: dict[str, PadView] = {}
        self.beeps: dict[str, str] = {}
        self._lock = threading.Lock()
        self._ansi = out.isatty()

    def feedback(self, window: str) -> _WindowFeedback:
        return _WindowFeedback(self, window)

    def select_next(self) -> None:
        with self._lock:
            self.selected = self.windows[(self.windows.index(self.selected) + 1) % len(self.windows)]
        self.draw()

    def text(self) -> str:
        """The whole panel as it is drawn."""
        with self._lock:
            blocks = [self._window_text(w) for w in self.windows if w in self.views]
        return "\n".join(blocks + [HELP] + ([HELP_WINDOWS] if len(self.windows) > 1 else []) + [""])

    def _window_text(self, window: str) -> str:
        view = self.views[window]
        mark = ">" if window == self.selected and len(self.windows) > 1 else " "
        leds = (f"green {'ON ' if view.green else '-- '} amber {'ON ' if view.amber else '-- '} "
                f"red {'BLINK' if view.red_blink else '--'}")
        beep = {"ok": "beep", "error": "beep beep"}.get(self.beeps.get(window, ""), "")
        edge = "+" + "-" * COLS + "+"
        return "\n".join([f"{mark}window {window}   {leds}   {beep}", f" {edge}",
                          f" |{view.lines[0]}|", f" |{view.lines[1]}|", f" {edge}"])

    def draw(self) -> None:
        text = self.text()
        prefix = "\x1b[H\x1b[J" if self._ansi else ""  # home and clear: redraw in place
        self.out.write(prefix + text + ("" if self._ansi else "\n"))
        self.out.flush()

    def _show(self, window: str, view: PadView) -> None:
        with self._lock:
            self.views[window] = view
        self.draw()

    def _beep(self, window: str, kind: str) -> None:
        with self._lock:
            self.beeps[window] = kind
        if self._ansi:
            self.out.write("\a" * (1 if kind == "ok" else 2))


class _WindowFeedback:
    def __init__(self, panel: TtyPanel, window: str) -> None:
        self.panel, self.window = panel, window

    def show(self, view: PadView) -> None:
        self.panel._show(self.window, view)

    def beep(self, kind: str) -> None:
        self.panel._beep(self.window, kind)


def tty_key(char: str) -> str | None:
    """The pad key a terminal character stands for, or None."""
    return TTY_KEYS.get(char)


class TtyKeys:
    """Reads the terminal one character at a time (cbreak mode) on its own thread."""

    def __init__(self, panel: TtyPanel, key: Callable[[str, str], None], stream: TextIO = sys.stdin) -> None:
        self.panel, self._key, self.stream = panel, key, stream
        self._stop = threading.Event()
        self._saved: list | None = None
        self._thread = threading.Thread(target=self._run, name="tty-keys", daemon=True)

    def start(self) -> TtyKeys:
        if self.stream.isatty():
            import termios
            import tty

            self._saved = termios.tcgetattr(self.stream.fileno())
            tty.setcbreak(self.stream.fileno())  # keys one by one, unechoed; Ctrl-C still stops
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(1)
        if self._saved is not None:
            import termios

            termios.tcsetattr(self.stream.fileno(), termios.TCSADRAIN, self._saved)

    def _run(self) -> None:
        fd = self.stream.fileno()
        while not self._stop.is_set():
            if not select.select([fd], [], [], 0.2)[0]:
                continue
            data = os.read(fd, 32).decode("utf-8", "replace")
            if not data:
                return  # end of input
            for char in data:
                try:
                    self.feed(char)
                except Exception:  # one bad key must not leave the clerk with a dead terminal
                    log.exception("error while handling the key %r", char)

    def feed(self, char: str) -> None:
        if char == "\t":
            self.panel.select_next()
            return
        key = tty_key(char)
        if key:
            self._key(self.panel.selected, key)
