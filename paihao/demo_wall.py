"""The demo's LED wall in a window of its own, when the demo has a screen.

pygame gives a process one window and the demo's kiosk has it, so the wall runs
in a child process: the real display code, on the demo's broker, with the hall's
sped-up clock (a wall on real time would take the demo's calls for old ones).

    python -m paihao.demo_wall CONFIG.json SPEED HALL_TIME
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from paihao.config import HallConfig

log = logging.getLogger(__name__)


def start_wall_window(config: HallConfig, clock: Callable[[], datetime]) -> subprocess.Popen:
    """Start the wall's process; ``clock`` is the hall's (a SpeedClock), handed over as speed and time."""
    folder = Path(tempfile.mkdtemp(prefix="paihao-demo-wall-"))
    (folder / "config.json").write_text(config.model_dump_json(), encoding="utf-8")
    speed = getattr(clock, "speed", 1.0)
    return subprocess.Popen([sys.executable, "-m", "paihao.demo_wall", str(folder / "config.json"), str(speed),
                             clock().isoformat()])


def stop_wall_window(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main(argv: Sequence[str] | None = None) -> int:
    from display.app import DisplayApp
    from display.demo import demo_display_config
    from paihao.demo import SpeedClock

    config_file, speed, hall_time = argv if argv is not None else sys.argv[1:]
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = demo_display_config(HallConfig.model_validate_json(Path(config_file).read_text(encoding="utf-8")))
    clock = SpeedClock(float(speed), start=datetime.fromisoformat(hall_time))
    state = Path(config_file).parent / "state.json"  # a fresh day each demo
    app = DisplayApp(config, config.displays[0].id, windowed=True, now=clock, state_path=state)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        app.start()
        app.run(stop)
    finally:
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
