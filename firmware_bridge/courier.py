"""The inbox courier: hands received messages to the hall until it answers.

A thread of its own, because a hall that is down makes every hand-over wait for
its timeout, and neither the modem nor paho's network thread may wait on that.
Each message goes as an ``sms/inbox`` request with the request_id the store gave
it, again and again (backing off up to ``retry_max_s``) until the hall answers
``ok: true`` — or ``ok: false``, a refusal, which is final too and logged. The
hall records a request_id once, so a message asked twice is not taken twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future

from firmware_bridge.phones import masked
from firmware_bridge.link import BridgeLink
from firmware_bridge.store import BridgeStore
from firmware_bridge.worker import Backoff

log = logging.getLogger(__name__)


class InboxCourier:
    def __init__(self, store: BridgeStore, link: BridgeLink, *, reply_timeout_s: float, retry_min_s: float,
                 retry_max_s: float, on_change: Callable[[], None]) -> None:
        self.store, self.link = store, link
        self.reply_timeout_s = reply_timeout_s
        self.retry_in_s: float | None = None
        self._backoff = Backoff(retry_min_s, retry_max_s)
        self._on_change = on_change
        self._wake = threading.Event()
        self._stopping = False
        self._in_flight: Future | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> InboxCourier:
        self._thread = threading.Thread(target=self._run, name="inbox-courier", daemon=True)
        self._thread.start()
        return self

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Stop now: a hand-over still waiting for the hall is given up (the message stays
        in the store and goes again at the next start; the hall takes a request_id once)."""
        self._stopping = True
        self._wake.set()
        in_flight = self._in_flight
        if in_flight is not None:
            in_flight.cancel()
        if self._thread:
            self._thread.join(self.reply_timeout_s + 5)

    def wake(self, *, now: bool = False) -> None:
        """New messages, a new connection, or the hall back online: try at once (``now``: skip the backoff)."""
        if now:
            self._backoff.reset()
        self._wake.set()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                delay = self._round()
            except Exception:
                log.exception("unexpected error handing messages over to the hall")
                delay = self._backoff.next()
            if not self._stopping:
                self._wake.wait(delay)

    def _round(self) -> float | None:
        """Hand over what is waiting; how long to wait before the next round (None: until woken)."""
        while not self._stopping:
            waiting = self.store.pending(limit=20)
            if not waiting:
                self.retry_in_s = None
                return None
            if not self.link.connected:
                return None  # the link's on_connected wakes us
            for message in waiting:
                if self._stopping:
                    return None
                self._in_flight = future = self.link.hand_over(message)
                if self._stopping:
                    future.cancel()  # stop() may have looked before the future was set
                try:
                    reply = future.result(self.reply_timeout_s)
                except CancelledError:
                    return None
                except TimeoutError:
                    future.cancel()
                    self.retry_in_s = delay = self._backoff.next()
                    log.warning("the hall did not take a received message within %g s; asking again in %g s",
                                self.reply_timeout_s, delay)
                    self._on_change()
                    return delay
                finally:
                    self._in_flight = None
                self._backoff.reset()
                self.retry_in_s = None
                self._answered(message.request_id, message.phone, reply)
        return None

    def _answered(self, request_id: str, phone: str, reply: dict) -> None:
        ok = isinstance(reply, dict) and reply.get("ok") is True
        error = None
        if not ok:
            detail = reply.get("error") if isinstance(reply, dict) else None
            error = (detail.get("code") if isinstance(detail, dict) else None) or "refused"
            log.warning("the hall refused the message %s from %s (%s); it is not offered again",
                        request_id, masked(phone), error)
        else:
            log.info("the hall took the message %s from %s", request_id, masked(phone))
        self.store.answered(request_id, ok, error)
        self._on_change()
