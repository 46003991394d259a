"""What can go wrong between the bridge and the GSM network; all under paihao's one root.

The modem loop treats every ``ModemError`` but two alike — report, back off, start the
modem again — so a new fault needs no new handler. The two: ``SmsRejected`` concerns one
text, not the modem, and ``SendUncertain`` means a text may have gone out. ``SendCancelled``
is no fault at all: the hall withdrew the text just before its PDU was to be written.
"""

from __future__ import annotations

from paihao.errors import PaihaoError


class ModemError(PaihaoError, OSError):
    """The modem cannot do what the bridge needs now; the message says what, for the status topic."""


class PortUnavailable(ModemError, ConnectionError):
    """The serial port is missing, cannot be opened, or vanished (a USB modem unplugged)."""


class AtTimeout(ModemError, TimeoutError):
    """The modem gave no final result within the time allowed (powered off, or hung)."""


class ModemRebooted(ModemError):
    """The modem announced a restart (RDY) in the middle of a command: its settings are gone."""


class CommandError(ModemError):
    """ERROR or +CME ERROR to a command; ``code`` is the +CME code if the modem gave one."""

    def __init__(self, command: str, code: int | None = None, text: str = "ERROR") -> None:
        self.command, self.code = command, code
        super().__init__(f"{command}: {text}")


class SimNotReady(ModemError):
    """No SIM, a SIM that wants a PIN (or rejected ours), or one still starting."""


class SmsRejected(ModemError):
    """+CMS ERROR to AT+CMGS: this text was not sent. ``permanent``: sending it again cannot help."""

    # 3GPP TS 24.011 annex E / 27.005 §3.2.5 causes that concern the number or the message,
    # not the moment: unassigned number, barred, transfer rejected, unidentified or unknown
    # subscriber, facility rejected or not subscribed, invalid mandatory information,
    # invalid PDU parameter. Everything else (congestion, no service, SIM busy) may pass.
    PERMANENT = frozenset({1, 8, 10, 21, 28, 29, 30, 50, 96, 304})

    def __init__(self, code: int | None, text: str) -> None:
        self.code = code
        super().__init__(text)

    @property
    def permanent(self) -> bool:
        return self.code in self.PERMANENT


class SendUncertain(ModemError):
    """The PDU was handed to the modem but no result came back: it may have been sent."""


class SendCancelled(PaihaoError):
    """The text was cancelled (sms/cancel) after it was picked but before its PDU was written:
    the store said so when asked to record the attempt, so nothing went out."""
