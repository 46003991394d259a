"""Ticket printers behind one small interface (kiosk.printer_base.TicketPrinter): status()
before a number is taken, print() after. A real ESC/POS printer through python-escpos
(kiosk.escpos_printer), a file for a laptop, and the fake that ships in the package, like
OctoPrint's virtual printer, for the demo and the tests. make_printer() picks one from config.

Nothing here logs ticket bytes: a ticket carries a (masked) phone number.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import partial
from pathlib import Path
from typing import get_args

from escpos.escpos import Escpos

from kiosk.escpos_printer import NETWORK_TIMEOUT_S, EscposPrinter, NetworkEscpos
from kiosk.printer_base import PrinterError, PrinterState, TicketPrinter
from paihao import device_config as cfg

__all__ = [
    "EscposPrinter", "FakePrinter", "FilePrinter", "PrinterError", "PrinterState",
    "TicketPrinter", "make_printer",
]

log = logging.getLogger(__name__)

# The faults config accepts are the faults the fake knows: one list, in device_config.
USB_TIMEOUT_MS = 5000  # pyusb counts in milliseconds
FAULTS: tuple[str, ...] = get_args(cfg.FakePrinter.model_fields["fault"].annotation)


class FakePrinter(TicketPrinter):
    """Records every ticket in ``jobs``. ``fault`` may be changed at any time, from any
    thread: "none"; "offline" and "paper_out" (status says so, print raises and records
    nothing); "paper_low" (prints, status says paper_low); "fail_mid_job" (status ok, then
    each job stops halfway: its first half goes to ``partial``, PrinterError(offline))."""

    def __init__(self, fault: str = "none") -> None:
        self._lock = threading.Lock()
        self._jobs: list[bytes] = []
        self._partial: list[bytes] = []
        self.fault = fault

    @property
    def fault(self) -> str:
        return self._fault

    @fault.setter
    def fault(self, value: str) -> None:
        if value not in FAULTS:
            raise ValueError(f"unknown fault {value!r}; one of: {', '.join(FAULTS)}")
        with self._lock:  # a job in progress finishes under the fault it started with
            self._fault = value

    @property
    def jobs(self) -> list[bytes]:
        """A copy of the tickets printed whole, oldest first."""
        with self._lock:
            return list(self._jobs)

    @property
    def partial(self) -> list[bytes]:
        """What came out of each job a fail_mid_job fault cut short, oldest first."""
        with self._lock:
            return list(self._partial)

    def status(self) -> PrinterState:
        fault = self._fault
        return PrinterState(fault) if fault in ("offline", "paper_out", "paper_low") else PrinterState.OK

    def print(self, data: bytes) -> None:
        with self._lock:
            fault = self._fault
            if fault in ("offline", "paper_out"):
                raise PrinterError(PrinterState(fault), f"fake printer: {fault}")
            if fault == "fail_mid_job":
                self._partial.append(bytes(data[: len(data) // 2]))
                raise PrinterError(PrinterState.OFFLINE, "fake printer: connection lost in the middle of a job")
            self._jobs.append(bytes(data))


class FilePrinter(TicketPrinter):
    """Appends each ticket's bytes to a file, or writes them to a device node (/dev/usb/lp0)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def status(self) -> PrinterState:
        if self.path.exists():
            usable = not self.path.is_dir() and os.access(self.path, os.W_OK)
        else:
            usable = self.path.parent.is_dir() and os.access(self.path.parent, os.W_OK)
        return PrinterState.OK if usable else PrinterState.OFFLINE

    def print(self, data: bytes) -> None:
        try:
            with self.path.open("ab") as out:
                out.write(data)
        except OSError as e:
            log.warning("cannot write tickets to %s: %s", self.path, e.strerror or e)
            raise PrinterError(PrinterState.OFFLINE, f"cannot write to {self.path}: {e.strerror or e}") from e


def make_printer(config: cfg.PrinterConfig) -> TicketPrinter:
    """The printer a kiosk's ``printer`` config section asks for; nothing is opened yet."""
    match config:
        case cfg.FakePrinter():
            return FakePrinter(config.fault)
        case cfg.FilePrinter():
            return FilePrinter(config.path)
        case cfg.UsbPrinter():
            name = f"usb {config.vendor_id:04x}:{config.product_id:04x}"
            return EscposPrinter(partial(_usb, config), name)
        case cfg.SerialPrinter():
            return EscposPrinter(partial(_serial, config), f"serial {config.device}")
        case cfg.NetworkPrinter():
            return EscposPrinter(partial(_network, config), f"network {config.host}:{config.port}")
    raise TypeError(f"not a printer config: {type(config).__name__}")


def _require(cls: type[Escpos], extra: str) -> None:
    # Checked before constructing: without pyusb, escpos's Usb raises from close() in __del__.
    if not cls.is_usable():
        raise PrinterError(PrinterState.OFFLINE, f"python-escpos needs {extra} for this printer (pip install {extra})")


def _usb(config: cfg.UsbPrinter) -> Escpos:
    from escpos.printer import Usb

    _require(Usb, "pyusb")
    # escpos's default USB timeout is 0, which libusb takes as "wait for ever": a jammed
    # printer would hang the kiosk in print().
    return Usb(
        config.vendor_id, config.product_id, timeout=USB_TIMEOUT_MS,
        in_ep=config.in_ep, out_ep=config.out_ep, profile=config.profile,
    )


def _serial(config: cfg.SerialPrinter) -> Escpos:
    from escpos.printer import Serial

    _require(Serial, "pyserial")
    return Serial(config.device, config.baudrate, profile=config.profile)


def _network(config: cfg.NetworkPrinter) -> Escpos:
    return NetworkEscpos(config.host, config.port, timeout=NETWORK_TIMEOUT_S, profile=config.profile)
