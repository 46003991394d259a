"""The real LCD driver down to the I2C bytes, the call-pad's config, and the demo's clerks."""

from __future__ import annotations

import random

import pytest

from caller.lcd import I2cLcd
from caller.simulated import simulated_clerks
from paihao.config import load_config
from paihao.errors import ConfigError
from tests.caller.conftest import events
from tests.test_config import RONGCHANG, SMALL

PCF8574_E = 0x04


class FakeSMBus:
    """smbus2's SMBus as RPLCD uses it with a PCF8574 backpack: bytes written, kept."""

    opened: list[FakeSMBus] = []

    def __init__(self, port: int) -> None:
        self.port, self.writes = port, []
        FakeSMBus.opened.append(self)

    def write_byte(self, address: int, value: int) -> None:
        self.writes.append((address, value))

    def close(self) -> None:
        pass


class Hd44780:
    """What a 16x2 HD44780 shows after the nibbles latched on each enable pulse (4-bit mode)."""

    def __init__(self) -> None:
        self.ram = {row * 0x40 + col: " " for row in range(2) for col in range(16)}
        self.address = 0

    def feed(self, writes: list[tuple[int, int]]) -> int:
        nibbles = [(value >> 4, value & 1) for _, value in writes if value & PCF8574_E]
        assert len(nibbles) % 2 == 0
        characters = 0
        for (high, rs), (low, _) in zip(nibbles[::2], nibbles[1::2], strict=True):
            byte = high << 4 | low
            if rs:
                self.ram[self.address] = chr(byte)
                self.address += 1
                characters += 1
            elif byte & 0x80:  # set DDRAM address
                self.address = byte & 0x7F
        return characters

    def lines(self) -> tuple[str, str]:
        return tuple("".join(self.ram[row * 0x40 + col] for col in range(16)) for row in range(2))


def test_the_i2c_lcd_writes_the_lines_and_only_what_changed(monkeypatch):
    import RPLCD.i2c

    monkeypatch.setattr(RPLCD.i2c, "SMBus", FakeSMBus)
    lcd = I2cLcd(0x27, port=1)
    bus = FakeSMBus.opened[-1]
    assert bus.port == 1 and {a for a, _ in bus.writes} == {0x27}
    bus.writes.clear()
    screen = Hd44780()
    lcd.write(("02001  00:00/10m", "Wait 3       c01"))
    assert screen.feed(bus.writes) == 22  # RPLCD skips the blanks already there
    assert screen.lines() == ("02001  00:00/10m", "Wait 3       c01")
    bus.writes.clear()
    lcd.write(("02001  00:01/10m", "Wait 3       c01"))  # the clock moved: one character goes out
    assert screen.feed(bus.writes) == 1
    assert screen.lines() == ("02001  00:01/10m", "Wait 3       c01")


def test_the_rongchang_hall_has_call_pads():
    config = load_config(RONGCHANG)
    assert config.callers and all(config.window(w.window) for pad in config.callers for w in pad.windows)
    assert config.caller(config.callers[0].id) is config.callers[0]


def _with_caller(text: str) -> str:
    return SMALL.read_text(encoding="utf-8") + text


@pytest.mark.parametrize("addition, message", [
    ('\n[[callers]]\nid = "q"\n[[callers.windows]]\nwindow = "9"\n', "callers: 'q' names unknown window '9'"),
    ('\n[[callers]]\nid = "q"\n[[callers.windows]]\nwindow = "2"\n', "callers: window '2' is on 'p1' and 'q'"),
    ('\n[[callers]]\nid = "p1"\n[[callers.windows]]\nwindow = "1"\n', "callers: 'p1' appears twice"),
    ('\n[[callers]]\nid = "q"\n[[callers.windows]]\nwindow = "1"\npins = { next = 5, skip = 5 }\n',
     "windows[0].pins.skip: 5 is already used by windows[0].pins.next"),
    ('\n[[callers]]\nid = "q"\n[[callers.windows]]\nwindow = "1"\npin = { next = 5 }\n',
     'callers[1].windows[0].pin: unknown key; did you mean "pins"?'),
    ('\n[[callers]]\nid = "q"\nhold_s = 0\n[[callers.windows]]\nwindow = "1"\n', "callers[1].hold_s"),
    ('\n[[callers]]\nid = "q"\n[[callers.windows]]\nwindow = "1"\nleds = { green = 40 }\n',
     "callers[1].windows[0].leds.green"),
])
def test_caller_config_mistakes_are_named(tmp_path, addition, message):
    path = tmp_path / "hall.toml"
    path.write_text(_with_caller(addition), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert message in str(caught.value)


def test_simulated_clerks_serve_through_the_real_pads(hall, peer, hall_config, clock):
    for n in range(6):
        assert peer.ticket(phone=f"1380000000{n}")["ok"]
    clerks = simulated_clerks(hall_config, speed=5000, rng=random.Random(7), now=clock, windows=["1", "2"])
    with clerks:
        done = {"completed", "accepted", "skipped"}
        peer.heard.wait_for(lambda m: m.topic.rsplit("/", 1)[-1] in done and m.topic.split("/")[-2] == "events"
                            and sum(len(events(peer, kind)) for kind in done) >= 4, timeout=20)
        assert {e["window"] for e in events(peer, "called")} <= {"1", "2"}
        pads = [clerks.apps[w].pads[w] for w in ("1", "2")]
        assert all(p.flow.state and p.flow.state["clerk"] for p in pads)
        assert all(p.presses > 1 for p in pads)  # through the mock buttons and the fake keypad
