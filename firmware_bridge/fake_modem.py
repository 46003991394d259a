"""The modem that ships in the package: a SIM800-like modem on a pseudo-terminal.

The bridge opens ``fake.port`` with pyserial exactly as it opens /dev/ttyUSB2, so
everything but the radio is the real thing. A thread answers on the pty's master
side (firmware_bridge/fake_at.py is what it says); tests and the demo drive it:

    fake = FakeModem().start()
    fake.deliver("13812345678", "1")          # a citizen's reply: on the SIM, +CMTI
    fake.texts()                               # [("+8613812345678", "…")] it was asked to send
    fake.set_fault("no_signal"); fake.reboot(); fake.unplug(); fake.replug()

With ``link`` it keeps a symbolic link to the pty, as udev keeps /dev/serial/by-id/…:
``unplug()`` removes it (and closes the pty: the port vanishes under the bridge),
``replug()`` makes a new pty and points the link at it.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import threading
import tty
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from firmware_bridge import pdu
from firmware_bridge.fake_at import SentPdu, SimulatedModem
from firmware_bridge.phones import dial_number

log = logging.getLogger(__name__)

CHINA = timezone(timedelta(hours=8))


class FakeModem:
    def __init__(self, *, link: str | Path | None = None, fault: str = "none", pin: str | None = None,
                 operator: str = "CHINA MOBILE", seed: int = 0) -> None:
        self.modem = SimulatedModem(fault=fault, pin=pin, operator=operator, seed=seed)
        self.link = Path(link) if link else None
        self._lock = threading.Condition()
        self._master: int | None = None
        self._slave: int | None = None  # held open, so the master never sees a hang-up between hosts
        self._slave_name = ""
        self._kick_r, self._kick_w = os.pipe()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._ref = seed % 256

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeModem:
        self._plug()
        self._thread = threading.Thread(target=self._serve, name="fake-modem", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
        os.write(self._kick_w, b"x")
        if self._thread:
            self._thread.join(5)
        self._unplug()
        os.close(self._kick_r)
        os.close(self._kick_w)

    def __enter__(self) -> FakeModem:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> str:
        """The path to open: the link if there is one, else the pty's own name."""
        return str(self.link) if self.link else self._slave_name

    # -- control: what a test or the demo does to the modem -----------------------------------------
    def deliver(self, phone: str, text: str, *, at: datetime | None = None, notify: bool = True) -> list[int]:
        """A text arrives from ``phone`` (several parts if long): stored on the SIM, +CMTI for each.
        ``notify=False``: a notification the host never gets. Returns the SIM indexes."""
        number = dial_number(phone) or phone  # a mobile arrives as +8613…, as the network sends it
        with self._lock:
            self._ref = (self._ref + 1) % 256
            pdus = self.modem.deliver_pdus(number, text, at or datetime.now(CHINA), self._ref)
        return self.deliver_pdus(pdus, notify=notify)

    def deliver_pdus(self, pdus: list[str], *, notify: bool = True) -> list[int]:
        """Raw SMS-DELIVER PDUs (hex, with the SMSC field) arrive, in this order."""
        with self._lock:
            indexes = self.modem.store(pdus)
            self._emit(self.modem.notifications(indexes) if notify else b"")
            self._lock.notify_all()
        return indexes

    def set_fault(self, fault: str) -> None:
        """``none``, ``offline``, ``no_sim``, ``no_signal``, ``error`` or ``garbage``. A SIM taken
        out is announced, as a SIM800 does: +CPIN: NOT READY."""
        with self._lock:
            if fault not in ("none", "offline", "no_sim", "no_signal", "error", "garbage"):
                raise ValueError(f"unknown fault {fault!r}")
            removed = fault == "no_sim" and self.modem.fault != "no_sim"
            self.modem.fault = fault
            if removed:
                self._emit(self.modem.announce("+CPIN: NOT READY"))

    def reboot(self, *, announce: bool = True) -> None:
        """The modem restarts: settings lost, then RDY and the rest of its start-up banner
        (``announce=False``: a banner lost on the line, so the host does not notice)."""
        with self._lock:
            banner = self.modem.reboot()
            self._emit(banner if announce else b"")

    def unplug(self) -> None:
        """The USB cable is pulled: the port vanishes under whoever has it open."""
        with self._lock:
            self._unplug()
        os.write(self._kick_w, b"x")

    def replug(self) -> None:
        """Back again, on a new pty; the link (if any) points at it. A restart, as power returns."""
        with self._lock:
            self.modem.reboot()  # the banner goes to nobody: no one has the new port open yet
            self._plug()
        os.write(self._kick_w, b"x")

    def hold(self, prefix: str) -> None:
        """Stall the next command starting with ``prefix`` (e.g. "AT+CMGD", "AT+CMGS") until release()."""
        with self._lock:
            self.modem.hold(prefix)

    def release(self, execute: bool = True) -> None:
        with self._lock:
            self._emit(self.modem.release(execute))

    def reject(self, phone: str, cms_code: int) -> None:
        """Texts to ``phone`` ("+86…" as the PDU has it) get +CMS ERROR: ``cms_code``."""
        with self._lock:
            self.modem.rejections[phone] = cms_code

    def fail_next_sends(self, *cms_codes: int, skip: int = 0) -> None:
        """After ``skip`` more sends go through, the next ones get these +CMS ERROR codes, one each."""
        with self._lock:
            self.modem.fail_next.extend([None] * skip + list(cms_codes))

    # -- what happened ------------------------------------------------------------------------------
    @property
    def sent(self) -> list[SentPdu]:
        with self._lock:
            return list(self.modem.sent)

    @property
    def commands(self) -> list[str]:
        with self._lock:
            return list(self.modem.commands)

    @property
    def sim(self) -> dict[int, str]:
        """The messages on the SIM now: index -> PDU."""
        with self._lock:
            return {index: body for index, (_stat, body) in self.modem.sim.items()}

    def texts(self) -> list[tuple[str, str]]:
        """The texts it was asked to send, parts joined: (number, text) in order of their first part."""
        return join_parts([s.sms for s in self.sent])

    def wait_for(self, predicate: Callable[[FakeModem], bool], timeout: float = 10.0) -> bool:
        """Until ``predicate(self)`` holds (checked after every command and delivery)."""
        with self._lock:
            return self._lock.wait_for(lambda: predicate(self), timeout)

    def nudge(self) -> None:
        """Make every ``wait_for`` look at its predicate now: one that also waits on
        something outside the modem (a stop event) need not wait out its timeout."""
        with self._lock:
            self._lock.notify_all()

    def wait_for_command(self, prefix: str, after: int = 0, timeout: float = 10.0) -> str:
        """The first command from index ``after`` on that starts with ``prefix``, once it came."""
        found: list[str] = []

        def came(_fake: FakeModem) -> bool:
            found[:] = [c for c in self.modem.commands[after:] if c.upper().startswith(prefix.upper())][:1]
            return bool(found)

        if not self.wait_for(came, timeout):
            raise AssertionError(f"the modem was not sent {prefix} within {timeout} s")
        return found[0]

    # -- the pty ------------------------------------------------------------------------------------
    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave, self._slave_name = master, slave, os.ttyname(slave)
        if self.link:
            tmp = self.link.with_name(self.link.name + ".new")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(self._slave_name)
            tmp.replace(self.link)

    def _unplug(self) -> None:
        if self.link:
            self.link.unlink(missing_ok=True)
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None

    def _emit(self, data: bytes) -> None:
        """Write to the host (with the lock held); a full buffer drops bytes, as a UART overruns."""
        if not data or self._master is None:
            return
        try:
            os.write(self._master, data)
        except BlockingIOError:
            log.warning("fake modem: the host reads nothing; %d bytes dropped", len(data))
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise

    def _serve(self) -> None:
        while True:
            with self._lock:
                if self._stopping:
                    return
                master = self._master
            fds = [self._kick_r] + ([master] if master is not None else [])
            try:
                ready, _, _ = select.select(fds, [], [])
            except (OSError, ValueError):
                continue  # the master was closed under select by unplug(): look again
            if self._kick_r in ready:
                os.read(self._kick_r, 64)
            if master in ready:
                self._answer(master)

    def _answer(self, master: int) -> None:
        with self._lock:
            if master != self._master:
                return
            try:
                data = os.read(master, 4096)
            except (BlockingIOError, OSError):
                return
            self._emit(self.modem.feed(data))
            self._lock.notify_all()


def join_parts(parts: list[pdu.Sms]) -> list[tuple[str, str]]:
    """Decoded PDUs to whole texts: concatenated parts joined by (number, ref), in order."""
    groups: dict[tuple, list[pdu.Sms]] = {}
    for sms in parts:
        key = (sms.number, sms.concat.ref, sms.concat.total) if sms.concat else (sms.number, id(sms))
        groups.setdefault(key, []).append(sms)
    texts = []
    for members in groups.values():
        members.sort(key=lambda s: s.concat.seq if s.concat else 0)
        units = b"".join(m.units for m in members)
        texts.append((members[0].number, pdu.decode_units(members[0].encoding, units)))
    return texts
