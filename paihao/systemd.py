"""Telling systemd how a process is doing (``Type=notify``, ``WatchdogSec=``), without a library.

The protocol is one datagram to the unix socket named in ``$NOTIFY_SOCKET``:
``READY=1`` once the process serves, ``WATCHDOG=1`` at least every half of
``$WATCHDOG_USEC``, ``STOPPING=1`` on the way out. Outside systemd nothing is
set and every call does nothing. The watchdog is fed from inside each
process's main loop, so a loop that hangs (a stuck disk, a deadlock) stops
the pings and systemd restarts the process.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, MutableMapping
from typing import Protocol

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, environ: MutableMapping[str, str] = os.environ,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        # Taken out of the environment, as sd_notify(unset_environment=1) does: a child process
        # (espeak-ng, a shell) must not speak for us.
        address = environ.pop("NOTIFY_SOCKET", "")
        usec, pid = environ.pop("WATCHDOG_USEC", ""), environ.pop("WATCHDOG_PID", "")
        self._address = "\0" + address[1:] if address.startswith("@") else address  # "@": abstract socket
        self.interval: float | None = None
        if address and usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            self.interval = int(usec) / 1e6 / 2
        self._monotonic = monotonic
        self._fed_at = float("-inf")
        self._socket: socket.socket | None = None
        if address:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @property
    def active(self) -> bool:
        return self._socket is not None

    def send(self, *fields: str) -> None:
        """One message; a failure is logged and ignored (systemd going away must not stop the hall)."""
        if self._socket is None:
            return
        try:
            self._socket.sendto("\n".join(fields).encode("utf-8"), self._address)
        except OSError as exc:
            log.warning("could not notify systemd: %s", exc)

    def ready(self, status: str = "") -> None:
        self.send("READY=1", *([f"STATUS={status}"] if status else []))
        self._fed_at = self._monotonic()

    def watchdog(self) -> None:
        """Call on every turn of the main loop; it pings only as often as systemd asks."""
        if self.interval is None:
            return
        now = self._monotonic()
        if now - self._fed_at >= self.interval:
            self._fed_at = now
            self.send("WATCHDOG=1")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Service(Protocol):
    """What a device's app offers ``serve``: its ordered lifecycle and a main loop that feeds ``alive``."""

    def start(self) -> object: ...
    def run(self, stop: threading.Event, *, alive: Callable[[], None]) -> None: ...
    def close(self) -> None: ...


def serve(app: Service, name: str, status: Callable[[], str] = lambda: "") -> None:
    """Run ``app`` as a service until SIGTERM or Ctrl-C: start it, tell systemd it is ready, run its
    loop (which feeds the watchdog only while it really turns), say it is stopping, close it."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    started = time.monotonic()
    with Notifier() as systemd:
        try:
            app.start()
            systemd.ready(status() or name)
            app.run(stop, alive=systemd.watchdog)
        finally:
            systemd.stopping()
            app.close()
    log.info("%s stopped after %.0f s", name, time.monotonic() - started)
