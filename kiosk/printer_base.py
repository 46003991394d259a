"""The kiosk's printer interface, its states and its error (re-exported by kiosk.printers)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum

from paihao.errors import PaihaoError


class PrinterState(StrEnum):
    """As published in the kiosk's status topic: printer: ok|paper_low|paper_out|offline."""

    OK = "ok"
    PAPER_LOW = "paper_low"  # still prints; the kiosk warns so that staff change the roll
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"

    @property
    def can_print(self) -> bool:
        return self in (PrinterState.OK, PrinterState.PAPER_LOW)


class PrinterError(PaihaoError, OSError):
    """A ticket was not (entirely) printed; ``state`` says why, in status() terms."""

    def __init__(self, state: PrinterState, message: str) -> None:
        super().__init__(message)  # one argument: OSError would read two as (errno, strerror)
        self.state = state


class TicketPrinter(ABC):
    """The small interface the kiosk uses. status() is asked BEFORE a number is taken from
    the hall (no number for a ticket that cannot be printed); print() sends one whole
    rendered ticket. Devices are context managers: close() on the way out."""

    @abstractmethod
    def status(self) -> PrinterState:
        """The printer's state now; never raises for a printer fault, it reports it."""

    @abstractmethod
    def print(self, data: bytes) -> None:
        """Send one ticket's bytes; raises PrinterError if they were not all sent."""

    def close(self) -> None:
        """Let go of the device (a later status() or print() opens it again)."""

    def __enter__(self) -> TicketPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
