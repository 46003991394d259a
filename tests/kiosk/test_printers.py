"""Ticket printers: the fake's faults, the file printer, and python-escpos printers that
cannot be opened, stay silent, or fail while sending."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable

import pytest
from escpos.printer import Dummy

from kiosk.escpos_printer import NetworkEscpos, paper_state
from kiosk.printers import (
    EscposPrinter,
    FakePrinter,
    FilePrinter,
    PrinterError,
    PrinterState,
    make_printer,
)
from paihao import device_config as cfg
from paihao.errors import PaihaoError

TICKET = b"\x1b@ticket 02015\n\x1dV\x00"


# --- the fake printer ------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault, state",
    [
        ("none", PrinterState.OK),
        ("paper_low", PrinterState.PAPER_LOW),
        ("paper_out", PrinterState.PAPER_OUT),
        ("offline", PrinterState.OFFLINE),
        ("fail_mid_job", PrinterState.OK),  # nobody can tell before the job starts
    ],
)
def test_fake_status_per_fault(fault, state):
    assert FakePrinter(fault).status() is state


@pytest.mark.parametrize("fault", ["offline", "paper_out"])
def test_fake_refuses_a_job_and_records_nothing(fault):
    printer = FakePrinter(fault)
    with pytest.raises(PrinterError) as raised:
        printer.print(TICKET)
    assert raised.value.state is PrinterState(fault)
    assert printer.jobs == [] and printer.partial == []


def test_fake_fails_mid_job_after_part_of_the_ticket():
    printer = FakePrinter("fail_mid_job")
    with pytest.raises(PrinterError) as raised:
        printer.print(TICKET)
    assert raised.value.state is PrinterState.OFFLINE
    assert printer.jobs == []
    assert printer.partial == [TICKET[: len(TICKET) // 2]]
    assert TICKET.startswith(printer.partial[0]) and printer.partial[0] != TICKET


def test_fake_with_paper_low_prints_and_says_so():
    printer = FakePrinter("paper_low")
    printer.print(TICKET)
    assert printer.jobs == [TICKET]
    assert printer.status() is PrinterState.PAPER_LOW


def test_fake_fault_changes_at_runtime():
    printer = FakePrinter()
    printer.print(b"one")
    printer.fault = "offline"
    assert printer.status() is PrinterState.OFFLINE
    with pytest.raises(PrinterError):
        printer.print(b"two")
    printer.fault = "none"
    printer.print(b"three")
    assert printer.jobs == [b"one", b"three"]


def test_fake_refuses_an_unknown_fault():
    with pytest.raises(ValueError, match="paper_jam"):
        FakePrinter().fault = "paper_jam"


def test_fake_is_thread_safe():
    printer = FakePrinter()
    start = threading.Barrier(5)
    refused = []

    def print_jobs(worker: int) -> None:
        start.wait()
        for n in range(200):
            try:
                printer.print(f"{worker}-{n}".encode())
            except PrinterError:
                refused.append(1)  # list.append is atomic

    def flip_faults() -> None:
        start.wait()
        for n in range(400):
            printer.fault = ("none", "paper_out")[n % 2]

    threads = [threading.Thread(target=print_jobs, args=(w,)) for w in range(4)]
    threads.append(threading.Thread(target=flip_faults))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(printer.jobs) + len(refused) == 800
    assert len(set(printer.jobs)) == len(printer.jobs)  # nothing printed twice


def test_printer_error_is_both_paihao_error_and_oserror():
    error = PrinterError(PrinterState.PAPER_OUT, "no paper")
    assert isinstance(error, PaihaoError) and isinstance(error, OSError)
    assert str(error) == "no paper" and error.state is PrinterState.PAPER_OUT


# --- the file printer ------------------------------------------------------------------


def test_file_printer_appends_each_ticket(tmp_path):
    printer = FilePrinter(tmp_path / "tickets.bin")
    assert printer.status() is PrinterState.OK
    printer.print(TICKET)
    printer.print(b"second")
    assert (tmp_path / "tickets.bin").read_bytes() == TICKET + b"second"


def test_file_printer_in_a_missing_directory_is_offline(tmp_path):
    printer = FilePrinter(tmp_path / "gone" / "tickets.bin")
    assert printer.status() is PrinterState.OFFLINE
    with pytest.raises(PrinterError) as raised:
        printer.print(TICKET)
    assert raised.value.state is PrinterState.OFFLINE


def test_file_printer_on_a_directory_is_offline(tmp_path):
    assert FilePrinter(tmp_path).status() is PrinterState.OFFLINE


# --- python-escpos printers --------------------------------------------------------------


def closed_port() -> int:
    """A local TCP port nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Counting:
    """A factory that remembers every escpos object it built."""

    def __init__(self, build: Callable[[], Dummy | NetworkEscpos]) -> None:
        self.build, self.made = build, []

    def __call__(self):
        self.made.append(self.build())
        return self.made[-1]


def test_unreachable_network_printer_is_offline_and_rebuilt_each_attempt():
    port = closed_port()
    factory = Counting(lambda: NetworkEscpos("127.0.0.1", port, timeout=0.5))
    printer = EscposPrinter(factory, f"network 127.0.0.1:{port}")
    assert factory.made == []  # nothing opened before it is used
    assert printer.status() is PrinterState.OFFLINE
    with pytest.raises(PrinterError) as raised:
        printer.print(TICKET)
    assert raised.value.state is PrinterState.OFFLINE
    assert len(factory.made) == 2 and factory.made[0] is not factory.made[1]


class ScriptedPrinter(Dummy):
    """A printer on the other end of a wire: answers status queries from a script
    (b"" = no answer, an exception = the read fails) and keeps what it was sent;
    a broken one fails every send."""

    def __init__(self, replies: list[bytes | Exception], broken: bool = False) -> None:
        super().__init__()
        self.replies, self.broken = replies, broken

    def _raw(self, msg: bytes) -> None:
        if self.broken:
            raise BrokenPipeError("the printer went away")
        super()._raw(msg)

    def _read(self) -> bytes:
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def scripted(*replies: bytes | Exception) -> tuple[EscposPrinter, Counting]:
    script = list(replies)
    factory = Counting(lambda: ScriptedPrinter(script))
    return EscposPrinter(factory, "scripted"), factory


@pytest.mark.parametrize(
    "reply, state",
    [
        (b"\x12", PrinterState.OK),
        (b"\x1e", PrinterState.PAPER_LOW),  # both near-end bits
        (b"\x16", PrinterState.PAPER_LOW),  # a printer with one near-end sensor
        (b"\x72", PrinterState.PAPER_OUT),
        (b"\x7e", PrinterState.PAPER_OUT),  # out wins over low
        (b"\x72\x12", PrinterState.OK),  # the newest byte counts
        (b"", None),  # no answer
        (b"\x00", None),  # not a status byte: the fixed bits are missing
        (b"\xff", None),
    ],
)
def test_paper_status_replies(reply, state):
    assert paper_state(reply) is state


def test_a_printer_that_never_answers_is_usable(caplog):
    printer, factory = scripted(b"", TimeoutError("read timed out"))
    with caplog.at_level(logging.WARNING, logger="kiosk.escpos_printer"):
        assert printer.status() is PrinterState.OK
        assert printer.status() is PrinterState.OK
    assert len([r for r in caplog.records if "does not answer" in r.getMessage()]) == 1
    printer.print(TICKET)
    assert factory.made[0].output.endswith(TICKET)
    assert len(factory.made) == 1  # the same open device throughout


def test_a_printer_that_answered_and_falls_silent_is_offline():
    printer, factory = scripted(b"\x12", b"", b"\x1e")
    assert printer.status() is PrinterState.OK
    assert printer.status() is PrinterState.OFFLINE
    assert printer.status() is PrinterState.PAPER_LOW  # back, on a new escpos object
    assert len(factory.made) == 2


def test_a_failed_status_query_makes_it_offline_then_reopens():
    printer, factory = scripted(ConnectionResetError("reset"), b"\x12")
    assert printer.status() is PrinterState.OFFLINE
    assert printer.status() is PrinterState.OK
    assert len(factory.made) == 2


def test_a_failed_send_raises_and_the_next_job_gets_a_new_device():
    factory = Counting(lambda: ScriptedPrinter([], broken=not factory.made))  # the first breaks
    printer = EscposPrinter(factory, "breaks")
    with pytest.raises(PrinterError) as raised:
        printer.print(TICKET)
    assert raised.value.state is PrinterState.OFFLINE
    printer.print(TICKET)
    assert len(factory.made) == 2 and factory.made[1].output == TICKET


# --- from config -----------------------------------------------------------------------


def test_make_printer_from_config(tmp_path):
    fake = make_printer(cfg.FakePrinter(type="fake", fault="paper_low"))
    assert isinstance(fake, FakePrinter) and fake.status() is PrinterState.PAPER_LOW
    file = make_printer(cfg.FilePrinter(type="file", path=str(tmp_path / "t.bin")))
    assert isinstance(file, FilePrinter) and file.status() is PrinterState.OK
    network = make_printer(cfg.NetworkPrinter(type="network", host="127.0.0.1", port=closed_port()))
    assert isinstance(network, EscposPrinter) and network.status() is PrinterState.OFFLINE


@pytest.mark.parametrize(
    "config",
    [
        cfg.UsbPrinter(type="usb", vendor_id=0xFFFE, product_id=0xFFFE),
        cfg.SerialPrinter(type="serial", device="/nonexistent/ttyUSB9"),
    ],
)
def test_usb_and_serial_printers_that_are_not_there_are_offline(config):
    # Offline whether or not pyusb/pyserial are installed: no such device either way.
    with make_printer(config) as printer:
        assert printer.status() is PrinterState.OFFLINE
        with pytest.raises(PrinterError):
            printer.print(TICKET)
