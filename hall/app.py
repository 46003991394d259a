"""``paihao hall``: start the controller, serve until SIGTERM or Ctrl-C, stop in order."""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading

from hall.service import Clock, HallService, utc_now
from paihao.config import HallConfig
from paihao.systemd import Notifier

log = logging.getLogger(__name__)

SWITCH_INTERVAL_S = 0.0005


def run_hall(config: HallConfig, *, clock: Clock = utc_now, stop: threading.Event | None = None) -> None:
    """Run until ``stop`` is set or SIGTERM/SIGINT arrives (in the main thread)."""
    stop = stop or threading.Event()
    # The hall loop releases the GIL on every SQLite call; with the default 5 ms switch
    # interval it could then wait that long for another thread (the monthly report's worker)
    # to hand it back.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    service = HallService(config, clock=clock)
    # What start-up built (modules, config, pydantic models) lives as long as the process:
    # out of the collector's sight, a full collection no longer walks it. One took 21 ms
    # in the middle of a 500/s load, and every request arriving meanwhile waited.
    gc.collect()
    gc.freeze()
    log.info(
        "hall %s: %d departments, %d windows; database %s; broker %s:%d",
        config.site.id, len(config.departments), len(config.windows),
        config.storage.db, config.mqtt.host, config.mqtt.port,
    )
    with Notifier() as systemd:
        # Ready once the database is open and migrated; the loop then connects (and reconnects)
        # by itself. The watchdog is fed from inside the loop: a hung loop is restarted.
        systemd.ready(f"serving site {config.site.id}")
        try:
            service.run(stop, alive=systemd.watchdog)
        finally:
            systemd.stopping()
            service.close()
            log.info("hall %s stopped", config.site.id)
