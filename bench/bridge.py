"""Benchmark of the SMS bridge.

    .venv/bin/python bench/bridge.py [--texts 200]

The real ``paihao bridge`` process on a private mosquitto, its modem the fake one
(in this process, on a pseudo-terminal the bridge opens by a /dev/serial-like link, as in
the tests). The fake answers at once, so what is measured is the bridge itself. Prints:

- the floors, measured in the same run: a bare bus round trip (publish, answer), one
  synchronous=FULL SQLite commit, and the AT dialogue of one send (AT+CMGF=0, AT+CMGS,
  prompt, PDU, +CMGS) and of one read (AT+CMGR, AT+CMGD) done directly on the fake's port;
- ``sms/outbox`` offered -> ``sms/sent`` heard, one text at a time, for a one-part text
  and a four-part Chinese one; their floor is the bus round trip, the AT dialogue of each
  part and the store's commits (the offer, then "sending" and "sent" for each part);
- a message arriving on the SIM (+CMTI) -> the hall's ``sms/inbox`` request heard; its
  floor is the bus round trip, one commit and the read's AT dialogue;
- the PDU codec alone, and the bridge process's memory.

No target in issue 6: a real SIM800 needs 2-5 s for one text, so the bridge's own time is
meant to vanish beside it. Measured here to keep it so.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.hall_rtt import commit_time, echo_rtt, line, percentiles  # noqa: E402
from bus.broker import LocalBroker  # noqa: E402
from bus.client import BusClient, Message  # noqa: E402
from bus.topics import Topics  # noqa: E402
from firmware_bridge import pdu  # noqa: E402
from firmware_bridge.app import serial_opener  # noqa: E402
from firmware_bridge.at import AtChannel  # noqa: E402
from firmware_bridge.fake_modem import FakeModem  # noqa: E402

SITE = "benchsite"
LONG = ("【荣昌区行政服务中心】您于11月27日在5号窗口办理的社保卡补办已办结。请回复：1满意 2基本满意 3不满意。"
        "感谢您对我们工作的支持！" * 4)[:260]


def write_config(directory: Path, port: int, link: Path) -> Path:
    text = (ROOT / "tests" / "hall.toml").read_text(encoding="utf-8")
    text = text.replace('id = "testhall"', f'id = "{SITE}"').replace("port = 1883", f"port = {port}")
    text += f'\n[[bridges]]\nid = "gsm1"\nmodem = {{ type = "serial", device = "{link}" }}\n'
    path = directory / "hall.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Hall(BusClient):
    """The hall's side of the SMS topics: offers, and answers inbox requests; times both."""

    def __init__(self, port: int, topics: Topics) -> None:
        super().__init__(f"bench-hall-{uuid.uuid4().hex[:6]}", "127.0.0.1", port)
        self.topics = topics
        self.answered: dict[str, threading.Event] = {}
        self.inbox = threading.Event()
        self.online = threading.Event()
        self.subscribe(topics.sms_sent, self._sent)
        self.subscribe(topics.sms_inbox, self._inbox)
        self.subscribe(topics.device_status("bridge", "gsm1"), self._status)
        self.start()

    def _sent(self, message: Message) -> None:
        event = self.answered.get(json.loads(message.payload)["id"])
        if event:
            event.set()

    def _inbox(self, message: Message) -> None:
        self.reply(message, {"ok": True})
        self.inbox.set()

    def _status(self, message: Message) -> None:
        if json.loads(message.payload).get("state") == "online":
            self.online.set()

    def offer(self, text: str) -> float:
        sms_id = uuid.uuid4().hex
        self.answered[sms_id] = done = threading.Event()
        started = time.perf_counter()
        self.publish(self.topics.sms_outbox, {"id": sms_id, "phone": "13812345678", "text": text})
        if not done.wait(10):
            raise SystemExit("no sms/sent within 10 s")
        return time.perf_counter() - started


def at_floor(fake: FakeModem, n: int) -> tuple[list[float], list[float]]:
    """The AT dialogue alone, on the same pty: one send, and one read and delete."""
    at = AtChannel(serial_opener(lambda: fake.port, 115200)())
    at.command("ATE0")
    [part] = pdu.encode_submit("+8613812345678", "请回复1")
    sends, reads = [], []
    for _ in range(n):
        started = time.perf_counter()
        at.command("AT+CMGF=0")
        at.send_pdu(part.length, part.hex, before_write=lambda: None)
        sends.append(time.perf_counter() - started)
    for _ in range(n):
        [index] = fake.deliver("13912345678", "1", notify=False)
        started = time.perf_counter()
        at.command(f"AT+CMGR={index}")
        at.command(f"AT+CMGD={index}")
        reads.append(time.perf_counter() - started)
    at.close()
    return sends, reads


def received(hall: Hall, fake: FakeModem, n: int) -> list[float]:
    samples = []
    for i in range(n):
        hall.inbox.clear()
        started = time.perf_counter()
        fake.deliver("13912345678", f"满意 {i}")  # each its own: the same PDU twice is one message
        if not hall.inbox.wait(10):
            raise SystemExit("no sms/inbox within 10 s")
        samples.append(time.perf_counter() - started)
    return samples


def codec(n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        parts = pdu.encode_submit("+8613812345678", LONG, ref=7)
        [pdu.decode(p.hex) for p in parts]
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=200)
    args = parser.parse_args()
    n = args.texts
    directory = Path(tempfile.mkdtemp(prefix="paihao-bench-bridge-"))
    link = directory / "ttyUSB-modem"
    with LocalBroker() as broker, FakeModem(link=link) as fake:
        echo = echo_rtt(broker.port, n, True)
        commit = commit_time(directory, n)
        sends, reads = at_floor(fake, n)
        echo_ms, commit_ms = percentiles(echo)[0], percentiles(commit)[0]
        send_ms, read_ms = percentiles(sends)[0], percentiles(reads)[0]
        line("floor: bus round trip", echo)
        line("floor: one synchronous=FULL commit", commit)
        line("floor: AT dialogue of one send", sends)
        line("floor: AT dialogue of one read + delete", reads)

        config = write_config(directory, broker.port, link)
        log = open(directory / "bridge.log", "ab")
        process = subprocess.Popen([sys.executable, "-m", "paihao.cli", "bridge", "--config", str(config)],
                                   stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        log.close()
        hall = Hall(broker.port, Topics(SITE))
        try:
            if not hall.online.wait(30):
                raise SystemExit("the bridge did not come online; see " + str(directory / "bridge.log"))
            hall.offer("warm-up")
            parts = len(pdu.encode_submit("+8613812345678", LONG))
            one = [hall.offer("【测试】请回复1") for _ in range(n)]
            line("outbox -> sent, one part", one, echo_ms + send_ms + 3 * commit_ms)
            many = [hall.offer(LONG) for _ in range(max(10, n // 4))]
            line(f"outbox -> sent, {parts} parts (UCS2)", many, echo_ms + parts * (send_ms + 2 * commit_ms) + commit_ms)
            inbox = received(hall, fake, n)
            line("SIM (+CMTI) -> sms/inbox request", inbox, echo_ms / 2 + read_ms + commit_ms)
            line("PDU codec: encode + decode, 4 parts", codec(1000))
            rss = psutil.Process(process.pid).memory_info().rss / 2**20
            print(f"{'RSS, the paihao bridge process':<44} {rss:7.1f} MB", flush=True)
        finally:
            hall.stop()
            process.terminate()
            process.wait(20)


if __name__ == "__main__":
    main()
