"""A small AT command layer over a serial port (3GPP TS 27.007 / 27.005 framing).

One command at a time: write it, read lines until a final result (OK, ERROR,
+CME ERROR, +CMS ERROR). Unsolicited result codes (+CMTI, RDY, …) can arrive at
any moment, even between a command's lines; they are set aside in ``urcs`` for the
modem loop. Echoes of what we wrote are dropped, and so are lines of line noise
(bytes no modem sends), which are counted for the status topic.

Only the modem thread uses a channel. ``wake_fd`` is the read end of that thread's
wake-up pipe: ``next_urc`` returns early when it becomes readable, so a text queued
by the MQTT thread is sent without waiting for the next unsolicited line.
"""

from __future__ import annotations

import logging
import re
import select
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from firmware_bridge.errors import (
    AtTimeout, CommandError, ModemRebooted, PortUnavailable, SendUncertain, SmsRejected,
)

log = logging.getLogger(__name__)

URC_PREFIXES = ("+CMTI:", "+CDSI:", "+CMT:", "+CDS:", "+CIEV:", "+CFUN:", "+CPIN:", "+CREG:", "+CGREG:",
                "+CEREG:", "RDY", "Call Ready", "SMS Ready", "PB DONE", "NORMAL POWER DOWN",
                "UNDER-VOLTAGE", "OVER-VOLTAGE", "*PSUTTZ", "+CTZV:", "DST:")
REBOOT = "RDY"  # a modem that restarts says this first: whatever it was doing is lost
_ERROR = re.compile(r"^\+(CME|CMS) ERROR: *(.*)$")
_PRINTABLE = re.compile(r"^[\x20-\x7e]*$")
_DIGITS = re.compile(r"[0-9A-Fa-f]{7,}")


class SerialLike(Protocol):
    """What the channel needs of a port: pyserial's ``Serial`` opened with ``timeout=0``."""

    def fileno(self) -> int: ...
    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes) -> int | None: ...
    @property
    def in_waiting(self) -> int: ...
    def reset_input_buffer(self) -> None: ...
    def close(self) -> None: ...


class AtChannel:
    def __init__(self, port: SerialLike, *, wake_fd: int | None = None, timeout_s: float = 10.0,
                 on_noise: Callable[[str], None] = lambda line: None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.port = port
        self.timeout_s = timeout_s
        self.urcs: deque[str] = deque()
        self._wake_fd = wake_fd
        self._on_noise = on_noise
        self._monotonic = monotonic
        self._buffer = bytearray()

    # -- commands ------------------------------------------------------------------------------
    def command(self, command: str, timeout: float | None = None) -> list[str]:
        """Send ``command`` and return its information lines; raise on an error result."""
        self._write(command.encode("ascii") + b"\r")
        return self._collect(command, self.timeout_s if timeout is None else timeout)

    def send_pdu(self, length: int, pdu_hex: str, *, before_write: Callable[[], None],
                 timeout: float = 60.0) -> list[str]:
        """AT+CMGS in PDU mode: wait for the ``> `` prompt, call ``before_write``, send the PDU.

        Until the PDU is written, every failure means it was not sent. After, a +CMS ERROR
        still does (raised as SmsRejected); silence, a vanished port or a reboot do not tell,
        and raise SendUncertain. If ``before_write`` raises (the text was cancelled meanwhile),
        the PDU is never written: ESC leaves the prompt, and its exception goes on.
        """
        command = f"AT+CMGS={length}"
        self._write(command.encode("ascii") + b"\r")
        self._await_prompt(command)
        try:
            before_write()
        except BaseException:
            self._abandon(command)  # the modem must not sit at the prompt waiting for our PDU
            raise
        try:
            self._write(pdu_hex.encode("ascii") + b"\x1a")
            return self._collect(pdu_hex, timeout)
        except (AtTimeout, PortUnavailable, ModemRebooted) as exc:
            raise SendUncertain(f"no result after the PDU was written ({exc})") from exc

    def _abandon(self, command: str) -> None:
        """ESC at the ``> `` prompt: the modem quits the message without sending it (27.005, +CMGS)
        and answers OK. One that stays silent raises AtTimeout, as after any silent command, and
        is started afresh: nothing was sent either way."""
        self._write(b"\x1b")
        self._collect(f"{command} <ESC>", self.timeout_s)

    def next_urc(self, timeout: float) -> str | None:
        """The next unsolicited line, or None after ``timeout`` or a wake-up."""
        if self.urcs:
            return self.urcs.popleft()
        deadline = self._monotonic() + timeout
        while True:
            line = self._next_line(deadline, wakeable=True)
            if line is None:
                return None
            if is_noise(line):
                self._noise(line)
            elif is_urc(line, ""):
                return line
            else:
                log.debug("ignored a line outside any command: %r", scrub(line))

    def close(self) -> None:
        try:
            self.port.close()
        except OSError:
            pass

    # -- lines -----------------------------------------------------------------------------------
    def _collect(self, echo: str, timeout: float) -> list[str]:
        name = _name(echo)
        deadline = self._monotonic() + timeout
        info: list[str] = []
        while True:
            line = self._next_line(deadline)
            if line is None:
                raise AtTimeout(f"{name}: no answer within {timeout:g} s")
            if line == echo or line.rstrip("\x1a") == echo:
                continue  # the modem's echo (echo is on until ATE0, and again after a restart)
            if _final(line, name):
                return info
            if not self._aside(line, echo):
                info.append(line)

    def _await_prompt(self, command: str) -> None:
        deadline = self._monotonic() + self.timeout_s
        while True:
            line = self._next_line(deadline, prompt=True)
            if line is None:
                raise AtTimeout(f"{command}: no prompt within {self.timeout_s:g} s")
            if line == ">":
                return
            if line == command:
                continue
            if _final(line, command):
                raise CommandError(command, None, "OK instead of the PDU prompt")
            if not self._aside(line, command):
                log.debug("ignored a line before the PDU prompt: %r", scrub(line))

    def _aside(self, line: str, command: str) -> bool:
        """Set noise and unsolicited lines aside; True if ``line`` was one. A restart ends the command."""
        if is_noise(line):
            self._noise(line)
            return True
        if not is_urc(line, command):
            return False
        if line.startswith(REBOOT):
            raise ModemRebooted(f"{_name(command)}: the modem restarted")
        self.urcs.append(line)
        return True

    def _next_line(self, deadline: float, *, prompt: bool = False, wakeable: bool = False) -> str | None:
        """One line without its CR LF; ``>`` for the PDU prompt; None at the deadline or a wake-up."""
        while True:
            while self._buffer[:1] in (b"\r", b"\n"):
                del self._buffer[0]
            if prompt and self._buffer[:1] == b">":
                del self._buffer[:2 if self._buffer[1:2] == b" " else 1]
                return ">"
            end = self._buffer.find(b"\n")
            if end >= 0:
                raw = bytes(self._buffer[:end])
                del self._buffer[:end + 1]
                return raw.decode("latin-1").strip("\r")
            if not self._fill(deadline, wakeable):
                return None

    def _fill(self, deadline: float, wakeable: bool) -> bool:
        remaining = deadline - self._monotonic()
        if remaining <= 0:
            return False
        fds = [self.port.fileno()] + ([self._wake_fd] if wakeable and self._wake_fd is not None else [])
        try:
            ready, _, _ = select.select(fds, [], [], remaining)
            if self._wake_fd in ready and wakeable:
                return False  # the owner of the pipe drains it
            if ready:
                self._buffer += self.port.read(max(1, self.port.in_waiting))
        except (OSError, ValueError) as exc:  # pyserial's SerialException is an OSError
            raise PortUnavailable(f"the modem's port failed: {exc}") from exc
        return True

    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
        except (OSError, ValueError) as exc:
            raise PortUnavailable(f"cannot write to the modem's port: {exc}") from exc

    def _noise(self, line: str) -> None:
        log.debug("line noise from the modem: %r", scrub(line))
        self._on_noise(line)


def is_urc(line: str, command: str) -> bool:
    """An unsolicited line — unless it is the answer to the command just sent (AT+CPIN? gets +CPIN:)."""
    if not line.startswith(URC_PREFIXES):
        return False
    prefix = line.split(":", 1)[0]
    return not (prefix.startswith("+") and command.upper().startswith("AT" + prefix))


def is_noise(line: str) -> bool:
    """Bytes a modem never sends in a line: control characters, or anything beyond ASCII."""
    return not _PRINTABLE.match(line)


def _final(line: str, command: str) -> bool:
    """True for OK; raise for an error result; False for any other line."""
    if line == "OK":
        return True
    if line == "ERROR":
        raise CommandError(command)
    if match := _ERROR.match(line):
        code = int(match.group(2)) if match.group(2).isdigit() else None
        if match.group(1) == "CMS":
            raise SmsRejected(code, f"{command}: {line}")
        raise CommandError(command, code, line)
    return False


def _name(echo: str) -> str:
    """How a command appears in errors, logs and the status: never a PDU (it holds the number), never the PIN."""
    if echo.upper().startswith("AT+CPIN="):
        return "AT+CPIN=<PIN>"
    return "AT+CMGS <PDU>" if len(echo) > 24 and not echo.startswith("AT") else echo


def scrub(line: str) -> str:
    """A modem's line fit for a debug log: at most 40 characters, long digit runs (numbers, PDUs) hidden."""
    return _DIGITS.sub("…", line[:40])
