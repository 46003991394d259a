"""The call-pad's line to the hall: window commands, and what the pad must hear.

Reads only protocol v1 (docs/protocol.md): ``hall/status``, the retained
``windows/{id}`` of its windows and ``queues/{dept}`` of their departments.
Sends ``windows/{id}/command`` requests, retried with the same request_id
on timeout (the controller answers a repeat with its first answer, so that
can never call two citizens); an attempt given up on is withdrawn by the bus,
so a connection that died unnoticed cannot deliver it minutes later.
Publishes its own availability, retained, on ``callers/{id}/status`` with a
Last Will.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future
from functools import partial

from bus.client import BusClient, Message
from bus.topics import Topics
from paihao.accounts import account_name
from paihao.config import HallConfig
from paihao.credentials import connection
from paihao.errors import BusTimeout, PaihaoError

log = logging.getLogger(__name__)


class NotConnected(PaihaoError, ConnectionError):
    """The broker or the controller cannot be reached: the press is refused, not queued."""


class CallerLink:
    """``on_window(window, state, seq)``, ``on_queue(dept, waiting)`` and ``on_online()``
    run in the network thread. ``seq`` numbers the window states in arrival order, so
    that a reply overtaken by a newer retained state does not undo it."""

    def __init__(self, config: HallConfig, pad_id: str, windows: Sequence[str], *,
                 reply_timeout_s: float = 1.5, attempts: int = 3,
                 on_window: Callable[[str, dict, int], None] = lambda w, s, q: None,
                 on_queue: Callable[[str, int], None] = lambda d, n: None,
                 on_online: Callable[[], None] = lambda: None) -> None:
        self.topics = Topics(config.site.id)
        self.windows = tuple(windows)
        self.reply_timeout_s, self.attempts = reply_timeout_s, attempts
        self.hall_online = False
        self.seq = 0  # window states and replies received, in the network thread's order
        self._on_window, self._on_queue, self._on_online = on_window, on_queue, on_online
        self._status: dict = {"online": True, "windows": list(self.windows), "faults": [], "last_error": None}
        self._status_lock = threading.Lock()
        self.status_topic = self.topics.device_status("callers", pad_id)
        will = {"online": False, "windows": list(self.windows), "faults": [], "last_error": None}
        name = account_name("caller", pad_id)  # its broker account, and the replies only it may read
        self.bus = BusClient(
            f"paihao-{name}", will=(self.status_topic, json.dumps(will)),
            reply_topic=self.topics.replies(name), on_connected=self._connected,
            on_disconnected=self._disconnected,
            **connection(config, name),
        )
        self.bus.subscribe(self.topics.hall_status, self._hall_status)
        for window in self.windows:
            self.bus.subscribe(self.topics.window(window), self._window)
        depts = sorted({d for w in self.windows for d in (config.window(w).depts if config.window(w) else ())})
        for dept in depts:
            self.bus.subscribe(self.topics.queue(dept), self._queue)

    def start(self) -> CallerLink:
        self.bus.start(wait=None)  # the pad comes up at once and shows that it is offline
        return self

    def stop(self) -> None:
        with self._status_lock:
            self._status["online"] = False
            status = dict(self._status)
        if self.bus.connected.is_set():
            self.bus.wait_published(self.status_topic, status, retain=True, timeout=2)
        self.bus.stop()

    @property
    def online(self) -> bool:
        return self.bus.connected.is_set() and self.hall_online

    # -- what the hall says ------------------------------------------------------------
    def _connected(self) -> None:
        # The retained hall/status arrives again after this: until then, presses wait for it.
        self.hall_online = False
        self._publish_status()
        self._on_online()

    def _disconnected(self) -> None:
        self.hall_online = False
        self._on_online()  # the pads go red now, not at their next tick

    def _hall_status(self, message: Message) -> None:
        self.hall_online = message.payload == b"online"
        self._on_online()

    def _window(self, message: Message) -> None:
        try:
            state = json.loads(message.payload)
            window = str(state["window"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed window state on %s", message.topic)
            return
        self.seq += 1
        self._on_window(window, state, self.seq)

    def _queue(self, message: Message) -> None:
        try:
            state = json.loads(message.payload)
            dept, waiting = str(state["dept"]), int(state["waiting"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed queue state on %s", message.topic)
            return
        self._on_queue(dept, waiting)

    # -- commands ----------------------------------------------------------------------
    def command(self, window: str, payload: dict, on_reply: Callable[[dict, int], None]) -> Callable[[], None]:
        """Send a window command now, from the calling thread; return ``wait``.

        ``wait()`` (for a worker thread) blocks until the command is answered or given
        up: it asks again, with the same payload and so the same request_id, after each
        ``reply_timeout_s``. It raises NotConnected when the hall cannot be reached
        between attempts, BusTimeout when no attempt was answered. ``on_reply(reply,
        seq)`` runs in the network thread the moment the reply arrives: no hand-over to
        another thread, which would cost a GIL switch of up to 5 ms. ``seq`` is its
        place among the window states received. Raises NotConnected at once when the
        hall cannot be reached: a press is refused, never queued.
        """
        topic = self.topics.window_command(window)
        ask = partial(self._ask, topic, payload, on_reply)
        future = ask()

        def wait() -> None:
            current = future
            for attempt in range(1, self.attempts + 1):
                try:
                    current.result(self.reply_timeout_s)
                    return
                except TimeoutError:
                    if not current.cancel():
                        return  # answered just now: on_reply has run
                    log.warning("no reply to %s %s on window %s (attempt %d of %d)",
                                payload.get("action"), payload.get("request_id"), window, attempt, self.attempts)
                except ValueError:
                    return  # an undecodable reply: _answered has said so
                except CancelledError:
                    raise NotConnected("the link was closed while waiting for the hall") from None
                if attempt < self.attempts:
                    current = ask()
            raise BusTimeout(f"window {window}: no reply within {self.attempts} x {self.reply_timeout_s:g} s")

        return wait

    def _ask(self, topic: str, payload: dict, on_reply: Callable[[dict, int], None]) -> Future:
        if not self.online:
            raise NotConnected("the hall cannot be reached")
        future = self.bus.request_async(topic, payload)
        future.add_done_callback(partial(self._answered, on_reply))
        return future

    def _answered(self, on_reply: Callable[[dict, int], None], future: Future) -> None:
        if future.cancelled():
            return
        error = future.exception()
        reply = future.result() if error is None else None
        if not isinstance(reply, dict):
            reply = {"ok": False, "error": {"code": "internal", "message": f"undecodable reply: {error or reply}"}}
        on_reply(reply, self.seq)

    # -- the pad's own status ------------------------------------------------------------
    def set_faults(self, faults: list[str], last_error: str | None) -> None:
        """Publish {online, windows, faults, last_error} retained, when it changed."""
        with self._status_lock:
            changed = (self._status["faults"], self._status["last_error"]) != (faults, last_error)
            self._status.update(faults=list(faults), last_error=last_error)
        if changed and self.bus.connected.is_set():
            self._publish_status()

    def _publish_status(self) -> None:
        with self._status_lock:
            status = dict(self._status)
        self.bus.publish(self.status_topic, status, retain=True)
