"""The AT layer and the modem's start-up, over the fake modem's real pseudo-terminal."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest

from firmware_bridge import pdu
from firmware_bridge.at import AtChannel
from firmware_bridge.errors import (
    AtTimeout, CommandError, ModemRebooted, PortUnavailable, SendCancelled, SendUncertain, SimNotReady, SmsRejected,
)
from firmware_bridge.fake_modem import FakeModem
from firmware_bridge.modem import Modem
from tests.bridge.conftest import open_port

INIT = ["AT", "ATE0", "AT+CMEE=1", "AT+CPIN?", "AT+CMGF=0", 'AT+CPMS="SM","SM","SM"', "AT+CNMI=2,1,0,0,0",
        "AT+CSQ", "AT+CREG?", "AT+COPS?"]


@pytest.fixture
def channel(fake: FakeModem) -> Iterator[AtChannel]:
    noise: list[str] = []
    at = AtChannel(open_port(fake), timeout_s=1.0, on_noise=noise.append)
    at.noise = noise  # type: ignore[attr-defined]
    yield at
    at.close()


def test_a_command_gives_its_lines_without_the_echo(fake, channel):
    assert channel.command("ATI") == ["SIM800 R14.18"]  # echo is on: "ATI" came back first
    channel.command("ATE0")
    assert channel.command("AT+CSQ") == ["+CSQ: 20,0"]
    assert channel.noise == []


def test_unsolicited_lines_are_set_aside_but_a_commands_own_answer_is_not(fake, channel):
    channel.command("AT+CNMI=2,1,0,0,0")
    fake.deliver("13812345678", "1")  # +CMTI reaches the port before the next command
    assert channel.command("AT+CPIN?") == ["+CPIN: READY"]
    assert list(channel.urcs) == ['+CMTI: "SM",1']
    assert channel.next_urc(1.0) == '+CMTI: "SM",1'


def test_error_results_carry_their_codes(fake, channel):
    channel.command("AT+CMEE=1")
    fake.set_fault("no_sim")
    with pytest.raises(CommandError) as cme:
        channel.command("AT+CPIN?")
    assert cme.value.code == 10
    with pytest.raises(SmsRejected) as cms:
        channel.command("AT+CMGL=4")
    assert cms.value.code == 310 and not cms.value.permanent
    fake.set_fault("error")
    with pytest.raises(CommandError) as plain:
        channel.command("AT")
    assert plain.value.code is None


def test_a_silent_modem_is_a_timeout(fake, channel):
    fake.set_fault("offline")
    with pytest.raises(AtTimeout, match="AT: no answer within 1 s"):
        channel.command("AT")


def test_line_noise_is_dropped_and_counted(fake, channel):
    fake.set_fault("garbage")
    assert channel.command("AT+CSQ") == ["+CSQ: 20,0"]
    assert len(channel.noise) >= 1


def test_a_restart_in_the_middle_of_a_command_ends_it(fake, channel):
    fake.hold("AT+CSQ")
    threading.Thread(target=lambda: (fake.wait_for_command("AT+CSQ"), fake.reboot()), daemon=True).start()
    with pytest.raises(ModemRebooted):
        channel.command("AT+CSQ", timeout=10)


def test_a_pdu_is_written_after_the_prompt_and_the_callback(fake, channel):
    channel.command("AT+CMGF=0")
    [part] = pdu.encode_submit("+8613812345678", "您好")
    order: list[str] = []
    lines = channel.send_pdu(part.length, part.hex, before_write=lambda: order.append(str(len(fake.sent))))
    assert order == ["0"]  # called before the modem had the PDU
    assert lines == ["+CMGS: 1"]
    assert [s.sms.text for s in fake.sent] == ["您好"]


def test_a_refused_pdu_raises_with_the_networks_cause(fake, channel):
    channel.command("AT+CMEE=1")
    channel.command("AT+CMGF=0")
    fake.reject("+8613812345678", 21)
    [part] = pdu.encode_submit("+8613812345678", "您好")
    with pytest.raises(SmsRejected) as refused:
        channel.send_pdu(part.length, part.hex, before_write=lambda: None)
    assert refused.value.code == 21 and refused.value.permanent
    assert fake.sent == []


def test_silence_after_the_pdu_is_uncertain(fake, channel):
    channel.command("AT+CMGF=0")
    fake.hold("AT+CMGS")
    [part] = pdu.encode_submit("+8613812345678", "您好")
    with pytest.raises(SendUncertain):
        channel.send_pdu(part.length, part.hex, before_write=lambda: None, timeout=0.5)
    assert len(fake.sent) == 1  # the modem has it; nobody knows whether it went


def test_a_wake_up_ends_the_wait_for_unsolicited_lines(fake):
    read_fd, write_fd = os.pipe()
    at = AtChannel(open_port(fake), wake_fd=read_fd)
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(at.next_urc(60)))
    try:
        waiter.start()
        os.write(write_fd, b"x")
        waiter.join(10)
        assert not waiter.is_alive() and got == [None]
    finally:
        at.close()
        os.close(read_fd)
        os.close(write_fd)


def test_a_vanished_port_is_port_unavailable(fake, channel):
    fake.unplug()
    with pytest.raises(PortUnavailable):
        channel.command("AT")


# -- the modem's start-up --------------------------------------------------------------------------------

def modem_on(fake: FakeModem, pin: str | None = None) -> Modem:
    return Modem(lambda: open_port(fake), pin=pin, timeout_s=1.0)


def test_start_up_runs_the_init_sequence_and_learns_the_facts(fake):
    modem = modem_on(fake)
    try:
        modem.start()
        assert fake.commands == INIT
        facts = modem.facts
        assert (facts.sim, facts.registration, facts.signal_dbm, facts.operator) == ("ready", "home", -73, "CHINA MOBILE")
    finally:
        modem.close()


def test_a_modem_that_cannot_keep_texts_on_the_sim_starts_with_its_default_and_says_so(fake, caplog):
    fake.modem.memories = ("ME",)
    modem = modem_on(fake)
    try:
        modem.start()
        assert fake.commands == INIT and modem.facts.registration == "home"
        assert any("refused to keep texts on the SIM" in r.getMessage() for r in caplog.records)
    finally:
        modem.close()


def test_a_text_left_half_typed_by_a_crash_is_cancelled_not_sent(fake):
    port = open_port(fake)
    port.write(b"ATE0\rAT+CMGF=0\rAT+CMGS=23\r")  # a bridge that died at the prompt
    fake.wait_for_command("AT+CMGS=23")
    port.close()
    modem = modem_on(fake)
    try:
        modem.start()
        assert fake.sent == [] and modem.facts.registered
    finally:
        modem.close()


def test_a_modem_restarted_unnoticed_is_put_back_in_pdu_mode_before_a_send(fake):
    modem = modem_on(fake)
    try:
        modem.start()
        fake.reboot(announce=False)  # settings lost, and the RDY lost too
        [part] = pdu.encode_submit("+8613812345678", "您好")
        modem.send(part, before_write=lambda: None)
        assert fake.modem.text_mode_sends == [] and [s.sms.text for s in fake.sent] == ["您好"]
    finally:
        modem.close()


def test_a_send_refused_at_the_prompt_leaves_it_with_esc_and_writes_nothing(fake):
    modem = modem_on(fake)
    try:
        modem.start()
        [part] = pdu.encode_submit("+8613812345678", "您好")

        def cancelled_meanwhile() -> None:
            raise SendCancelled("cancelled before its PDU was written")

        with pytest.raises(SendCancelled):
            modem.send(part, before_write=cancelled_meanwhile)
        assert fake.sent == []
        modem.send(part, before_write=lambda: None)  # the modem is back at its commands: no restart needed
        assert [s.sms.text for s in fake.sent] == ["您好"]
    finally:
        modem.close()


def test_the_pin_is_given_once_and_never_again_after_the_sim_rejected_it():
    with FakeModem(pin="4321") as fake:
        modem = modem_on(fake, pin="4321")
        try:
            modem.start()
            assert modem.facts.sim == "ready" and 'AT+CPIN="4321"' in fake.commands
        finally:
            modem.close()
    with FakeModem(pin="4321") as fake:
        modem = modem_on(fake, pin="1111")
        try:
            with pytest.raises(SimNotReady, match="rejected") as rejected:
                modem.start()
            assert str(rejected.value.__context__) == "AT+CPIN=<PIN>: +CME ERROR: 16"  # not the PIN
            assert modem.facts.sim == "pin_rejected" and modem.pin_rejected
            with pytest.raises(SimNotReady, match="PIN"):
                modem.start()
            assert [c for c in fake.commands if c.startswith("AT+CPIN=")] == ['AT+CPIN="1111"']
        finally:
            modem.close()


def test_a_sim_that_wants_a_pin_we_do_not_have_is_reported():
    with FakeModem(pin="4321") as locked:
        modem = modem_on(locked)
        try:
            with pytest.raises(SimNotReady, match="set modem.pin"):
                modem.start()
            assert modem.facts.sim == "pin_required"
        finally:
            modem.close()
