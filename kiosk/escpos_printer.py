"""A real ESC/POS printer (USB, serial or network) through python-escpos.

Two traps in python-escpos 3.1 shape this module:

- ``paper_status()`` answers 2 ("paper adequate") when the printer says nothing at all, and
  0 ("no paper") for a byte that is not a status byte. So we send the same query
  (``DLE EOT 4``) with ``query_status()`` and read the byte ourselves; no reply, a read
  timeout or a byte that is not a status byte are all "unknown", decided below.
- After a failed ``open()`` escpos leaves ``_device = None``, and its lazy ``device``
  property only opens a device that is ``False``: the same object never tries again (the
  next write fails an ``assert``). So after any failure the escpos object is thrown away
  and the next status() or print() builds a new one from the factory.

Unknown paper state: a printer that has never answered a status query is taken as usable
(``ok``, with one warning in the log). Many kiosk printers are wired write-only (a serial
line without its return pair, a USB or network bridge that does not pass replies back) and
still print well; calling them offline would stop the kiosk for good, and if a ticket then
fails to print the kiosk's "printing failed" path still keeps the number on screen. But a
printer that HAS answered before and now says nothing has been switched off or unplugged
(a USB-serial adapter still opens without its printer): that is ``offline``, so no number
is taken for a ticket that cannot come out.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable

from escpos.constants import RT_STATUS_PAPER
from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError
from escpos.printer import Network

from kiosk.printer_base import PrinterError, PrinterState, TicketPrinter

log = logging.getLogger(__name__)

NETWORK_TIMEOUT_S = 3.0  # connect and status read; escpos's default of 60 s would freeze the kiosk

# The reply to DLE EOT 4 (paper roll sensor status), one byte:
_PAPER_OUT = 0x60  # bits 5-6: paper end
_PAPER_LOW = 0x0C  # bits 2-3: paper near end
_FIXED_MASK, _FIXED = 0x93, 0x12  # bits 1 and 4 always 1, bits 0 and 7 always 0

# What a broken or missing device raises: OSError covers sockets, pyserial's
# SerialException and pyusb's USBError; ValueError is pyusb's NoBackendError (no libusb)
# and a bad serial setting; RuntimeError is escpos's "pyusb/pyserial not installed".
DEVICE_ERRORS = (OSError, ValueError, EscposError, RuntimeError)
try:
    from usb.core import USBTimeoutError  # pyusb >= 1.1; older ones raise a plain USBError

    READ_TIMEOUTS: tuple[type[Exception], ...] = (TimeoutError, USBTimeoutError)
except ImportError:
    READ_TIMEOUTS = (TimeoutError,)  # socket.timeout; pyserial returns b"" instead


def paper_state(reply: bytes) -> PrinterState | None:
    """The state a DLE EOT 4 reply reports, or None when it reports nothing."""
    if not reply:
        return None
    byte = reply[-1]  # the newest, should older bytes have been waiting
    if (byte & _FIXED_MASK) != _FIXED:
        return None
    if byte & _PAPER_OUT:
        return PrinterState.PAPER_OUT
    if byte & _PAPER_LOW:
        return PrinterState.PAPER_LOW
    return PrinterState.OK


class EscposPrinter(TicketPrinter):
    """A python-escpos printer, opened when first used; ``factory`` builds a fresh escpos
    object (``escpos.printer.Usb(...)`` etc.) each time one is needed."""

    def __init__(self, factory: Callable[[], Escpos], name: str) -> None:
        self._factory = factory
        self.name = name  # "network 10.0.0.5:9100": for logs and messages
        self._lock = threading.Lock()  # the UI asks status() while a worker prints
        self._printer: Escpos | None = None
        self._answered = False  # has this printer ever answered a status query?
        self._warned_silent = False
        self._last: PrinterState | None = None
        self._why = ""  # why the last status() was not ok, for the log

    def status(self) -> PrinterState:
        with self._lock:
            self._why = ""
            state = self._status()
            if state != self._last:  # log changes only: the kiosk asks often
                level = logging.INFO if state.can_print else logging.WARNING
                log.log(level, "printer %s is now %s%s", self.name, state, f" ({self._why})" if self._why else "")
                self._last = state
            return state

    def print(self, data: bytes) -> None:
        with self._lock:
            printer = self._open()
            try:
                printer._raw(data)  # the whole ticket in one write
            except DEVICE_ERRORS as e:
                self._drop()
                log.warning("printer %s: sending a ticket failed: %s", self.name, e)
                raise PrinterError(PrinterState.OFFLINE, f"printer {self.name}: sending failed: {e}") from e

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _status(self) -> PrinterState:
        try:
            reply = self._query(self._open())
        except PrinterError as e:
            self._why = str(e)
            return e.state
        state = paper_state(reply)
        if state is not None:
            self._answered = True
            return state
        if self._answered:  # it used to answer: switched off or unplugged
            self._why = "no answer to a status query any more"
            self._drop()
            return PrinterState.OFFLINE
        if not self._warned_silent:
            log.warning("printer %s does not answer status queries; paper state unknown, taken as ok", self.name)
            self._warned_silent = True
        return PrinterState.OK

    def _query(self, printer: Escpos) -> bytes:
        try:
            return bytes(printer.query_status(RT_STATUS_PAPER))
        except READ_TIMEOUTS:
            return b""
        except DEVICE_ERRORS as e:
            self._drop()
            raise PrinterError(PrinterState.OFFLINE, f"printer {self.name}: status query failed: {e}") from e

    def _open(self) -> Escpos:
        if self._printer is not None:
            return self._printer
        printer: Escpos | None = None
        try:
            printer = self._factory()
            printer.open()
        except PrinterError:
            raise
        except DEVICE_ERRORS as e:
            _close_quietly(printer)  # and forget it: see the module docstring
            raise PrinterError(PrinterState.OFFLINE, f"printer {self.name} cannot be opened: {e}") from e
        self._printer = printer
        return printer

    def _drop(self) -> None:
        printer, self._printer = self._printer, None
        _close_quietly(printer)


def _close_quietly(printer: Escpos | None) -> None:
    if printer is None:
        return
    try:
        printer.close()
    except DEVICE_ERRORS as e:  # already broken: nothing more to lose
        log.debug("closing a failed printer: %s", e)


class NetworkEscpos(Network):
    """escpos's Network, except that a socket that failed to connect is closed at once
    (escpos 3.1 drops it unclosed: a ResourceWarning, and a file descriptor until GC).
    It always raises on failure (OSError), whatever ``raise_not_found`` says."""

    def open(self, raise_not_found: bool = True) -> None:
        if self._device:
            self.close()
        self.device = socket.create_connection((self.host, self.port), timeout=self.timeout)
