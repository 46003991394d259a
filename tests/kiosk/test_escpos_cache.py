"""python-escpos's printer database is parsed once into a private cache, not again at every start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMPORT_KIOSK = "import kiosk.ticket, kiosk.printers"  # both import escpos


def start_kiosk_modules(tmp_path: Path, **env: str) -> None:
    """Import the kiosk's escpos users in a fresh interpreter, as a kiosk start does."""
    temp = tmp_path / "tmp"  # escpos's own temporary folders, kept out of the machine's /tmp
    temp.mkdir(exist_ok=True)
    clean = {k: v for k, v in os.environ.items() if k not in ("ESCPOS_CAPABILITIES_PICKLE_DIR", "CACHE_DIRECTORY")}
    subprocess.run([sys.executable, "-c", IMPORT_KIOSK], check=True, cwd=ROOT,
                   env={**clean, "TMPDIR": str(temp), **env})


def test_the_second_kiosk_start_loads_the_printer_database_the_first_parsed(tmp_path):
    cache = tmp_path / "cache"
    start_kiosk_modules(tmp_path, XDG_CACHE_HOME=str(cache))
    [pickle] = (cache / "paihao-escpos").glob("*.capabilities.pickle")
    assert (cache / "paihao-escpos").stat().st_mode & 0o777 == 0o700
    made = pickle.stat().st_mtime_ns
    start_kiosk_modules(tmp_path, XDG_CACHE_HOME=str(cache))
    assert pickle.stat().st_mtime_ns == made  # loaded, not parsed and written again


def test_the_service_cache_directory_comes_first(tmp_path):
    service = tmp_path / "var-cache-paihao"
    service.mkdir(mode=0o700)
    start_kiosk_modules(tmp_path, CACHE_DIRECTORY=str(service), XDG_CACHE_HOME=str(tmp_path / "user"))
    assert list((service / "paihao-escpos").glob("*.capabilities.pickle"))
    assert not (tmp_path / "user").exists()


def test_a_cache_others_can_write_to_is_not_trusted_with_pickles(tmp_path):
    cache = tmp_path / "cache"
    (cache / "paihao-escpos").mkdir(parents=True)
    (cache / "paihao-escpos").chmod(0o777)
    start_kiosk_modules(tmp_path, XDG_CACHE_HOME=str(cache))
    assert list((cache / "paihao-escpos").iterdir()) == []  # escpos used a temporary folder instead
