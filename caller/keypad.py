"""A USB numeric keypad as a call-pad: Linux input events in, pad keys out.

A keypad is anything with ``events(timeout)``, returning the key events that
arrived (each with ``type``, ``code``, ``value`` and ``timestamp()``, as
python-evdev's InputEvent has) and ``close()``. Two ship here: the real
one over python-evdev (imported only when a real keypad is configured: it is
compiled, and on a Pi comes from Debian's python3-evdev), and ``FakeKeypad``,
which tests and the demo type on.

Keys act when pressed, except ``+``: it acts when released, because held
for ``hold_s`` it is a transfer. Times are the events' own timestamps, so
the pad's double-press guard sees the keypad's timing, not the reader's.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from caller.errors import MissingLibrary
from caller.keymap import EV_KEY, EVDEV_KEYS, KEY_CODES, KEY_DOWN, KEY_REPEAT, KEY_UP

log = logging.getLogger(__name__)

REOPEN_S = 5.0  # a keypad unplugged is looked for again this often
REPEAT_EVERY_S = 0.033  # the kernel's key repeat, for the fake keypad's held keys


class Keypad(Protocol):
    def events(self, timeout: float) -> Iterable: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class KeyEvent:
    """The parts of an input event the reader uses (python-evdev's InputEvent has them too)."""

    sec: int
    usec: int
    type: int
    code: int
    value: int

    def timestamp(self) -> float:
        return self.sec + self.usec / 1_000_000


class FakeKeypad:
    """A keypad that ships in the package. ``type("*1", "01", "enter")`` presses keys;
    ``press("plus", hold_s=2.5)`` holds one. Time is its own: each press is ``gap_s``
    after the previous one, so tests need no sleeping. ``wait_drained()`` returns once
    the reader has handled everything typed."""

    path = "fake"

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start
        self._queue: queue.Queue[KeyEvent] = queue.Queue()
        self._pending = 0
        self._cond = threading.Condition()

    def _put(self, code: int, value: int) -> None:
        sec = int(self.t)
        with self._cond:
            self._pending += 1
        self._queue.put(KeyEvent(sec, round((self.t - sec) * 1_000_000), EV_KEY, code, value))

    def press(self, key: str, *, hold_s: float = 0.0, gap_s: float = 0.5) -> None:
        code = KEY_CODES[key]
        self.t += gap_s
        self._put(code, KEY_DOWN)
        start, repeat_at = self.t, self.t + 0.25
        while repeat_at < start + hold_s:  # the kernel repeats a held key
            self.t = repeat_at
            self._put(code, KEY_REPEAT)
            repeat_at += REPEAT_EVERY_S
        self.t = start + max(hold_s, 0.08)
        self._put(code, KEY_UP)

    def type(self, *keys: str, gap_s: float = 0.5) -> None:
        """Each argument is a key name, or a run of digits and ``*+-./`` characters."""
        names = {"*": "star", "+": "plus", "-": "minus", ".": "dot", "/": "slash"}
        for key in keys:
            if key in KEY_CODES:
                self.press(key, gap_s=gap_s)
            else:
                for char in key:
                    self.press(names.get(char, char), gap_s=gap_s)

    def events(self, timeout: float) -> list[KeyEvent]:
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return []
        batch = [first]
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                return batch

    def handled(self, count: int) -> None:
        with self._cond:
            self._pending -= count
            self._cond.notify_all()

    def wait_drained(self, timeout: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        pass


def require_evdev(window: str, path: str) -> None:
    """At start: a real keypad needs python-evdev, which pip cannot build on a Pi."""
    try:
        import evdev  # noqa: F401
    except ImportError:
        raise MissingLibrary(
            f"window {window}: keypad = {path!r} needs python-evdev, which is not installed. On a Pi: "
            "sudo apt install python3-evdev, in a virtual environment made with --system-site-packages "
            '(docs/config.md, "On a Raspberry Pi"). On a laptop: keypad = "fake", or paihao caller --tty'
        ) from None


class EvdevKeypad:
    """A real keypad, grabbed so that its keys do not also type into the Pi's console."""

    def __init__(self, path: str) -> None:
        try:
            import evdev
        except ImportError:
            raise ImportError("a keypad needs python-evdev (Debian: apt install python3-evdev)") from None
        self.path = path
        self.device = evdev.InputDevice(path)
        self.device.grab()

    def events(self, timeout: float) -> list:
        import select

        if not select.select([self.device.fd], [], [], timeout)[0]:
            return []
        return list(self.device.read())

    def close(self) -> None:
        try:
            self.device.ungrab()
        except OSError:
            pass
        self.device.close()


class KeypadReader:
    """Reads one keypad on its own thread and hands its keys to the pad."""

    def __init__(self, open_keypad: Callable[[], Keypad], key: Callable[[str, float], None], *,
                 hold_s: float, name: str = "keypad") -> None:
        self._open, self._key, self.hold_s, self.name = open_keypad, key, hold_s, name
        self.fault: str | None = None
        self.device: Keypad | None = None
        self._plus_down: float | None = None
        self._plus_fired = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> KeypadReader:
        self._open_keypad()  # at once, so that a fake keypad can be typed on as soon as this returns
        self._thread.start()
        return self

    def _open_keypad(self) -> bool:
        try:
            self.device = self._open()
        except (OSError, ImportError) as exc:
            if self.fault is None:
                log.error("%s: %s; looking for it again every %.0f s", self.name, exc, REOPEN_S)
            self.fault = f"{self.name}: {exc}"
            self.device = None
            return False
        self.fault = None
        return True

    def stop(self, wait: bool = True) -> None:
        """Stop reading; ``wait=False`` only asks, so that several readers stop together."""
        self._stop.set()
        if not wait:
            return
        self._thread.join(2)
        if self.device is not None:
            self.device.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.device is None and not self._open_keypad():
                self._stop.wait(REOPEN_S)
                continue
            try:
                events = list(self.device.events(0.2))  # short: stop() is noticed soon
            except OSError as exc:  # unplugged
                log.error("%s: %s", self.name, exc)
                self.fault, self.device = f"{self.name}: {exc}", None
                continue
            for event in events:
                try:
                    self.handle(event)
                except Exception:
                    log.exception("%s: error while handling a key", self.name)
            if events and isinstance(self.device, FakeKeypad):
                self.device.handled(len(events))

    def handle(self, event: object) -> None:
        if getattr(event, "type", None) != EV_KEY:
            return
        name = EVDEV_KEYS.get(event.code)  # type: ignore[attr-defined]
        if name is None:
            return  # NumLock and keys that mean nothing on a pad
        at, value = event.timestamp(), event.value  # type: ignore[attr-defined]
        if name == "plus":
            self._plus(value, at)
        elif value == KEY_DOWN:
            self._key(name, at)  # a key held down does not type it again

    def _plus(self, value: int, at: float) -> None:
        if value == KEY_DOWN:
            self._plus_down, self._plus_fired = at, False
        elif self._plus_down is None or self._plus_fired:
            if value == KEY_UP:
                self._plus_down = None
        elif at - self._plus_down >= self.hold_s:
            self._plus_fired = value != KEY_UP
            self._key("hold_plus", at)
            if value == KEY_UP:
                self._plus_down = None
        elif value == KEY_UP:
            self._plus_down = None
            self._key("plus", at)
