"""The README's first command: ``paihao demo`` runs a whole hall and shows it working."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_runs_a_hall_with_tickets_calls_and_sms_ratings_and_stops_cleanly(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "paihao.cli", "demo", "--config", str(ROOT / "config/rongchang.toml"),
         "--speed", "120", "--seconds", "25", "--seed", "3", "--output", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")},  # PNGs, not windows
    )
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout
    assert "取号 ticket" in out and "叫号 call" in out and "办结 done" in out
    assert "评价 rated" in out  # an evaluation text went through the bridge and the fake modem, and was answered
    assert re.findall(r"1[3-9]\d{9}", out + run.stderr) == []  # every phone number masked
    assert "Traceback" not in run.stderr
    assert (tmp_path / "out/display/wall1.png").stat().st_size > 0
    assert (tmp_path / "out/kiosk/home.png").stat().st_size > 0


def test_ctrl_c_stops_the_demo_within_seconds(tmp_path):
    """Ctrl-C: the pads, the bridge and the citizens' phones stop side by side, the hall last."""
    demo = subprocess.Popen(
        [sys.executable, "-m", "paihao.cli", "demo", "--config", str(ROOT / "config/rongchang.toml"),
         "--speed", "120", "--seed", "5", "--output", str(tmp_path / "out")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")},
    )
    try:
        selector = selectors.DefaultSelector()
        selector.register(demo.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and selector.select(deadline - time.monotonic()):
            line = demo.stdout.readline()
            if "办结 done" in line or not line:
                break  # a whole service has gone through: clerks, pads and the bridge are all busy
        else:
            raise AssertionError("the demo completed no service within 60 s")
        asked = time.monotonic()
        demo.send_signal(signal.SIGINT)
        out, err = demo.communicate(timeout=60)
        took = time.monotonic() - asked
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait(10)
    assert demo.returncode == 0, err[-2000:]
    assert "paihao demo stopped" in out
    assert took < 6, f"Ctrl-C took {took:.1f} s to stop the demo"
    assert "Traceback" not in err
