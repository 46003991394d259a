"""A GSM modem (SIM800 / SIM7600 class) in PDU mode: start it, and send, read, list, delete.

``start()`` opens the port and runs the initialisation every time — at the first
start, after any fault, after the modem restarted (RDY): a restart forgets echo,
PDU mode and the new-message notifications, and a modem left in the middle of
AT+CMGS by a crashed bridge would take our next command for the text.

The facts it learns (SIM, registration, signal, operator) are for the status topic.
"""

from __future__ import annotations

import logging
import os
import re
import select
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from firmware_bridge.at import AtChannel, SerialLike
from firmware_bridge.errors import CommandError, PortUnavailable, SimNotReady, SmsRejected
from firmware_bridge.pdu import OutgoingPdu

log = logging.getLogger(__name__)

QUIET_S = 0.2  # a modem that has said nothing this long has finished what it was saying
QUIET_MAX_S = 2.0
NEW_MESSAGES = ("AT+CNMI=2,1,0,0,0", "AT+CNMI=1,1,0,0,0")  # the second for modems that refuse mode 2
REGISTRATION = {0: "not_registered", 1: "home", 2: "searching", 3: "denied", 4: "unknown", 5: "roaming"}
_CSQ = re.compile(r"^\+CSQ: *(\d+), *(\d+)")
_CREG = re.compile(r"^\+CREG: *\d+, *(\d+)")
_COPS = re.compile(r'^\+COPS: *\d+(?:, *\d+, *"([^"]*)")?')
_LISTED = re.compile(r"^\+CMG[LR]: *(?:(\d+), *)?(\d+), *[^,]*, *(\d+)")
_CMTI = re.compile(r'^\+CMTI: *"?[A-Z]*"?, *(\d+)')


@dataclass(frozen=True)
class ModemFacts:
    """What the status topic says about the modem."""

    port_open: bool = False
    sim: str = "unknown"  # ready, missing, pin_required, pin_rejected, puk_required, not_ready, unknown
    registration: str = "unknown"  # home, roaming, searching, denied, not_registered, unknown
    csq: int | None = None  # 0-31, None if unknown (99)
    operator: str | None = None

    @property
    def registered(self) -> bool:
        return self.registration in ("home", "roaming")

    @property
    def signal_dbm(self) -> int | None:
        return None if self.csq is None else -113 + 2 * self.csq


@dataclass(frozen=True)
class Listed:
    """One message on the SIM, as AT+CMGL or AT+CMGR gave it: stat 0 unread, 1 read, 2-3 outgoing."""

    index: int
    stat: int
    pdu: str


def new_message_index(urc: str) -> int | None:
    """The SIM index a ``+CMTI: "SM",3`` notification names."""
    match = _CMTI.match(urc)
    return int(match.group(1)) if match else None


class Modem:
    def __init__(self, opener: Callable[[], SerialLike], *, pin: str | None = None, wake_fd: int | None = None,
                 timeout_s: float = 10.0, send_timeout_s: float = 60.0,
                 on_noise: Callable[[str], None] = lambda line: None) -> None:
        self._opener, self._pin = opener, pin
        self._wake_fd, self._timeout_s, self._send_timeout_s = wake_fd, timeout_s, send_timeout_s
        self._on_noise = on_noise
        self.channel: AtChannel | None = None
        self.facts = ModemFacts()
        self.pin_rejected = False  # never offer a rejected PIN again: three tries lock the SIM

    # -- start and stop ------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the port if need be and initialise; raise a ModemError saying what is wrong."""
        if self.channel is None:
            try:
                port = self._opener()
            except (OSError, ValueError) as exc:  # pyserial's SerialException is an OSError
                self.facts = ModemFacts()
                raise PortUnavailable(f"cannot open the modem's port: {exc}") from exc
            self.channel = AtChannel(port, wake_fd=self._wake_fd, timeout_s=self._timeout_s,
                                     on_noise=self._on_noise)
            self.facts = replace(ModemFacts(), port_open=True)
        self._quiet()
        at = self.channel
        at.urcs.clear()  # a sweep follows: notifications from before are covered by it
        at.command("AT")
        at.command("ATE0")
        at.command("AT+CMEE=1")
        self._unlock_sim()
        at.command("AT+CMGF=0")
        self._use_the_sim()
        self._notify_new_messages()
        self.refresh()

    def close(self) -> None:
        if self.channel:
            self.channel.close()
        self.channel = None
        self.facts = ModemFacts()

    def _quiet(self) -> None:
        """Cancel a half-typed text (ESC), then let the modem finish talking and drop what it said."""
        port = self.channel.port
        try:
            port.write(b"\x1b")
            deadline = time.monotonic() + QUIET_MAX_S
            while time.monotonic() < deadline:
                ready, _, _ = select.select([port.fileno()], [], [], QUIET_S)
                if not ready:
                    break
                port.read(max(1, port.in_waiting))
            port.reset_input_buffer()
        except (OSError, ValueError) as exc:
            raise PortUnavailable(f"the modem's port failed: {exc}") from exc

    def _unlock_sim(self) -> None:
        state = self._sim_state()
        if state == "SIM PIN" and self._pin and not self.pin_rejected:
            try:
                self.channel.command(f'AT+CPIN="{self._pin}"')
            except CommandError as exc:
                if exc.code == 16:
                    self.pin_rejected = True
                    self._sim("pin_rejected", "the SIM rejected the configured PIN; not trying it again")
                raise
            state = self._sim_state()
        if state == "READY":
            self.facts = replace(self.facts, sim="ready")
            return
        if state == "SIM PIN":
            reason = "pin_rejected" if self.pin_rejected else "pin_required"
            self._sim(reason, "the SIM wants a PIN" + ("" if self._pin else ": set modem.pin in [[bridges]]"))
        if state == "SIM PUK":
            self._sim("puk_required", "the SIM is locked (PUK): unlock it in a phone")
        self._sim("not_ready", f"the SIM is not ready ({state})")

    def _sim_state(self) -> str:
        try:
            lines = self.channel.command("AT+CPIN?")
        except CommandError as exc:
            if exc.code == 10:
                self._sim("missing", "no SIM card in the modem")
            if exc.code in (13, 14):
                self._sim("not_ready", "the SIM is starting (busy)")
            raise
        return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("+CPIN:")), "")

    def _sim(self, state: str, message: str) -> None:
        self.facts = replace(self.facts, sim=state, registration="unknown", operator=None)
        raise SimNotReady(message)

    def _use_the_sim(self) -> None:
        """Read, write and receive texts on the SIM. A modem whose default files new texts in its
        own memory ("ME") would announce them there, where AT+CMGL on the SIM never looks."""
        try:
            self.channel.command('AT+CPMS="SM","SM","SM"')
        except (CommandError, SmsRejected) as exc:  # ERROR, +CME ERROR or +CMS ERROR
            log.warning("the modem refused to keep texts on the SIM (%s); using its default storage", exc)

    def _notify_new_messages(self) -> None:
        for command in NEW_MESSAGES:
            try:
                self.channel.command(command)
                return
            except CommandError:
                log.info("the modem refused %s", command)
        raise CommandError("AT+CNMI", None, "no new-message notification mode accepted")

    # -- the network -----------------------------------------------------------------------------------
    def refresh(self) -> ModemFacts:
        """Signal, registration and operator, as the modem sees them now."""
        at = self.channel
        csq = registration = operator = None
        for line in at.command("AT+CSQ"):
            if match := _CSQ.match(line):
                csq = int(match.group(1))
        for line in at.command("AT+CREG?"):
            if match := _CREG.match(line):
                registration = REGISTRATION.get(int(match.group(1)), "unknown")
        try:
            for line in at.command("AT+COPS?"):
                if match := _COPS.match(line):
                    operator = match.group(1) or None
        except CommandError:
            pass  # the operator's name is a nicety
        self.facts = replace(self.facts, csq=csq if csq is not None and csq <= 31 else None,
                             registration=registration or "unknown", operator=operator)
        return self.facts

    # -- messages --------------------------------------------------------------------------------------
    def send(self, part: OutgoingPdu, before_write: Callable[[], None]) -> int | None:
        """Send one PDU; return the network's message reference. PDU mode is set again first:
        a modem that restarted unnoticed would otherwise send the hex as a text."""
        self.channel.command("AT+CMGF=0")
        lines = self.channel.send_pdu(part.length, part.hex, before_write=before_write,
                                      timeout=self._send_timeout_s)
        reference = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("+CMGS:")), "")
        return int(reference) if reference.isdigit() else None

    def read(self, index: int) -> Listed | None:
        """The message at ``index``, or None if the slot is empty."""
        listed = _parse_listed(self.channel.command(f"AT+CMGR={index}"), index)
        return listed[0] if listed else None

    def list_all(self) -> list[Listed]:
        """Every message on the SIM (AT+CMGL=4: read, unread, and stored outgoing ones)."""
        return _parse_listed(self.channel.command("AT+CMGL=4", timeout=max(self._timeout_s, 30)), None)

    def delete(self, index: int) -> None:
        self.channel.command(f"AT+CMGD={index}")


def _parse_listed(lines: list[str], index: int | None) -> list[Listed]:
    """Header lines each followed by their PDU; a header whose PDU line is not hex is skipped."""
    found = []
    for header, body in zip(lines, lines[1:]):
        match = _LISTED.match(header)
        if not match or not re.fullmatch(r"[0-9A-Fa-f]+", body):
            continue
        found.append(Listed(int(match.group(1)) if match.group(1) else index, int(match.group(2)), body.upper()))
    return found


def wake_pipe() -> tuple[int, int]:
    """A pipe whose read end wakes the modem thread from ``AtChannel.next_urc``."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)
    return read_fd, write_fd

