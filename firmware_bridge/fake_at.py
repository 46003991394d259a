"""The fake modem's side of the AT dialogue: a SIM800-like modem without any I/O.

``feed(bytes)`` takes what the host wrote and returns what the modem answers. It keeps
what a real one keeps — echo, +CMEE, text or PDU mode, +CNMI, the messages on the SIM —
and loses all but the SIM on ``reboot()``, as a real one does (so a host that does not
notice the restart would send PDUs in text mode). Faults change its answers:

- ``offline``: it says nothing at all (powered off, or a cable loose);
- ``no_sim``: +CPIN answers +CME ERROR: 10, SMS commands +CMS ERROR: 310;
- ``no_signal``: +CSQ: 99,99, not registered, AT+CMGS answers +CMS ERROR: 331;
- ``error``: every command answers ERROR;
- ``garbage``: a line of line noise before every answer.

``hold(prefix)`` stalls the next command starting with ``prefix``: its effect and its
answer wait for ``release()`` (a test kills the host in between).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from firmware_bridge import pdu

FAULTS = ("none", "offline", "no_sim", "no_signal", "error", "garbage")
SIM_SLOTS = 30
BOOT_BANNER = ("RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready")
_STAT_NAMES = {0: "REC UNREAD", 1: "REC READ", 2: "STO UNSENT", 3: "STO SENT"}


@dataclass
class SentPdu:
    """A PDU the modem took for sending, decoded."""

    hex: str
    sms: pdu.Sms


SIM_SLOTS = 50  # messages a SIM holds


@dataclass
class _Settings:
    """What a restart resets."""

    echo: bool = True
    cmee: int = 0
    cmgf: int = 1  # text mode, as every modem starts
    cnmi: tuple[int, ...] = (0, 0, 0, 0, 0)
    cpms: tuple[str, ...] = ("SM", "ME", "SM")  # read, write, receive (this fake keeps every text on the SIM)


@dataclass
class _Held:
    prefix: str
    pending: list[tuple[str, str | None]] = field(default_factory=list)  # (command, answer if decided)


class SimulatedModem:
    def __init__(self, *, fault: str = "none", pin: str | None = None, operator: str = "CHINA MOBILE",
                 csq: int = 20, seed: int = 0) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")
        self.fault = fault
        self.pin, self.pin_attempts, self.unlocked = pin, 3, pin is None
        self.operator, self.csq = operator, csq
        self.settings = _Settings()
        self.sim: dict[int, tuple[int, str]] = {}  # index -> (stat, PDU hex)
        self.memories = ("SM", "ME")  # the message storages AT+CPMS takes; a test may take "SM" away
        self.sent: list[SentPdu] = []
        self.text_mode_sends: list[tuple[str, str]] = []  # AT+CMGS in text mode: (number, text)
        self.commands: list[str] = []
        self.rejections: dict[str, int] = {}  # number -> +CMS code
        self.fail_next: list[int | None] = []  # +CMS codes for the next sends (None: that one goes)
        self.holds: list[_Held] = []
        self._line = bytearray()
        self._pdu_length: int | None = None  # in PDU entry after AT+CMGS=<length>
        self._text_to: str | None = None  # in text entry after AT+CMGS="<number>" (text mode)
        self._mr = 0
        self._random = random.Random(seed)

    # -- the host's bytes ------------------------------------------------------------------------
    def feed(self, data: bytes) -> bytes:
        if self.fault == "offline":
            return b""
        out = bytearray()
        for byte in data:
            out += self._byte(byte)
        return bytes(out)

    def _byte(self, byte: int) -> bytes:
        echo = bytes([byte]) if self.settings.echo else b""
        if self._pdu_length is not None:
            if byte == 0x1A:
                return echo + self._submit(self._line.decode("latin-1"))
            if byte == 0x1B:  # ESC: the text is abandoned
                self._line.clear()
                self._pdu_length = None
                return echo + self._lines("OK")
            if byte not in (0x0D, 0x0A):
                self._line.append(byte)
            return echo
        if byte == 0x0D:
            command = self._line.decode("latin-1").strip()
            self._line.clear()
            return echo + (self._command(command) if command else b"")
        if byte not in (0x0A, 0x1B):
            self._line.append(byte)
        return echo

    def _command(self, command: str) -> bytes:
        self.commands.append(command)
        held = self._held(command)
        if held and not command.upper().startswith("AT+CMGS"):  # a send is held once its PDU is in
            held.pending.append((command, None))
            return b""
        return self._execute(command)

    def _held(self, command: str) -> _Held | None:
        return next((h for h in self.holds if command.upper().startswith(h.prefix)), None)

    def _execute(self, command: str) -> bytes:
        if self.fault == "error":
            return self._lines("ERROR")
        upper = command.upper()
        for prefix, handler in self._handlers():
            if upper.startswith(prefix):
                return handler(command[len(prefix):])
        return self._lines("ERROR")

    def _handlers(self):
        # Longest prefixes first: AT+CMGS before AT.
        return (("AT+CMGS=", self._cmgs), ("AT+CMGR=", self._cmgr), ("AT+CMGL=", self._cmgl),
                ("AT+CMGD=", self._cmgd), ("AT+CMGF", self._cmgf), ("AT+CNMI=", self._cnmi),
                ("AT+CPMS=", self._cpms),
                ("AT+CMEE=", self._cmee), ("AT+CPIN", self._cpin), ("AT+CSQ", self._csq),
                ("AT+CREG?", self._creg), ("AT+COPS?", self._cops), ("ATE", self._echo),
                ("ATI", lambda _: self._lines("SIM800 R14.18", "OK")), ("AT", self._at))

    # -- answers ---------------------------------------------------------------------------------
    def _lines(self, *lines: str) -> bytes:
        noise = b""
        if self.fault == "garbage":
            # \xff first: never a byte of a modem's line, so every such line is noise, not a reply
            noise = b"\r\n\xff" + bytes(self._random.choice(b"\x00\x07\x13\xfe~}|QZ") for _ in range(6)) + b"\r\n"
        return noise + b"".join(b"\r\n" + line.encode("latin-1") + b"\r\n" for line in lines)

    def _cme(self, code: int) -> bytes:
        return self._lines(f"+CME ERROR: {code}" if self.settings.cmee else "ERROR")

    def _cms(self, code: int) -> bytes:
        return self._lines(f"+CMS ERROR: {code}" if self.settings.cmee else "ERROR")

    def _at(self, rest: str) -> bytes:
        return self._lines("OK") if not rest else self._lines("ERROR")

    def _echo(self, rest: str) -> bytes:
        self.settings.echo = rest != "0"
        return self._lines("OK")

    def _cmee(self, rest: str) -> bytes:
        self.settings.cmee = int(rest) if rest in ("0", "1", "2") else self.settings.cmee
        return self._lines("OK")

    def _cmgf(self, rest: str) -> bytes:
        if rest == "?":
            return self._lines(f"+CMGF: {self.settings.cmgf}", "OK")
        if rest not in ("=0", "=1"):
            return self._lines("ERROR")
        self.settings.cmgf = int(rest[1])
        return self._lines("OK")

    def _cnmi(self, rest: str) -> bytes:
        try:
            self.settings.cnmi = tuple(int(x or 0) for x in rest.split(","))
        except ValueError:
            return self._lines("ERROR")
        return self._lines("OK")

    def _cpms(self, rest: str) -> bytes:
        memories = tuple(m.strip().strip('"').upper() for m in rest.split(","))
        if not 1 <= len(memories) <= 3 or any(m not in self.memories for m in memories):
            return self._cms(302)  # operation not allowed
        self.settings.cpms = memories + self.settings.cpms[len(memories):]
        used = len(self.sim)
        return self._lines(f"+CPMS: {used},{SIM_SLOTS},{used},{SIM_SLOTS},{used},{SIM_SLOTS}", "OK")

    def _cpin(self, rest: str) -> bytes:
        if self.fault == "no_sim":
            return self._cme(10)
        if rest == "?":
            state = "READY" if self.unlocked else ("SIM PIN" if self.pin_attempts else "SIM PUK")
            return self._lines(f"+CPIN: {state}", "OK")
        given = rest.lstrip("=").strip('"')
        if self.unlocked or not self.pin_attempts:
            return self._cme(3)  # operation not allowed
        if given != self.pin:
            self.pin_attempts -= 1
            return self._cme(16)  # incorrect password
        self.unlocked = True
        return self._lines("OK", "+CPIN: READY", "SMS Ready")

    def _registered(self) -> bool:
        return self.fault not in ("no_sim", "no_signal") and self.unlocked

    def _csq(self, rest: str) -> bytes:
        return self._lines("+CSQ: 99,99" if self.fault == "no_signal" else f"+CSQ: {self.csq},0", "OK")

    def _creg(self, rest: str) -> bytes:
        stat = 1 if self._registered() else (2 if self.fault == "no_signal" else 0)
        return self._lines(f"+CREG: 0,{stat}", "OK")

    def _cops(self, rest: str) -> bytes:
        return self._lines(f'+COPS: 0,0,"{self.operator}"' if self._registered() else "+COPS: 0", "OK")

    # -- SMS ------------------------------------------------------------------------------------
    def _sms_refusal(self) -> bytes | None:
        if self.fault == "no_sim":
            return self._cms(310)
        if not self.unlocked:
            return self._cms(311)
        return None

    def _cmgs(self, rest: str) -> bytes:
        if self.settings.cmgf == 1:  # text mode: AT+CMGS=23 is a text to the number "23"
            self._pdu_length, self._text_to = 0, rest.strip('"')
        elif rest.isdigit():
            self._pdu_length, self._text_to = int(rest), None
        else:
            return self._lines("ERROR")
        return b"\r\n> "

    def _submit(self, body: str) -> bytes:
        length, self._pdu_length = self._pdu_length, None
        self._line.clear()
        if self._text_to is not None:
            self.text_mode_sends.append((self._text_to, body))
            return self._sent_answer()
        answer = self._accept(body, length or 0)
        held = self._held("AT+CMGS")
        if held:  # the network has it; the answer waits
            held.pending.append(("AT+CMGS", answer.decode("latin-1")))
            return b""
        return answer

    def _accept(self, body: str, length: int) -> bytes:
        if refusal := self._sms_refusal():
            return refusal
        if not self._registered():
            return self._cms(331)  # no network service
        try:
            sms = pdu.decode(body)
            smsc_octets = int(body[:2], 16) + 1
        except (pdu.PduError, ValueError):
            return self._cms(304)
        if sms.kind != "submit" or len(body) // 2 - smsc_octets != length:
            return self._cms(304)
        if self.fail_next and (code := self.fail_next.pop(0)) is not None:
            return self._cms(code)
        if sms.number in self.rejections:
            return self._cms(self.rejections[sms.number])
        self.sent.append(SentPdu(body, sms))
        return self._sent_answer()

    def _sent_answer(self) -> bytes:
        self._mr = (self._mr + 1) % 256
        return self._lines(f"+CMGS: {self._mr}", "OK")

    def _cmgr(self, rest: str) -> bytes:
        if refusal := self._sms_refusal():
            return refusal
        if not rest.isdigit():
            return self._lines("ERROR")
        index = int(rest)
        if index not in self.sim:
            return self._lines("OK")  # an empty slot: SIM800 answers just OK
        stat, body = self.sim[index]
        self.sim[index] = (1 if stat == 0 else stat, body)
        return self._lines(self._header("+CMGR", None, stat, body), body, "OK")

    def _cmgl(self, rest: str) -> bytes:
        if refusal := self._sms_refusal():
            return refusal
        wanted = {"0": {0}, "1": {1}, "2": {2}, "3": {3}, "4": {0, 1, 2, 3}}
        if self.settings.cmgf == 1:
            wanted = {'"REC UNREAD"': {0}, '"REC READ"': {1}, '"ALL"': {0, 1, 2, 3}}
        if rest not in wanted:
            return self._lines("ERROR")
        lines: list[str] = []
        for index in sorted(self.sim):
            stat, body = self.sim[index]
            if stat in wanted[rest]:
                lines += [self._header("+CMGL", index, stat, body), body]
                self.sim[index] = (1 if stat == 0 else stat, body)
        return self._lines(*lines, "OK")

    def _header(self, name: str, index: int | None, stat: int, body: str) -> str:
        where = f"{index}," if index is not None else ""
        if self.settings.cmgf == 1:  # text mode shows the text instead: a PDU-mode host cannot read it
            return f'{name}: {where}"{_STAT_NAMES[stat]}","",""'
        return f"{name}: {where}{stat},,{len(body) // 2 - int(body[:2], 16) - 1}"

    def _cmgd(self, rest: str) -> bytes:
        if refusal := self._sms_refusal():
            return refusal
        parts = rest.split(",")
        if not parts[0].isdigit():
            return self._lines("ERROR")
        if len(parts) > 1 and parts[1] == "4":
            self.sim.clear()
        else:
            self.sim.pop(int(parts[0]), None)
        return self._lines("OK")

    # -- the test's control ------------------------------------------------------------------------
    def store(self, pdus: list[str]) -> list[int]:
        """Put received PDUs on the SIM (unread); return their indexes and the +CMTI lines due."""
        indexes = []
        for body in pdus:
            free = next((i for i in range(1, SIM_SLOTS + 1) if i not in self.sim), None)
            if free is None:
                raise OverflowError("the SIM is full")
            self.sim[free] = (0, body)
            indexes.append(free)
        return indexes

    def notifications(self, indexes: list[int]) -> bytes:
        """+CMTI for new messages, if the host asked for them (AT+CNMI=…,1) and the modem can speak."""
        if self.fault in ("offline", "no_sim") or len(self.settings.cnmi) < 2 or self.settings.cnmi[1] == 0:
            return b""
        return b"".join(self._lines(f'+CMTI: "SM",{i}') for i in indexes)

    def announce(self, line: str) -> bytes:
        """An unsolicited line, unless the modem is silent."""
        return b"" if self.fault == "offline" else self._lines(line)

    def deliver_pdus(self, phone: str, text: str, at: datetime, ref: int) -> list[str]:
        return pdu.encode_deliver(phone, text, at, ref=ref, smsc="+8613800230500")

    def reboot(self) -> bytes:
        """Restart: settings and any text being typed are lost, the SIM's messages stay."""
        self.settings = _Settings()
        self._line.clear()
        self._pdu_length = None
        self.holds = []  # what was held is forgotten, and nothing is held any more
        self.unlocked = self.pin is None
        return b"" if self.fault == "offline" else self._lines(*BOOT_BANNER)

    def hold(self, prefix: str) -> None:
        self.holds.append(_Held(prefix.upper()))

    def release(self, execute: bool = True) -> bytes:
        """Let held commands go on (their answers are returned), or forget them."""
        holds, self.holds = self.holds, []
        out = b""
        for held in holds:
            for command, answer in held.pending:
                if execute:  # a send was decided when its PDU came: only its answer waited
                    out += answer.encode("latin-1") if answer is not None else self._execute(command)
        return out
