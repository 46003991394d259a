"""Benchmark of the call-pad.

    .venv/bin/python bench/caller.py [--presses 300]

The real call-pad (gpiozero's mock pins, the fake keypad) against a private
mosquitto and the real ``paihao hall`` on config/rongchang.toml. Prints:

- the floor: a bare bus round trip of the same window commands (next, then
  complete, alternately) from a plain bus client, measured in the same run;
- a button pressed on a mock pin -> the controller's reply handled -> the
  green LED set, p50/p99 over N presses (next and complete alternately, so
  the LED changes every time), and its ratio to the floor.

Target (issue 4): under 20 ms p99 on a developer machine.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.hall_rtt import line, start_hall, wait_online  # noqa: E402
from bus.broker import LocalBroker  # noqa: E402
from bus.client import BusClient  # noqa: E402
from bus.topics import Topics  # noqa: E402
from caller.app import CallerApp  # noqa: E402
from caller.flow import PadView  # noqa: E402
from paihao.config import load_config  # noqa: E402
from paihao.device_config import CallerPad, PadButtons, PadLeds, PadWindow  # noqa: E402

CONFIG = ROOT / "config" / "rongchang.toml"
TARGET_P99_MS = 20.0


def tickets(bus: BusClient, topics: Topics, dept: str, item: str, n: int) -> None:
    for k in range(n):
        reply = bus.request(topics.kiosk_request("k1"), {"request_id": uuid.uuid4().hex, "action": "ticket",
                                                        "dept": dept, "item": item, "phone": f"139{k:08d}"}, timeout=5)
        assert reply["ok"], reply


def floor(bus: BusClient, topics: Topics, window: str, n: int) -> list[float]:
    """Bare round trips of next/complete from a plain client: what no pad can beat."""
    samples = []
    for action in itertools.islice(itertools.cycle(("next", "complete")), n):
        start = time.perf_counter()
        reply = bus.request(topics.window_command(window), {"request_id": uuid.uuid4().hex, "action": action}, timeout=5)
        samples.append(time.perf_counter() - start)
        assert reply["ok"], reply
    return samples


def pad_presses(app: CallerApp, window: str, n: int) -> list[float]:
    pad, leds = app.pads[window], app.leds[window]
    changed = threading.Event()
    stamps: list[float] = []
    show = leds.show

    def timed_show(view: PadView) -> None:
        before = leds.lit["green"]
        show(view)
        if leds.lit["green"] != before:  # the LED was set just now
            stamps.append(time.perf_counter())
            changed.set()

    leds.show = timed_show  # type: ignore[method-assign]
    pins = {"next": app.pin_factory.pin(5), "complete": app.pin_factory.pin(19)}
    samples = []
    for action in itertools.islice(itertools.cycle(("next", "complete")), n):
        changed.clear()
        pad.idle.wait(5)
        start = time.perf_counter()
        pins[action].drive_low()  # complete acts when pressed,
        pins[action].drive_high()  # next when released (held, it would be a transfer)
        if not changed.wait(5):
            raise SystemExit(f"{action}: the LED did not change ({pad.flow.error})")
        samples.append(stamps[-1] - start)
    pad.idle.wait(5)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presses", type=int, default=300)
    args = parser.parse_args()
    n = args.presses + args.presses % 2
    with LocalBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        hall = start_hall(broker.port, Path(tmp), True)
        config = load_config(CONFIG, mqtt={"host": "127.0.0.1", "port": broker.port}, storage={"db": f"{tmp}/hall.db"})
        topics = Topics(config.site.id)
        try:
            wait_online(broker.port, topics)
            window_a, window_b = "1", "2"  # both serve department 05
            item = next(i.code for i in config.items if i.dept == "05")
            bus = BusClient("bench-caller", "127.0.0.1", broker.port, reply_topic=topics.replies("bench-caller"))
            bus.start()
            tickets(bus, topics, "05", item, n)
            login = {"request_id": uuid.uuid4().hex, "action": "login", "clerk": "c002"}
            assert bus.request(topics.window_command(window_b), login, timeout=5)["ok"]
            floor_samples = floor(bus, topics, window_b, n)
            bus.stop()
            pad = CallerPad(id="bench", gpio="mock", state_file=f"{tmp}/caller-bench.json", windows=[PadWindow(
                window=window_a, pins=PadButtons(next=5, complete=19), leds=PadLeds(green=17, red=22),
                keypad="fake")])
            ticks = itertools.count()
            # A bench presses faster than any clerk: its clock says the presses are a second apart.
            app = CallerApp(config, pad, monotonic=lambda: float(next(ticks))).start()
            try:
                view = app.pads[window_a]
                if not view.wait_for(lambda f: f.offline is None and f.state is not None, 10):
                    raise SystemExit("the pad did not hear the hall")
                app.keypad(window_a).type("1", "enter")  # clerk c001
                if not view.wait_for(lambda f: bool(f.state and f.state.get("clerk") == "c001"), 5):
                    raise SystemExit(f"login failed: {view.flow.error}")
                view.idle.wait(5)
                samples = pad_presses(app, window_a, n)
            finally:
                app.close()
            floor_ms = line("floor: bare next/complete round trip", floor_samples)
            line("press -> reply handled -> LED set", samples, floor_ms)
            p99 = sorted(samples)[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000
            print(f"{'target p99 < 20 ms':<44} {'met' if p99 < TARGET_P99_MS else 'NOT MET'} "
                  f"(p99 {p99:.3f} ms, ratio to target {p99 / TARGET_P99_MS:.2f})", flush=True)
        finally:
            hall.terminate()
            hall.wait(10)


if __name__ == "__main__":
    main()
