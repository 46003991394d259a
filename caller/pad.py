"""One window's pad at run time: keys from any thread, commands on a worker, feedback out.

Buttons call ``key()`` from gpiozero's threads, the keypad from its reader,
the terminal from its own; the flow is guarded by one lock. A command runs
on a short-lived worker thread so that no input thread waits for the hall.
Tests and the benchmark wait on ``idle`` (no command in flight) or on
``wait_for(predicate)``, which is woken by every change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from caller.flow import Command, Decision, PadFlow, PadView
from caller.link import CallerLink, NotConnected
from caller.screen import NO_REPLY, NOT_SENT
from caller.state import ClerkStore
from paihao.errors import BusTimeout

log = logging.getLogger(__name__)


class Feedback(Protocol):
    """Where a pad shows itself: LEDs and buzzer, an LCD, a terminal."""

    def show(self, view: PadView) -> None: ...

    def beep(self, kind: str) -> None: ...


class WindowPad:
    def __init__(self, flow: PadFlow, link: CallerLink, store: ClerkStore, *,
                 now: Callable[[], datetime], monotonic: Callable[[], float] = time.monotonic) -> None:
        self.flow, self.link, self.store = flow, link, store
        self.window_id = flow.window_id
        self.now, self.monotonic = now, monotonic
        self.feedbacks: list[Feedback] = []
        self.idle = threading.Event()
        self.idle.set()
        self._cond = threading.Condition()
        self.presses = 0  # keys handled, and replies handled: what tests and scripts wait for
        self._pending = 0  # commands started whose feedback is not out yet
        self.replies = 0
        self._state_seq = 0  # of the window state applied last
        self._out_lock = threading.Lock()
        self._shown: PadView | None = None

    # -- input, from any thread ------------------------------------------------------------
    def key(self, key: str, at: float | None = None) -> None:
        with self._cond:
            decision = self.flow.key(key, self.monotonic() if at is None else at)
            if decision.command:
                self._start(decision.command)
        if decision.command is None and decision.beep is None:
            log.debug("window %s: key %s", self.window_id, key)
        self._feedback(decision)
        with self._cond:  # counted once its feedback is out: a waiter sees what the clerk saw
            self.presses += 1
            self._cond.notify_all()

    def _start(self, command: Command) -> None:
        """Under the lock: mark the pad busy, send ``command`` now, and leave the waiting
        (and asking again) to a worker thread, so that no input thread waits for the hall."""
        self._pending += 1
        self.idle.clear()
        log.info("window %s: %s %s", self.window_id, command.action, command.request_id)
        wait: Callable[[], None] | None
        try:
            wait = self.link.command(self.window_id, command.payload(),
                                     lambda reply, seq: self._finish(command, reply, None, seq))
        except NotConnected:
            wait = None  # lost just now, before the flow heard of it: nothing went out
        threading.Thread(target=self._run, args=(command, wait), name=f"pad-{self.window_id}", daemon=True).start()

    def _run(self, command: Command, wait: Callable[[], None] | None) -> None:
        """The worker: waits, and asks again on timeout. The reply itself is handled in the
        network thread as it arrives (``_finish``); exactly once either way."""
        if wait is None:
            self._finish(command, None, NOT_SENT)
            return
        try:
            wait()
        except (BusTimeout, NotConnected):  # sent, and lost on the way or unanswered
            self._finish(command, None, NO_REPLY)
        except Exception:  # a worker must always hand the pad back
            log.exception("window %s: %s failed", self.window_id, command.action)
            self._finish(command, None, NO_REPLY)

    def _finish(self, command: Command, reply: dict | None, failure: str | None, seq: int = 0) -> None:
        with self._cond:
            if reply and isinstance(reply.get("window"), dict) and seq >= self._state_seq:
                self.flow.window_state(reply["window"])
            decision = self.flow.finished(command, reply, failure)
            self._remember(command, reply)
        if reply is not None and not reply.get("ok"):
            log.info("window %s: %s refused: %s", self.window_id, command.action, (reply.get("error") or {}).get("code"))
        self._feedback(decision)
        with self._cond:  # idle once the LEDs, the beep and the LCD say what happened
            self.replies += 1
            self._pending -= 1
            if self._pending == 0:
                self.idle.set()
            self._cond.notify_all()

    def _remember(self, command: Command, reply: dict | None) -> None:
        """The clerk logged in here is kept across a restart; a refused auto-login forgets it."""
        if command.action == "login" and reply is not None:
            if reply.get("ok"):
                self.store.set(self.window_id, command.fields["clerk"])
            elif command.auto:
                self.store.set(self.window_id, None)
        elif command.action == "logout" and reply is not None and reply.get("ok"):
            self.store.set(self.window_id, None)

    # -- what the hall says, from the network thread ------------------------------------------
    def window_state(self, state: dict, seq: int) -> None:
        with self._cond:
            self._state_seq = seq
            self.flow.window_state(state)
            self._cond.notify_all()
        self.render()

    def queue_state(self, dept: str, waiting: int) -> None:
        with self._cond:
            self.flow.queue_state(dept, waiting)
            self._cond.notify_all()
        self.render()

    def connection(self, offline: str | None) -> None:
        """The hall became reachable (``None``) or not; on becoming reachable, log in again."""
        with self._cond:
            was = self.flow.offline
            self.flow.offline = offline
            clerk = self.store.get(self.window_id)
            if was and not offline and clerk:
                command = self.flow.auto_login(clerk)
                if command:
                    self._start(command)
            self._cond.notify_all()
        self.render()

    # -- output -------------------------------------------------------------------------------
    def _feedback(self, decision: Decision) -> None:
        if decision.beep:
            for feedback in self.feedbacks:
                feedback.beep(decision.beep)
        self.render()

    def render(self, force: bool = False) -> None:
        """Show the pad's view where it changed (the LCD's clock moves every second)."""
        with self._out_lock:  # views are computed and shown in one order
            with self._cond:
                view = self.flow.view(self.now())
            if view == self._shown and not force:
                return
            self._shown = view
            for feedback in self.feedbacks:
                try:
                    feedback.show(view)
                except Exception:  # a broken LCD must not stop the LEDs
                    log.exception("window %s: feedback %s failed", self.window_id, type(feedback).__name__)

    def wait_for(self, predicate: Callable[[PadFlow], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate(flow)`` holds; woken by every key, reply and state."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.flow), timeout)

    @property
    def view(self) -> PadView:
        with self._cond:
            return self.flow.view(self.now())
