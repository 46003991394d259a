"""``paihao demo``: a whole hall on one machine, until Ctrl-C.

A private mosquitto on a free port, the real controller on the given config
(its database in a fresh temporary folder), and simulated citizens and
clerks. The hall's clock runs ``speed`` times faster so that late services,
and their yellow and red cards, show up within minutes. Every line printed
comes from an event on the bus, as any screen would see it.
"""

from __future__ import annotations

import json
import logging
import random
import signal
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bus.broker import LocalBroker
from bus.client import BusClient, Message
from bus.topics import Topics
from hall.service import HallService
from paihao.config import HallConfig, Mqtt, Storage, load_config
from caller.simulated import simulated_clerks
from display.demo import start_demo_display
from paihao.demo_kiosk import start_demo_kiosk
from paihao.demo_sms import demo_sms
from paihao.demo_wall import start_wall_window, stop_wall_window
from paihao.simulator import Simulator

log = logging.getLogger(__name__)


class SpeedClock:
    """The hall's time, running ``speed`` times faster than the wall clock from now on."""

    def __init__(self, speed: float, start: datetime | None = None) -> None:
        self.speed = speed
        self._start = start or datetime.now(timezone.utc)
        self._mono = time.monotonic()

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._mono) * self.speed)


class EventPrinter:
    """One readable line per event, Chinese first, as the hall wall would say it."""

    LABELS = {
        "ticket_issued": "取号 ticket ", "called": "叫号 call   ", "recalled": "重呼 recall ",
        "skipped": "过号 no-show", "requeued": "重排 requeue", "completed": "办结 done   ",
        "accepted": "受理 accepted", "case_done": "办结 case   ", "transferred": "转办 transfer",
        "window_login": "登录 login  ", "window_logout": "退出 logout ",
        "window_paused": "暂停 pause  ", "window_resumed": "恢复 resume ",
    }

    def __init__(self, config: HallConfig) -> None:
        self.config = config
        self.lock = threading.Lock()

    def __call__(self, message: Message) -> None:
        event = json.loads(message.payload)
        text = self.describe(event)
        if text:
            with self.lock:
                print(f"{event['at'][11:19]}  {text}", flush=True)

    def describe(self, e: dict) -> str:
        kind = e["type"]
        window = self.config.window(e.get("window", "")) if e.get("window") else None
        where = f"{window.name or window.id + '号窗口'}" if window else ""
        if kind == "evaluated":
            rating = {"satisfied": "满意 satisfied", "basic": "基本满意 basic", "unsatisfied": "不满意 unsatisfied"}
            return f"评价 rated    {e['ticket']}  {where}  {rating.get(e['rating'], e['rating'])}  (SMS)"
        if kind == "complaint":
            return f"投诉 COMPLAINT {e['ticket']}  {where}  {e.get('phone', '')}  “{e.get('text', '')}”"
        if kind == "card":
            mark = "红牌 RED   " if e["level"] == "red" else "黄牌 YELLOW"
            return f"{mark}  {e.get('ticket') or e.get('case')}  {where}  {self._dept(e['dept'])}  超时 since {e['since'][11:19]}"
        label = self.LABELS.get(kind)
        if label is None:
            return ""
        if kind == "ticket_issued":
            item = self.config.item(e["item"])
            return f"{label}  {e['ticket']}  {self._dept(e['dept'])} · {item.name if item else e['item']}  {e['phone']}  前面 {e['ahead']} 人 ahead"
        if kind in ("called", "recalled"):
            return f"{label}  请 {e['ticket']} 号到 {where}  please go to window {e['window']}"
        if kind.startswith("window_"):
            return f"{label}  {where}  {e.get('clerk', '')}"
        return f"{label}  {e.get('ticket') or e.get('case', '')}  {where}"

    def _dept(self, code: str) -> str:
        dept = self.config.department(code)
        return f"{code} {dept.name}" if dept else code


def run_devices_until(config: HallConfig, output: Path, rng: random.Random, stop: threading.Event,
                      seconds: float, clock: SpeedClock) -> None:
    """The kiosk and the wall, in the main thread as SDL wants, until ``stop`` or ``seconds``."""
    kiosk, visitor = start_demo_kiosk(config, output / "kiosk", rng, clock)
    if kiosk.screenshots:
        print(f"no display: the kiosk's screens are written to {output}/kiosk/ (home.png, keypad.png, done.png, …)",
              flush=True)
        wall, wall_window = start_demo_display(config, output / "display", clock), None
        print(f"the hall's LED wall is written to {output}/display/wall1.png (refreshed on every call)", flush=True)
    else:  # a screen: the kiosk has this process's window, so the wall gets a process of its own
        wall, wall_window = None, start_wall_window(config, clock)
        print("the hall's LED wall is in a window of its own", flush=True)
    deadline = time.monotonic() + seconds if seconds else None
    frames = kiosk.pygame.time.Clock()
    try:
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            kiosk.step()
            visitor.step()
            if wall:
                wall.step()
            frames.tick(30)
    finally:
        if wall:
            wall.close()
        if wall_window:
            stop_wall_window(wall_window)
        kiosk.close()


def run_demo(config_path: str, *, speed: float = 30.0, seconds: float = 0, seed: int | None = None,
             output: str = "demo-output") -> int:
    base = load_config(config_path)
    workdir = Path(tempfile.mkdtemp(prefix="paihao-demo-"))
    devices_output = Path(output).resolve()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    for noisy in ("hall", "bus", "caller", "kiosk", "display", "firmware_bridge"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with LocalBroker() as broker:
        config = base.model_copy(
            update={"mqtt": Mqtt(host=broker.host, port=broker.port), "storage": Storage(db=str(workdir / "hall.db")),
                    "reports": base.reports.model_copy(update={"folder": str(workdir / "reports")})}
        )
        topics = Topics(config.site.id)
        print(f"paihao demo: {config.site.name}, {len(config.windows)} windows; broker 127.0.0.1:{broker.port}; "
              f"database {workdir / 'hall.db'}; hall clock x{speed:g}. Ctrl-C stops.", flush=True)
        hall_clock = SpeedClock(speed)
        service = HallService(config, clock=hall_clock)
        # The hall stops last: devices still finishing (a text reply in the bridge's hands,
        # a pad's last press) get their answer instead of waiting out a timeout.
        hall_stop = threading.Event()
        hall = threading.Thread(target=service.run, args=(hall_stop,), name="hall", daemon=True)
        hall.start()
        watcher = BusClient("paihao-demo", broker.host, broker.port, reply_topic=topics.replies("paihao-demo"))
        watcher.subscribe(f"{topics.root}/events/#", EventPrinter(config))
        watcher.start()
        rng = random.Random(seed)
        # Citizens at the kiosks come from the simulator; the clerks press real call-pads.
        simulator = Simulator(config, watcher, speed=speed, rng=rng, clerks=False)
        traffic = threading.Thread(target=simulator.run, args=(stop,), name="simulator", daemon=True)
        traffic.start()
        # Evaluation texts go out through the real bridge on the fake GSM modem; citizens answer.
        with demo_sms(config, workdir, random.Random(rng.random()), speed), \
                simulated_clerks(config, speed=speed, rng=random.Random(rng.random()), now=hall_clock):
            run_devices_until(config, devices_output, rng, stop, seconds, hall_clock)
            stop.set()
        traffic.join(10)
        hall_stop.set()
        service.wake()
        hall.join(10)
        watcher.stop()
        service.close()
    print(f"paihao demo stopped; the day's database is in {workdir}", flush=True)
    return 0
