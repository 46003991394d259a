"""``paihao caller`` as a clerk or a technician runs it: the terminal soft-pad in a real
pseudo-terminal, and the clear errors of a command that cannot be run as typed."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from paihao.cli import main

ROOT = Path(__file__).parents[2]
FRAME = "\x1b[H\x1b[J"  # the panel redraws in place: home, clear


class Terminal:
    """``paihao caller --tty`` on the slave side of a pseudo-terminal; the test types on
    the master side and reads what is drawn."""

    def __init__(self, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen([sys.executable, "-m", "paihao.cli", "caller", *args], cwd=ROOT,
                                        stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
        self.output = ""

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def wait_for(self, predicate, timeout: float = 10.0) -> str:
        """The newest whole frame once it satisfies ``predicate``; waits on the terminal's output."""
        deadline = time.monotonic() + timeout
        while True:
            frames = self.output.replace("\r\n", "\n").split(FRAME)
            if len(frames) > 2 and predicate(frames[-2]):
                return frames[-2]  # the last complete one (the newest may still be arriving)
            if len(frames) > 1 and frames[-1].endswith("leaves it\n") and predicate(frames[-1]):
                return frames[-1]
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.master], [], [], remaining)[0]:
                raise AssertionError(f"the terminal never showed it; last:\n{frames[-1]}")
            try:
                self.output += os.read(self.master, 65536).decode("utf-8", "replace")
            except OSError:  # the process ended and closed the terminal
                raise AssertionError(f"the terminal closed; last:\n{frames[-1]}") from None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        os.close(self.master)


def test_the_terminal_pad_in_a_real_terminal(hall, peer, hall_config, tmp_path):
    assert peer.ticket(dept="05", item="0501")["ok"]
    config = tmp_path / "hall.toml"
    terminal = Terminal("--config", str(config), "--tty", "--window", "3")
    try:
        # Heard the hall: window 3 closed, one citizen waiting for it.
        first = terminal.wait_for(lambda f: "|Log in: id Enter|\n |Wait 1          |" in f)
        assert " window 3   green --  amber --  red --" in first
        assert "*1 id Enter login" in first and "Tab" not in first  # one window: nothing to Tab to
        assert all(len(line) <= 80 for line in first.splitlines())
        attrs = termios.tcgetattr(terminal.master)
        assert not attrs[3] & (termios.ICANON | termios.ECHO)  # keys one by one, not echoed over the panel
        terminal.type("3\r")  # clerk c03: nobody is logged in, so digits log in
        terminal.wait_for(lambda f: re.search(r"\|Wait 1 +c03\|", f) is not None)
        terminal.type("+")
        serving = terminal.wait_for(lambda f: "|05001 " in f)
        assert "green ON  amber --  red --   beep" in serving
        assert "\a" in terminal.output  # the terminal's bell is the buzzer
        status = peer.heard.latest(peer.topics.device_status("callers", "tty-3"))
        assert status["online"] is True and status["windows"] == ["3"]
        terminal.process.send_signal(signal.SIGINT)  # Ctrl-C
        assert terminal.process.wait(10) == 0
        attrs = termios.tcgetattr(terminal.master)
        assert attrs[3] & termios.ICANON and attrs[3] & termios.ECHO  # the terminal is given back as it was
        offline = peer.heard.wait_for(lambda m: m.topic.endswith("/callers/tty-3/status") and b'"online":false'
                                      in m.payload)
        assert json.loads(offline.payload)["windows"] == ["3"]
    finally:
        terminal.close()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paihao.cli", "caller", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=30, check=False)


def two_pads(tmp_path: Path) -> Path:
    path = tmp_path / "hall.toml"
    path.write_text(path.read_text(encoding="utf-8") + '\n[[callers]]\nid = "q1"\n[[callers.windows]]\n'
                    'window = "1"\n', encoding="utf-8")
    return path


def test_several_pads_and_no_id_is_a_clear_error(hall_config, tmp_path):
    result = run_cli("--config", str(two_pads(tmp_path)))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == ("paihao: the config has 2 call-pads in [[callers]] (p1, q1): say which one this Pi "
                             "runs with --id ID, or run a soft-pad with --tty --window W\n")


@pytest.mark.parametrize("args, message", [
    (["--id", "zz"], "paihao: no caller 'zz' in the config's [[callers]] (known: p1)\n"),
    (["--window", "3"], ("paihao: --window goes with --tty (a soft-pad in this terminal); a Pi's pad is chosen "
                         "with --id\n")),
    (["--tty", "--window", "9"], "paihao: no window '9' in the config's [[windows]]\n"),
    (["--tty", "--id", "p1", "--window", "3"], "paihao: pad p1 serves windows 2, 5, not 3\n"),
])
def test_a_command_that_cannot_be_run_says_why(hall_config, tmp_path, args, message):
    result = run_cli("--config", str(tmp_path / "hall.toml"), *args)
    assert (result.returncode, result.stderr) == (2, message)


def test_a_keypad_without_python_evdev_says_what_to_install(hall_config, tmp_path, monkeypatch, capsys):
    """A laptop, or a Pi whose virtual environment cannot see Debian's python3-evdev."""
    monkeypatch.setitem(sys.modules, "evdev", None)  # import evdev fails, installed or not
    path = tmp_path / "hall.toml"
    path.write_text(path.read_text(encoding="utf-8") + '\n[[callers]]\nid = "q1"\n[[callers.windows]]\n'
                    'window = "1"\nkeypad = "/dev/input/by-id/usb-keypad-event-kbd"\n', encoding="utf-8")
    assert main(["caller", "--config", str(path), "--id", "q1"]) == 2
    assert capsys.readouterr().err == (
        "paihao: window 1: keypad = '/dev/input/by-id/usb-keypad-event-kbd' needs python-evdev, which is not "
        "installed. On a Pi: sudo apt install python3-evdev, in a virtual environment made with "
        '--system-site-packages (docs/config.md, "On a Raspberry Pi"). On a laptop: keypad = "fake", or '
        "paihao caller --tty\n")


def test_an_lcd_without_rplcd_says_what_to_install(hall_config, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "RPLCD.i2c", None)
    path = tmp_path / "hall.toml"
    path.write_text(path.read_text(encoding="utf-8") + '\n[[callers]]\nid = "q1"\n[[callers.windows]]\n'
                    'window = "1"\nlcd = { address = 0x27 }\n', encoding="utf-8")
    assert main(["caller", "--config", str(path), "--id", "q1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("paihao: window 1: lcd needs RPLCD and smbus2 (")
    assert err.endswith("pip install 'paihao[caller]' (docs/config.md, \"On a Raspberry Pi\"); on a laptop: "
                        "lcd = { type = \"fake\" }, or paihao caller --tty\n")


def pins_without_mock(tmp_path: Path) -> Path:
    path = tmp_path / "hall.toml"
    path.write_text(path.read_text(encoding="utf-8") + '\n[[callers]]\nid = "q1"\n[[callers.windows]]\n'
                    'window = "1"\npins = { next = 5 }\nleds = { green = 17 }\n', encoding="utf-8")
    return path


def test_pins_on_a_laptop_say_how_to_run_there(hall_config, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "GPIOZERO_PIN_FACTORY"}
    result = subprocess.run([sys.executable, "-m", "paihao.cli", "caller", "--config", str(pins_without_mock(tmp_path)),
                             "--id", "q1"], cwd=ROOT, capture_output=True, text=True, timeout=30, env=env,
                            check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("paihao: window 1: the GPIO pins cannot be used (")
    assert result.stderr.endswith('On a Pi: sudo apt install python3-lgpio, in a virtual environment made with '
                                  '--system-site-packages (docs/config.md, "On a Raspberry Pi"). On a laptop: '
                                  'gpio = "mock" or GPIOZERO_PIN_FACTORY=mock, or paihao caller --tty\n')


def test_gpiozero_pin_factory_mock_runs_a_pad_on_a_laptop(hall_config, peer, tmp_path):
    topic = peer.topics.device_status("callers", "q1")
    process = subprocess.Popen([sys.executable, "-m", "paihao.cli", "caller", "--config",
                                str(pins_without_mock(tmp_path)), "--id", "q1"], cwd=ROOT,
                               env={**os.environ, "GPIOZERO_PIN_FACTORY": "mock"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        status = json.loads(peer.heard.wait_for(lambda m: m.topic == topic, timeout=20).payload)
        assert status == {"online": True, "windows": ["1"], "faults": [], "last_error": None}
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert b"Error" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
