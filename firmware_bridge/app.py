"""``paihao bridge``: the GSM modem <-> the hall's SMS topics, in one process.

Three threads, each owning one thing: paho's network thread (the bus: offers are
written to the store and the modem thread woken), the modem thread (the serial
port; firmware_bridge/worker.py) and the inbox courier (hand-overs to the hall,
which may take their timeout). The store is what they share.

Start in order — store (and recovery of a send a crash interrupted), the fake
modem if configured, the bus, the modem thread, the courier — and stop in reverse,
so that nothing is handed to a part already gone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bus.payloads import SmsCancel, SmsOutbox
from firmware_bridge.courier import InboxCourier
from firmware_bridge.fake_modem import FakeModem
from firmware_bridge.link import BridgeLink
from firmware_bridge.status import bridge_status, last_word
from firmware_bridge.store import BridgeStore
from firmware_bridge.phones import dial_number, masked
from firmware_bridge.worker import ModemWorker
from paihao.config import HallConfig
from paihao.device_config import Bridge
from paihao.device_config import FakeModem as FakeModemConfig
from paihao.errors import ConfigError
from paihao.systemd import serve

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def find_bridge(config: HallConfig, bridge_id: str | None) -> Bridge:
    """The bridge to run: by id, or the only one configured."""
    if bridge_id:
        bridge = config.bridge(bridge_id)
        if bridge is None:
            known = ", ".join(b.id for b in config.bridges) or "none"
            raise ConfigError(f"no bridge {bridge_id!r} in the config's [[bridges]] (known: {known})")
        return bridge
    if len(config.bridges) == 1:
        return config.bridges[0]
    if not config.bridges:
        raise ConfigError("the config has no [[bridges]] entry")
    raise ConfigError("say which bridge: --id ID")


def db_path(config: HallConfig, bridge: Bridge) -> Path:
    """A relative db is relative to the hall db's folder, like the other devices' state."""
    path = Path(bridge.db or f"bridge-{bridge.id}.db")
    return path if path.is_absolute() else Path(config.storage.db).parent / path


def serial_opener(device: Callable[[], str], baudrate: int):
    """Opens the port as the AT layer wants it: non-blocking reads, bounded writes, exclusive."""
    import serial  # the bridge extra: only this process needs pyserial

    def open_port():
        return serial.Serial(device(), baudrate, timeout=0, write_timeout=5, exclusive=True)

    return open_port


class BridgeApp:
    def __init__(self, config: HallConfig, bridge: Bridge, *, fake: FakeModem | None = None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.config, self.bridge = config, bridge
        self.clock = clock
        self._owns_fake = fake is None and bridge.modem.type == "fake"
        if self._owns_fake:
            fake = FakeModem(fault=bridge.modem.fault)
        self.fake = fake
        device = (lambda: self.fake.port) if self.fake else (lambda: bridge.modem.device)
        self.port_name = device
        self.store = BridgeStore(db_path(config, bridge), bridge_id=bridge.id, clock=clock)
        self.link = BridgeLink(config, bridge.id, on_outbox=self._offered, on_cancel=self._cancelled,
                               on_connected=self._connected, on_hall_online=lambda: self.courier.wake(now=True))
        baudrate = getattr(bridge.modem, "baudrate", 115200)
        self.worker = ModemWorker(serial_opener(device, baudrate), self.store, bridge, on_sent=self.link.sent,
                                  on_received=lambda: self.courier.wake(), on_change=self.publish_status,
                                  clock=clock)
        self.courier = InboxCourier(self.store, self.link, reply_timeout_s=bridge.reply_timeout_s,
                                    retry_min_s=bridge.retry_min_s, retry_max_s=bridge.retry_max_s,
                                    on_change=self.publish_status)
        self._status_lock = threading.Lock()
        self._started = self._closed = False

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> BridgeApp:
        interrupted = self.store.recover()
        if interrupted:
            log.warning("%d text(s) were being sent when the bridge stopped; answered as uncertain", len(interrupted))
        self.store.purge(timedelta(days=self.bridge.retention_days))
        if self._owns_fake:
            self.fake.start()
        self._started = True
        self.link.start()
        for sms_id in interrupted:
            self.link.sent(self.store.answer(sms_id) or {})  # queued in paho until the broker is there
        self.worker.start()
        self.courier.start()
        log.info("bridge %s started (modem: %s)", self.bridge.id, self.bridge.modem.type)
        return self

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._started:
            self.courier.stop()
            self.worker.stop(timeout=self.bridge.send_timeout_s + 5)
            self.link.stop(last_word(self.store.counts()))
        self.store.close()
        if self._owns_fake and self._started:
            self.fake.stop()

    def __enter__(self) -> BridgeApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- from the bus (network thread) -----------------------------------------------------------------
    def run(self, stop: threading.Event, *, alive: Callable[[], None] = lambda: None) -> None:
        """The work is in the modem and courier threads: this only watches them for systemd."""
        while not stop.wait(1.0):
            if self.is_alive():  # a dead modem or courier thread is a bug: let systemd restart us
                alive()

    def is_alive(self) -> bool:
        """The modem and courier threads run (each catches its own faults and carries on)."""
        return self.worker.is_alive() and self.courier.is_alive()

    def _offered(self, offer: SmsOutbox) -> None:
        result, answer = self.store.offer(offer.id, offer.phone, offer.text)
        if result == "done":
            self.link.sent(answer or {})  # its outcome again: the hall missed it
            return
        if result == "queued":
            return  # being worked on: it will be answered
        if dial_number(offer.phone) is None:
            log.warning("text %s: %s is not a number the modem can dial", offer.id, masked(offer.phone))
            self.link.sent(self.store.fail(offer.id, "bad_phone", "not a phone number the modem can dial"))
        else:
            log.info("text %s to %s queued", offer.id, masked(offer.phone))
            self.worker.wake()
        self.publish_status()

    def _cancelled(self, cancel: SmsCancel) -> None:
        """Each id is recorded (in the store, committed) before it is answered; one being sent is
        answered when that ends, with what happened."""
        for sms_id in cancel.ids:
            result, phone = self.store.cancel(sms_id)
            if result == "busy":
                log.info("text %s: cancel heard while it is being sent; it is answered once that ends", sms_id)
                continue
            if result == "cancelled":
                if phone is None:
                    log.info("text %s: cancelled before it was ever offered; it will not be sent", sms_id)
                else:
                    log.info("text %s to %s cancelled; it will not be sent", sms_id, masked(phone))
            self.link.sent(self.store.answer(sms_id) or {})
        self.publish_status()

    def _connected(self) -> None:
        self.courier.wake(now=True)

    # -- status -------------------------------------------------------------------------------------
    def status(self) -> dict:
        return bridge_status(self.worker, self.courier, self.store.counts(), self.port_name())

    def publish_status(self) -> None:
        if self._closed:
            return
        with self._status_lock:
            self.link.set_status(self.status())


def run_bridge(config: HallConfig, bridge_id: str | None, *, fake_modem: bool = False) -> None:
    bridge = find_bridge(config, bridge_id)
    if fake_modem:  # a laptop, or a demo: everything but the radio is the real thing
        bridge = bridge.model_copy(update={"modem": FakeModemConfig(type="fake")})
    app = BridgeApp(config, bridge)
    serve(app, f"bridge {bridge.id}")
