"""The README's first command: ``paihao demo`` runs a whole hall and shows it working."""

from __future__ import annotations

import os
import re
import subprocess
import sys
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
