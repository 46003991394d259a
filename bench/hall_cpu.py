"""The controller's CPU per acknowledged request: the figure that decides saturation.

    .venv/bin/python bench/hall_cpu.py [--requests 6000] [--profile FILE]

Wall-clock latency on a shared machine says as much about the neighbours as
about the controller; CPU seconds spent by the controller process over a
fixed number of requests do not. This drives the real ``paihao hall`` on a
private mosquitto with tickets from 20 clients in 2 processes, each keeping
4 requests in flight (or, with --rate, offering a steady rate), and prints CPU milliseconds per acknowledged request
for the controller, the broker and the load generator. With --profile the
controller runs under cProfile, timed by CPU time, and its breakdown is saved
to FILE (read it with ``python -m pstats FILE``; start and stop are in it too).
"""

from __future__ import annotations

import argparse
import multiprocessing
import select
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.hall_rtt import CONFIG, broker_pid, cpu_seconds, phone, wait_online  # noqa: E402
from bus.broker import LocalBroker  # noqa: E402
from bus.polled import PolledBusClient  # noqa: E402
from bus.topics import Topics  # noqa: E402
from paihao.config import load_config  # noqa: E402

# The controller under cProfile, timed by CPU time: wall time would count the
# waits in select() and for fsync, which cost the machine nothing.
PROFILED = """
import cProfile, sys, time
from paihao.cli import main
path, sys.argv = sys.argv[1], ["paihao", *sys.argv[2:]]
profiler = cProfile.Profile(time.process_time)
profiler.enable()
try:
    main()
finally:
    profiler.disable()
    profiler.dump_stats(path)
"""


def start_hall(port: int, directory: Path, profile: str | None) -> subprocess.Popen:
    config_path = directory / "hall.toml"
    config_path.write_text(CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    command = [sys.executable]
    command += ["-c", PROFILED, profile] if profile else ["-m", "paihao.cli"]
    command += ["hall", "--config", str(config_path),
                "--broker", f"127.0.0.1:{port}", "--db", str(directory / "hall.db")]
    log = open(directory / "hall.log", "ab")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    log.close()
    return process


def worker(port: int, site: str, number: int, clients: int, requests: int, inflight: int, rate: float,
           go: multiprocessing.Event, results: multiprocessing.Queue) -> None:
    """Send ``requests`` tickets over ``clients`` connections: ``inflight`` each at a time
    (closed loop), or with ``rate`` at that many a second in all (open loop)."""
    topics = Topics(site)
    buses = [PolledBusClient(f"cpu-{number}-{c}-{uuid.uuid4().hex[:4]}", "127.0.0.1", port,
                             reply_topic=topics.replies(f"cpu-{number}-{c}")).start() for c in range(clients)]
    items = [(item.dept, item.code) for item in load_config(CONFIG).items]
    left = [requests]
    acknowledged = [0, 0]  # ok, refused
    outstanding = [0]
    counter = iter(range(number * 10**6, (number + 1) * 10**6))

    def send(bus: PolledBusClient) -> None:
        if left[0] <= 0:
            return
        left[0] -= 1
        outstanding[0] += 1
        n = next(counter)
        dept, item = items[n % len(items)]
        future = bus.request_async(topics.kiosk_request(f"k{number}"), {
            "request_id": uuid.uuid4().hex, "action": "ticket", "dept": dept, "item": item, "phone": phone(n)})
        bus.flush()

        def done(f) -> None:
            outstanding[0] -= 1
            if not f.cancelled() and f.exception() is None:
                acknowledged[0 if f.result().get("ok") else 1] += 1
            if not rate:
                send(bus)
        future.add_done_callback(done)

    results.put("ready")
    go.wait()
    cpu_before = psutil.Process().cpu_times()
    if not rate:
        for bus in buses:
            for _ in range(inflight):
                send(bus)
    started, sent = time.perf_counter(), 0
    deadline = time.monotonic() + 120
    while (left[0] > 0 or outstanding[0] > 0) and time.monotonic() < deadline:
        timeout = 0.5
        if rate and left[0] > 0:
            timeout = started + sent / rate - time.perf_counter()
            if timeout <= 0:
                send(buses[sent % clients])
                sent += 1
                continue
        sockets = {bus.socket(): bus for bus in buses}
        ready, _, _ = select.select(list(sockets), [], [], timeout)
        for sock in ready:
            sockets[sock].poll(0)
    cpu = psutil.Process().cpu_times()
    for bus in buses:
        bus.stop()
    results.put((acknowledged, cpu.user + cpu.system - cpu_before.user - cpu_before.system))


def measure(port: int, site: str, watch: tuple[int, int], requests: int, run: int, processes: int = 2,
            clients: int = 10, inflight: int = 4, rate: float = 0) -> dict:
    """One run; ``run`` numbers the load processes apart, so that no phone reaches its ticket limit."""
    ctx = multiprocessing.get_context("spawn")
    results, go = ctx.Queue(), ctx.Event()
    workers = [ctx.Process(target=worker, args=(port, site, run * processes + w, clients, requests // processes,
                                                inflight, rate / processes, go, results)) for w in range(processes)]
    for w in workers:
        w.start()
    for _ in workers:
        assert results.get(timeout=60) == "ready"
    before = [cpu_seconds(pid) for pid in watch]
    started = time.perf_counter()
    go.set()
    collected = [results.get(timeout=180) for _ in workers]
    elapsed = time.perf_counter() - started
    controller, broker = (cpu_seconds(pid) - b for pid, b in zip(watch, before))
    for w in workers:
        w.join(10)
    return {"acknowledged": sum(a[0] for a, _ in collected), "refused": sum(a[1] for a, _ in collected),
            "seconds": elapsed, "controller": controller, "broker": broker,
            "generator": sum(c for _, c in collected)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=6000, help="tickets per measured run")
    parser.add_argument("--runs", type=int, default=2, help="measured runs (after one warm-up run)")
    parser.add_argument("--rate", type=float, default=0,
                        help="offer this many requests a second in all (open loop) instead of 4 in flight per client")
    parser.add_argument("--profile", help="run the controller under cProfile and save the stats here")
    args = parser.parse_args()
    site = load_config(CONFIG).site.id
    print(f"hall_cpu: python {sys.version.split()[0]}, {psutil.cpu_count()} cores, load {psutil.getloadavg()[0]:.2f}",
          flush=True)
    with LocalBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        hall = start_hall(broker.port, Path(tmp), args.profile)
        try:
            wait_online(broker.port, Topics(site))
            watch = (hall.pid, broker_pid(broker.port))
            measure(broker.port, site, watch, min(args.requests, 2000), 0)  # warm-up: caches, WAL, imports
            for run in range(1, args.runs + 1):
                r = measure(broker.port, site, watch, args.requests, run, rate=args.rate)
                n = max(r["acknowledged"], 1)
                print(f"{r['acknowledged']} acknowledged ({r['refused']} refused) in {r['seconds']:.2f} s"
                      f" ({n / r['seconds']:.0f}/s);"
                      f" CPU ms per request: controller {1000 * r['controller'] / n:.3f},"
                      f" broker {1000 * r['broker'] / n:.3f}, load generator {1000 * r['generator'] / n:.3f}",
                      flush=True)
        finally:
            hall.terminate()
            hall.wait(30)


if __name__ == "__main__":
    main()
