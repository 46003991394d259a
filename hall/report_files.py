"""A month's report as files: CSV (UTF-8 with a BOM, so Excel shows the Chinese) and XLSX.

Each file is written beside its final name and renamed into place, so whoever opens
``reports/rongchang-2026-11.xlsx`` never sees half a file, even while a new one is made.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from hall.reports import COLUMNS, LEVELS, RATES, MonthReport

SHEETS = {"hall": "全厅", "department": "部门", "window": "窗口", "clerk": "人员"}
HEADERS = [f"{label} {key}" for key, label in COLUMNS]


def write_report(folder: str | Path, site: str, report: MonthReport) -> dict[str, Path]:
    """Write ``{site}-{month}.csv`` and ``.xlsx`` into ``folder``; their paths by kind."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / f"{site}-{report.month}.{kind}" for kind in ("csv", "xlsx")}
    _atomic(paths["csv"], lambda tmp: _csv(tmp, report))
    _atomic(paths["xlsx"], lambda tmp: _xlsx(tmp, report))
    return paths


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _csv(path: Path, report: MonthReport) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for row in report.all_rows():
            writer.writerow(["" if row[key] is None else row[key] for key, _ in COLUMNS])


def _xlsx(path: Path, report: MonthReport) -> None:
    # Imported here: openpyxl costs the controller ~9 MB, needed once a month.
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for level in LEVELS:
        sheet = book.create_sheet(SHEETS[level])
        sheet.append(HEADERS)
        for row in report.rows.get(level, []):
            sheet.append([row[key] for key, _ in COLUMNS])
        for n, (key, label) in enumerate(COLUMNS, start=1):
            letter = get_column_letter(n)
            sheet.column_dimensions[letter].width = max(10, len(label) * 2 + len(key) + 2)
            if key in RATES:
                for cell in sheet[letter][1:]:
                    cell.number_format = "0.0%"
        sheet.freeze_panes = "D2"
    book.properties.title = f"{report.month}"
    book.save(path)
