"""The hall config: the shipped Rongchang file loads, and every mistake is named with file and key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from paihao.config import load_config
from paihao.errors import ConfigError, PaihaoError

ROOT = Path(__file__).parents[1]
RONGCHANG = ROOT / "config" / "rongchang.toml"
SMALL = ROOT / "tests" / "hall.toml"


def test_the_rongchang_hall_loads():
    config = load_config(RONGCHANG)
    assert config.site.id == "rongchang"
    assert len(config.departments) >= 12
    assert len(config.items) >= 40
    kinds = [item.kind for item in config.items]
    assert kinds.count("immediate") >= 10 and kinds.count("promised") >= 10
    assert all(item.deadline_workdays for item in config.items if item.kind == "promised")
    assert len(config.windows) == 20
    assert {config.window_floor(w) for w in config.windows} == {1, 2, 3}
    assert len(config.clerks) >= len(config.windows)
    served = {dept for window in config.windows for dept in window.depts}
    assert served == {dept.code for dept in config.departments}


def test_the_small_test_hall_loads_with_overrides(tmp_path):
    config = load_config(SMALL, storage={"db": str(tmp_path / "h.db")}, mqtt={"port": 1999})
    assert config.storage.db == str(tmp_path / "h.db")
    assert (config.mqtt.host, config.mqtt.port) == ("127.0.0.1", 1999)
    assert config.supervision.red_factor == 2
    assert config.queue.max_waiting_per_phone == 3
    assert config.item("0201").deadline_workdays == 5
    assert config.item("0501").limit.total_seconds() == 90


def test_a_relative_db_path_is_resolved_against_the_config_file():
    assert load_config(SMALL).storage.db == str(ROOT / "tests" / "hall.db")


def _edit(old: str, new: str):
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return edit


MISTAKES = [  # id, edit of tests/hall.toml, what the message must say
    ("window-dept-for-depts", _edit('id = "2"\ndepts', 'id = "2"\ndept'),
     ['windows[1].dept: unknown key; did you mean "depts"?', "windows[1].depts: missing"]),
    ("servce_limit", _edit('service_limit = "20m"', 'servce_limit = "20m"'),
     ['items[0].servce_limit: unknown key; did you mean "service_limit"?']),
    ("misspelt-section", _edit("[mqtt]", "[mqt]"), ['mqt: unknown key; did you mean "mqtt"?']),
    ("missing-site-name", _edit('name = "测试行政服务中心"\n', ""), ["site.name: missing"]),
    ("missing-windows", lambda text: text.split("[[windows]]")[0], ["windows: missing"]),
    ("promised-without-deadline", _edit('deadline = "5wd"\n', ""), ["items[0]:", "promised item needs a deadline"]),
    ("immediate-with-deadline", _edit('service_limit = "10m"', 'service_limit = "10m"\ndeadline = "3wd"'),
     ["items[1]:", "immediate item", "no deadline"]),
    ("duration-in-words", _edit('"20m"', '"20 minutes"'),
     ["items[0].service_limit:", "'20 minutes' is not a duration"]),
    ("deadline-in-days", _edit('"5wd"', '"5d"'), ["items[0].deadline:", "'5d'"]),
    ("bad-timezone", _edit("Asia/Shanghai", "Beijing"), ["site.timezone:", "'Beijing' is not a known time zone"]),
    ("window-unknown-dept", _edit('depts = ["02", "05"]', 'depts = ["02", "09"]'),
     ["windows:", "'2'", "unknown department '09'"]),
    ("item-unknown-dept", _edit('dept = "06"', 'dept = "07"'), ["items:", "'0601'", "unknown department '07'"]),
    ("duplicate-window", _edit('id = "3"', 'id = "2"'), ["windows:", "'2' appears twice"]),
    ("port-out-of-range", _edit("port = 1883", "port = 70000"), ["mqtt.port:", "65535"]),
    ("three-digit-dept", _edit('code = "02"', 'code = "002"'), ["departments[0].code:"]),
    ("not-toml", _edit("[site]", "[site"), ["not valid TOML", "line 2"]),
]


@pytest.mark.parametrize("edit, expected", [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_a_mistake_is_named_with_file_and_key(tmp_path, edit, expected):
    path = tmp_path / "hall.toml"
    path.write_text(edit(SMALL.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    message = str(raised.value)
    assert message.startswith(f"{path}:")
    for fragment in expected:
        assert fragment in message


def test_config_errors_are_value_errors_under_one_root(tmp_path):
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError, match="no such file") as raised:
        load_config(missing)
    assert isinstance(raised.value, PaihaoError) and isinstance(raised.value, ValueError)
    assert str(missing) in str(raised.value)


def test_a_secret_is_not_shown(tmp_path):
    path = tmp_path / "hall.toml"
    path.write_text(SMALL.read_text(encoding="utf-8").replace(
        "port = 1883", 'port = 1883\nusername = "hall"\npassword = "s3cret-pw"'), encoding="utf-8")
    config = load_config(path)
    assert config.mqtt.password == "s3cret-pw"
    assert "s3cret-pw" not in repr(config)


# -- paihao check-config ---------------------------------------------------------------------
def check_config(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "paihao.cli", "check-config", str(path)],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=60,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


@pytest.mark.parametrize("path, counts", [(RONGCHANG, "site rongchang (荣昌县行政服务中心)"),
                                         (SMALL, "3 departments, 4 items, 5 windows, 5 clerks")],
                         ids=["rongchang", "test-hall"])
def test_check_config_says_ok_for_a_good_file(path, counts):
    result = check_config(path)
    assert result.returncode == 0, result.stderr
    assert f"{path}: ok" in result.stdout
    assert counts in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("edit, expected", [
    (_edit('id = "2"\ndepts', 'id = "2"\ndept'), 'windows[1].dept: unknown key; did you mean "depts"?'),
    (_edit("[site]", "[site"), "not valid TOML"),
], ids=["misspelt-key", "not-toml"])
def test_check_config_exits_2_with_the_message_on_stderr(tmp_path, edit, expected):
    path = tmp_path / "broken.toml"
    path.write_text(edit(SMALL.read_text(encoding="utf-8")), encoding="utf-8")
    result = check_config(path)
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert expected in result.stderr
    assert "ok" not in result.stdout
    assert "Traceback" not in result.stderr


def test_check_config_of_a_missing_file_exits_2(tmp_path):
    result = check_config(tmp_path / "nowhere.toml")
    assert result.returncode == 2
    assert "no such file" in result.stderr
