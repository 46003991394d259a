"""A busy morning at rongchang, as a display would know it: for the renderer tests and the bench."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from display.calls import Banner
from display.hallstate import Snapshot
from display.model import Call, Card, QueueInfo, WindowInfo
from paihao.config import HallConfig, load_config

ROOT = Path(__file__).resolve().parents[2]
RONGCHANG = ROOT / "config" / "rongchang.toml"
NOW = datetime(2026, 11, 27, 2, 3, 15, tzinfo=UTC)  # 10:03:15 in Chongqing, a Friday
CST = timezone(timedelta(hours=8))


def config() -> HallConfig:
    return load_config(RONGCHANG)


def at(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).astimezone(CST).isoformat(timespec="seconds")


def snapshot(cfg: HallConfig, *, cards: int = 12, calls: int = 10, windows: int | None = None,
             online: bool | None = True, tally_note: str = "") -> Snapshot:
    depts = [d.code for d in cfg.departments]
    queues = tuple(QueueInfo(d.code, d.name, (i * 7) % 23) for i, d in enumerate(cfg.departments))
    ids = [w.id for w in cfg.windows] + [str(n) for n in range(len(cfg.windows) + 1, (windows or 0) + 1)]
    clerks = [c for c in cfg.clerks]
    wins = {}
    for i, wid in enumerate(ids):
        dept = depts[i % len(depts)]
        card = "red" if i % 9 == 4 else "yellow" if i % 5 == 1 else "none"
        wins[wid] = WindowInfo(wid, f"{wid}号窗口", "open" if i % 7 else "paused", clerks[i % len(clerks)].id,
                               clerks[i % len(clerks)].name, f"{dept}{15 + i:03d}" if i % 7 else None, dept, card)
    recent = tuple(Call(f"{depts[i % len(depts)]}{15 - i:03d}", ids[(i * 3) % len(ids)], at(i * 1.5))
                   for i in range(calls))
    card_list = tuple(
        Card("red" if i < cards // 3 else "yellow", depts[(i * 5) % len(depts)], ids[(i * 2) % len(ids)],
             clerks[i % len(clerks)].id, f"{depts[(i * 5) % len(depts)]}{i + 3:03d}", False, at(10 + i),
             3600 * 2 - i * 500 if i < cards // 3 else 1800 - i * 60)
        for i in range(cards))
    tally = {depts[(i * 5) % len(depts)]: (1 + i % 3, i % 2) for i in range(min(cards, 9))}
    return Snapshot(online, queues, wins, recent, card_list, tally, tally_note, 1)


def banner(call: Call | None, fresh: bool = True, since: float = 0.0) -> Banner:
    b = Banner()
    if call:
        b.current, b.fresh, b.since = call, fresh, since
    return b
