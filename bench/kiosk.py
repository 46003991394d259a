"""Benchmark of the kiosk.

    .venv/bin/python bench/kiosk.py [--tickets 200]

The real kiosk (pygame on SDL's dummy driver, 1080x1920, the fake printer)
against a private mosquitto and the real ``paihao hall`` on
config/rongchang.toml. Prints:

- tap on "confirm" -> the ticket's bytes handed to the printer, p50/p99 over
  N tickets, and its ratio to the floor: the hall's bare ticket round trip,
  measured in the same run with a plain bus client;
- the frame time of every screen (draw + flip), p50/p99, against the 33 ms
  of a 30 fps frame;
- the kiosk process's resident memory.

Targets (issue 3): tap -> bytes under 150 ms p99; RSS under 80 MB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from bench.hall_rtt import start_hall, wait_online  # noqa: E402
from bus.broker import LocalBroker  # noqa: E402
from bus.client import BusClient  # noqa: E402
from bus.topics import Topics  # noqa: E402
from kiosk.app import KioskApp  # noqa: E402
from kiosk.printers import FakePrinter  # noqa: E402
from paihao.config import load_config  # noqa: E402
from paihao.device_config import FakePrinter as FakePrinterConfig  # noqa: E402
from paihao.pygame_env import without_pkg_resources  # noqa: E402

CONFIG = ROOT / "config" / "rongchang.toml"
FRAME_BUDGET_MS = 1000 / 30


class TimedPrinter(FakePrinter):
    """The fake printer, noting when each job's bytes arrive."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[float] = []

    def print(self, data: bytes) -> None:
        self.arrivals.append(time.perf_counter())
        super().print(data)


def line(name: str, samples_s: list[float], floor_ms: float, floor_name: str) -> None:
    ordered = sorted(samples_s)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(f"{name:<40} p50 {p50:8.2f} ms  p99 {p99:8.2f} ms  (n={len(ordered)})  "
          f"ratio to {floor_name} {p50 / floor_ms:.2f}", flush=True)


def tap(app: KioskApp, target: str) -> None:
    x, y, w, h = app.frame.targets[target]
    app.tap(x + w // 2, y + h // 2)
    app.step()


def bare_ticket_rtt(port: int, topics: Topics, n: int) -> list[float]:
    client = BusClient(f"bench-bare-{uuid.uuid4().hex[:6]}", "127.0.0.1", port, reply_topic=topics.replies("bench-bare"))
    client.start()
    samples = []
    for i in range(n):
        started = time.perf_counter()
        client.request(topics.kiosk_request("bench"), {"request_id": uuid.uuid4().hex, "action": "ticket",
                                                       "dept": "06", "item": "0601", "phone": f"137{i:08d}"})
        samples.append(time.perf_counter() - started)
    client.stop()
    return samples


def tickets(app: KioskApp, printer: TimedPrinter, n: int) -> list[float]:
    samples = []
    depts = [d.code for d in app.flow.config.departments]
    for i in range(n):
        dept = depts[i % len(depts)]
        item = next(it.code for it in app.flow.config.items if it.dept == dept)
        tap(app, f"dept:{dept}")
        tap(app, f"item:{item}")
        for digit in f"139{i:08d}":
            tap(app, f"key:{digit}")
        tap(app, "key:ok")
        jobs = len(printer.arrivals)
        started = time.perf_counter()
        tap(app, "confirm")
        while len(printer.arrivals) == jobs:
            app.flow.result_ready.wait(5)
        samples.append(printer.arrivals[-1] - started)
        while app.flow.screen != "done":
            app.step()
        tap(app, "home")
    return samples


def frames(app: KioskApp, repeats: int) -> None:
    """Draw each screen the kiosk has shown again and again, as a changed view would be."""
    flow = app.flow
    screens = {"home": lambda: None, "matters": lambda: setattr(flow, "dept", "02"),
               "keypad": lambda: setattr(flow, "digits", "1381234"), "confirm": lambda: None,
               "busy": lambda: None, "done": lambda: None}
    for screen, prepare in screens.items():
        prepare()
        flow.screen = screen
        view = flow.view()
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            app.renderer.draw(view)
            app.pygame.display.flip()
            samples.append(time.perf_counter() - started)
        line(f"frame: {screen}", samples, FRAME_BUDGET_MS, "30 fps frame")
    flow.screen = "home"


def standalone_kiosk_rss(tmp: Path, port: int) -> float:
    """The resident memory of a real ``paihao kiosk`` (headless) once it shows its home screen."""
    config = tmp / "kiosk.toml"
    text = (ROOT / "tests" / "hall.toml").read_text(encoding="utf-8").replace("port = 1883", f"port = {port}")
    config.write_text(text, encoding="utf-8")
    shots = tmp / "kiosk-shots"
    process = subprocess.Popen([sys.executable, "-m", "paihao.cli", "kiosk", "--config", str(config), "--id", "k1",
                                "--screenshots", str(shots)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (shots / "home.png").exists():  # a file appearing: nothing to wait on but the disk
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("the kiosk did not start")
            time.sleep(0.1)
        return psutil.Process(process.pid).memory_info().rss / 2**20
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=200)
    args = parser.parse_args()
    without_pkg_resources()  # as run_kiosk does
    base = load_config(CONFIG)
    kiosks = [k.model_copy(update={"printer": FakePrinterConfig(type="fake")}) for k in base.kiosks]
    with LocalBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        hall = start_hall(broker.port, Path(tmp), True)
        config = base.model_copy(update={"kiosks": kiosks, "mqtt": base.mqtt.model_copy(
            update={"host": "127.0.0.1", "port": broker.port})})
        topics = Topics(config.site.id)
        try:
            wait_online(broker.port, topics)
            floor = statistics.median(bare_ticket_rtt(broker.port, topics, 100)) * 1000
            printer = TimedPrinter()
            app = KioskApp(config, "k1", printer=printer, windowed=True)  # SDL's dummy driver, set above
            app.start()
            while not app.link.hall_online:
                app.changed.wait(5)
            app.step()
            line("tap confirm -> ticket bytes at printer", tickets(app, printer, args.tickets), floor,
                 "bare ticket round trip")
            frames(app, 100)
            rss = psutil.Process().memory_info().rss / 2**20
            print(f"{'RSS, this process (kiosk + bench)':<40} {rss:8.1f} MB  (target < 80 MB: ratio {rss / 80:.2f})",
                  flush=True)
            app.close()
            rss = standalone_kiosk_rss(Path(tmp), broker.port)
            print(f"{'RSS, a paihao kiosk process, started':<40} {rss:8.1f} MB  (target < 80 MB: ratio {rss / 80:.2f})",
                  flush=True)
        finally:
            hall.terminate()
            hall.wait(10)


if __name__ == "__main__":
    main()
