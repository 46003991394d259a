"""Monthly scores: a small month computed by hand, reported by the real ``paihao report``."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from hall.reporter import is_final
from hall.reports import COLUMNS, MonthSpan, previous_month
from hall.schema import MIGRATIONS
from tests.hall.engine_harness import CONFIG, CST, Hall, ok

MONTH = "2026-11"
PHONES = {name: f"1390000{n:04d}" for n, name in enumerate("XYABCDEFGH")}
KEYS = [key for key, _ in COLUMNS]


def at(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=CST)


def sent(hall: Hall, name: str, ok_: bool = True) -> None:
    [text] = [t for t in hall.texts if t["phone"] == PHONES[name]]
    hall.sent(text["id"], ok=ok_)


def issue(hall: Hall, name: str, dept: str, item: str) -> None:
    ok(hall.ticket(dept=dept, item=item, phone=PHONES[name]))


def month_of_november(hall: Hall) -> None:
    """The month docs/protocol.md's definitions are checked against; numbers by hand below."""
    # 31 October, 23:59 in Chongqing (15:59 UTC): October's, not November's
    hall.now = at("2026-10-31", "23:59:00")
    issue(hall, "X", "05", "0501")
    ok(hall.cmd("3", "login", clerk="c03"))
    ok(hall.cmd("3", "next"))
    hall.now += timedelta(seconds=30)
    ok(hall.cmd("3", "complete"))
    ok(hall.sms("1", phone=PHONES["X"]))
    # 1 November, 00:30 in Chongqing, still 31 October in UTC: November's. Never called.
    hall.now = at("2026-11-01", "00:30:00")
    issue(hall, "Y", "06", "0601")
    # Monday 2 November
    hall.now = at("2026-11-02", "09:00:00")
    hall.tick()
    for name, item in zip("ABCD", ("0202", "0202", "0201", "0202")):
        issue(hall, name, "02", item)  # 02001 .. 02004
    issue(hall, "E", "05", "0501")  # 05001
    issue(hall, "F", "06", "0601")  # never called
    ok(hall.cmd("3", "next"))  # E, waited 0 s
    hall.now = at("2026-11-02", "09:01:00")
    ok(hall.cmd("3", "complete"))  # 60 s of 90: on time
    ok(hall.cmd("1", "login", clerk="c01"))
    steps = [("09:10:00", "next"), ("09:15:00", "complete"),  # A: waited 600, served 300 of 600
             ("09:15:00", "next"), ("09:30:00", "tick"), ("09:36:00", "tick"),  # B: yellow 09:25, red 09:35
             ("09:40:00", "complete"),  # B: waited 900, served 1500
             ("09:40:00", "next"), ("09:50:00", "accept"),  # C: waited 2400, served 600 of 1200
             ("09:50:00", "next"), ("09:52:00", "skip")]  # D: waited 3000, did not come
    for clock, action in steps:
        hall.now = at("2026-11-02", clock)
        hall.tick() if action == "tick" else ok(hall.cmd("1", action))
    hall.now = at("2026-11-02", "10:00:00")
    for name, reply in (("A", "1"), ("B", "3 太慢"), ("E", "基本满意")):
        assert ok(hall.sms(reply, phone=PHONES[name]))["result"] == "rated"
    for name in "ABE":
        sent(hall, name)
    sent(hall, "C", ok_=False)
    hall.now = at("2026-11-03", "08:00:00")
    hall.tick()  # D and F expire
    hall.now = at("2026-11-05", "10:00:00")
    ok(hall.cmd("1", "case_done", case="20261102-02003"))  # due 9 November: on time
    # 30 November, across midnight: November's ticket, carded in November
    hall.now = at("2026-11-30", "23:50:00")
    issue(hall, "G", "05", "0501")
    hall.now = at("2026-11-30", "23:55:00")
    ok(hall.cmd("3", "next"))  # waited 300
    hall.now = at("2026-11-30", "23:59:00")
    hall.tick()  # yellow since 23:56:30, red since 23:58
    hall.now = at("2026-12-01", "00:05:00")
    ok(hall.cmd("3", "complete"))  # served 600 of 90
    hall.now = at("2026-12-01", "00:10:00")
    issue(hall, "H", "06", "0601")  # December's


ZERO = {"called": 0, "served": 0, "no_shows": 0, "avg_wait_s": None, "avg_service_s": None, "on_time_rate": None,
        "yellow": 0, "red": 0, "eval_sent": 0, "eval_answered": 0, "satisfied": 0, "basic": 0, "unsatisfied": 0,
        "satisfaction_rate": None, "score": None}
LAND = {"called": 4, "served": 3, "no_shows": 1, "avg_wait_s": 1725, "avg_service_s": 800, "on_time_rate": 0.75,
        "yellow": 1, "red": 1, "eval_sent": 2, "eval_answered": 2, "satisfied": 1, "basic": 0, "unsatisfied": 1,
        "satisfaction_rate": 0.5, "score": 46.0}  # (100 + 0) / 2 - 1 - 3
MARKET = {"called": 2, "served": 2, "no_shows": 0, "avg_wait_s": 150, "avg_service_s": 330, "on_time_rate": 0.5,
          "yellow": 1, "red": 1, "eval_sent": 1, "eval_answered": 1, "satisfied": 0, "basic": 1, "unsatisfied": 0,
          "satisfaction_rate": 1.0, "score": 56.0}  # 60 - 1 - 3
EXPECTED = {
    ("hall", "testhall"): {"name": "测试行政服务中心", "issued": 8, "called": 6, "served": 5, "no_shows": 1,
                           "avg_wait_s": 1200, "avg_service_s": 612, "on_time_rate": 0.6667, "yellow": 2, "red": 2,
                           "eval_sent": 3, "eval_answered": 3, "satisfied": 1, "basic": 1, "unsatisfied": 1,
                           "satisfaction_rate": 0.6667, "score": 45.33},  # 160 / 3 - 2 - 6
    ("department", "02"): {"name": "国土资源局", "issued": 4, **LAND},
    ("department", "05"): {"name": "市场监督管理局", "issued": 2, **MARKET},
    ("department", "06"): {"name": "人力资源和社会保障局", "issued": 2, **ZERO},
    ("window", "1"): {"name": "1号窗口", "issued": None, **LAND},
    ("window", "2"): {"name": "2号窗口", "issued": None, **ZERO},
    ("window", "3"): {"name": "3号窗口", "issued": None, **MARKET},
    ("window", "5"): {"name": "5号窗口", "issued": None, **ZERO},
    ("window", "6"): {"name": "6号窗口", "issued": None, **ZERO},
    ("clerk", "c01"): {"name": "张敏", "issued": None, **LAND},
    ("clerk", "c02"): {"name": "李强", "issued": None, **ZERO},
    ("clerk", "c03"): {"name": "王芳", "issued": None, **MARKET},
    ("clerk", "c04"): {"name": "刘洋", "issued": None, **ZERO},
    ("clerk", "c05"): {"name": "陈静", "issued": None, **ZERO},
}


@pytest.fixture
def setup(tmp_path: Path):
    """The config file ``paihao report`` reads, and the hall's database filled with November."""
    config = tmp_path / "hall.toml"
    config.write_text(CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    hall = Hall(tmp_path / "hall.db")
    month_of_november(hall)
    yield config, hall
    hall.db.close()


def report(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paihao.cli", "report", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=60)


def csv_rows(path: Path) -> dict[tuple, dict]:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        assert [h.rsplit(" ", 1)[1] for h in header] == KEYS
        assert header[3] == "取号数 issued"
        return {(r[0], r[1]): dict(zip(KEYS[2:], r[2:])) for r in reader}


def as_csv(value: object) -> str:
    return "" if value is None else str(value)


def test_the_month_by_hand_in_csv_and_xlsx(setup):
    config, hall = setup
    done = report(config, "--month", MONTH, "--db", hall.config.storage.db)
    assert done.returncode == 0, done.stderr
    folder = config.parent / "reports"
    assert done.stdout.splitlines()[0] == "测试行政服务中心 2026-11: 8 tickets, 5 served, 3 evaluations answered, score 45.33"
    assert f"{folder}/testhall-2026-11.xlsx" in done.stdout
    rows = csv_rows(folder / "testhall-2026-11.csv")
    assert list(rows) == list(EXPECTED)
    for key, expected in EXPECTED.items():
        assert rows[key] == {k: as_csv(v) for k, v in expected.items()}, key
    book = openpyxl.load_workbook(folder / "testhall-2026-11.xlsx")
    assert book.sheetnames == ["全厅", "部门", "窗口", "人员"]
    cells = {}
    for sheet in book.worksheets:
        lines = list(sheet.iter_rows(values_only=True))
        assert [h.rsplit(" ", 1)[1] for h in lines[0]] == KEYS
        cells |= {(r[0], r[1]): dict(zip(KEYS[2:], r[2:])) for r in lines[1:]}
    assert cells == EXPECTED
    assert book["部门"]["J2"].number_format == "0.0%"  # on_time_rate shown as a percentage


def test_a_month_without_data_is_all_zero(setup):
    config, hall = setup
    done = report(config, "--month", "2027-01", "--db", hall.config.storage.db)
    assert done.returncode == 0, done.stderr
    rows = csv_rows(config.parent / "reports" / "testhall-2027-01.csv")
    assert rows[("hall", "testhall")] == {k: as_csv(v) for k, v in {"name": "测试行政服务中心", "issued": 0, **ZERO}.items()}
    assert all(r["served"] == "0" and r["score"] == "" for r in rows.values())
    assert len(rows) == len(EXPECTED)


def test_december_has_only_its_own_ticket(setup):
    config, hall = setup
    assert report(config, "--month", "2026-12", "--db", hall.config.storage.db).returncode == 0
    rows = csv_rows(config.parent / "reports" / "testhall-2026-12.csv")
    assert (rows[("hall", "testhall")]["issued"], rows[("department", "06")]["issued"]) == ("1", "1")
    assert rows[("hall", "testhall")]["served"] == "0"


def test_safe_beside_the_running_controller(setup):
    """The controller holds a write transaction open: the report neither waits nor sees it."""
    config, hall = setup
    hall.db.conn.execute("BEGIN IMMEDIATE")
    try:
        hall.db.conn.execute("UPDATE tickets SET status = 'completed'")
        done = report(config, "--month", MONTH, "--db", hall.config.storage.db)
    finally:
        hall.db.conn.execute("ROLLBACK")
    assert done.returncode == 0, done.stderr
    assert csv_rows(config.parent / "reports" / "testhall-2026-11.csv")[("hall", "testhall")]["served"] == "5"


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "November", "1999-12"])
def test_a_month_that_is_no_month_is_refused(setup, month):
    config, hall = setup
    done = report(config, "--month", month, "--db", hall.config.storage.db)
    assert done.returncode == 2 and "is not a month such as 2026-11" in done.stderr
    assert not (config.parent / "reports").exists()


def test_a_database_of_another_schema_is_refused_and_left_alone(setup, tmp_path):
    config, _ = setup
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    conn.close()
    before = old.read_bytes()
    done = report(config, "--month", MONTH, "--db", str(old))
    assert done.returncode == 2
    assert f"database schema 1, this paihao reads schema {len(MIGRATIONS)}; start the controller" in done.stderr
    assert old.read_bytes() == before
    missing = report(config, "--month", MONTH, "--db", str(tmp_path / "nothing.db"))
    assert missing.returncode == 2 and "no such database" in missing.stderr


def test_months_are_local_calendar_months():
    shanghai = MonthSpan.of("2026-12", ZoneInfo("Asia/Shanghai"))
    assert (shanghai.first_day, shanghai.next_first_day) == ("2026-12-01", "2027-01-01")
    assert datetime.fromtimestamp(shanghai.start, ZoneInfo("UTC")).isoformat() == "2026-11-30T16:00:00+00:00"
    berlin = MonthSpan.of("2026-03", ZoneInfo("Europe/Berlin"))  # summer time begins: one hour short
    assert berlin.end - berlin.start == 31 * 86400 - 3600
    assert previous_month(datetime(2026, 12, 31, 16, 30, tzinfo=ZoneInfo("UTC")), CST) == "2026-12"
    assert previous_month(datetime(2027, 1, 1, 0, 30, tzinfo=CST), CST) == "2026-12"


def test_publish_leaves_the_summary_retained(setup, broker):
    from bus.topics import Topics
    from tests.conftest import Peer

    config, hall = setup
    done = report(config, "--month", MONTH, "--db", hall.config.storage.db, "--publish",
                  "--broker", f"127.0.0.1:{broker.port}")
    assert done.returncode == 0, done.stderr
    topic = Topics("testhall").report(MONTH)
    assert done.stdout.rstrip().endswith(f"published on {topic}")
    peer = Peer(broker.port, Topics("testhall"))
    try:
        summary = json.loads(peer.heard.wait_for(lambda m: m.topic == topic and m.retain).payload)
    finally:
        peer.stop()
    # final once December's first three days (the reply window) are over, by the real clock
    assert summary["final"] is is_final(hall.config, MONTH, datetime.now(timezone.utc))
    assert summary["month"] == MONTH
    assert summary["hall"] == {"id": "testhall", **EXPECTED[("hall", "testhall")]}
    assert [d["id"] for d in summary["departments"]] == ["02", "05", "06"]
    assert summary["departments"][0] == {"id": "02", **EXPECTED[("department", "02")]}
