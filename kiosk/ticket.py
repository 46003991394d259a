"""The printed ticket: content in, ESC/POS bytes out, with no printer attached.

The ticket is rendered into an escpos ``Dummy`` (memory) and handed to a printer in one
piece, so a ticket is either sent whole or not at all, and its exact bytes can be tested.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy

from kiosk import gb18030

PAPER_DOTS = 576  # 80 mm paper; 58 mm paper has 384 dots
FONT_A_DOTS = 12  # width of a font A character at 1x
QR_DOT_SIZE = 6  # dots per module: ~22 mm wide for a 31-character payload, easy for phones
_FULL_PHONE = re.compile(r"\d{7}")


@dataclass(frozen=True)
class TicketContent:
    """What a ticket says. ``issued_at`` must be aware; it is printed in its own time zone,
    so pass it as the hall sends it (the site's local time, e.g. +08:00)."""

    site_id: str
    site_name: str
    number: str
    dept_name: str
    item_name: str
    kind_label: str  # "即办件" / "承诺件"
    windows: Sequence[tuple[str, int]]  # (window name, floor), e.g. ("5号窗口", 1)
    ahead: int
    est_wait_s: int
    issued_at: datetime
    phone_masked: str  # "138****5678"
    notice: str

    def __post_init__(self) -> None:
        # A tuple, so that the content really is immutable (and hashable).
        object.__setattr__(self, "windows", tuple((str(n), int(f)) for n, f in self.windows))
        if self.issued_at.utcoffset() is None:
            raise ValueError("issued_at must be timezone-aware")
        if self.ahead < 0 or self.est_wait_s < 0:
            raise ValueError("ahead and est_wait_s cannot be negative")
        if _FULL_PHONE.search(self.phone_masked):
            raise ValueError("phone_masked looks like a full phone number; mask it first")
        if not self.number.isascii() or not self.number.strip():
            raise ValueError("number must be ASCII, e.g. '02015'")

    @property
    def qr_payload(self) -> str:
        """What the QR code carries: 'paihao:rongchang:20261127:02015'."""
        return f"paihao:{self.site_id}:{self.issued_at:%Y%m%d}:{self.number}"


def floor_label(floor: int) -> str:
    return f"地下{-floor}层" if floor < 0 else f"{floor}楼"


def window_lines(windows: Sequence[tuple[str, int]]) -> list[str]:
    """[("5号窗口", 1), ("6号窗口", 1), ("12号窗口", 2)] ->
    ["请到 1楼 5号、6号窗口", "或 2楼 12号窗口"]: one line per floor, lowest first."""
    by_floor: dict[int, list[str]] = {}
    for name, floor in windows:
        by_floor.setdefault(floor, []).append(name)
    lines = []
    for floor in sorted(by_floor):
        names = by_floor[floor]
        if all(n.endswith("窗口") and n != "窗口" for n in names):
            joined = "、".join(n.removesuffix("窗口") for n in names) + "窗口"
        else:
            joined = "、".join(names)
        lines.append(f"{'或' if lines else '请到'} {floor_label(floor)} {joined}")
    return lines


def wait_text(est_wait_s: int) -> str:
    minutes = -(-est_wait_s // 60)  # rounded up: better a short wait than a long one promised
    return "预计等候不到 1 分钟" if minutes == 0 else f"预计等候约 {minutes} 分钟"


def render_ticket(content: TicketContent, *, paper_dots: int = PAPER_DOTS) -> bytes:
    """The ticket's ESC/POS bytes; the same content always gives the same bytes."""
    p = Dummy()
    columns = paper_dots // FONT_A_DOTS
    p.hw("INIT")  # ESC @: a known state, whatever the previous job left behind
    p.set(align="center", bold=True)
    _size(p, 1, 2)
    _line(p, content.site_name)
    _number(p, content.number, paper_dots)
    _size(p, 1, 2)
    _line(p, content.dept_name)
    _size(p, 1, 1)
    p.set(bold=False)
    _line(p, f"{content.item_name}（{content.kind_label}）" if content.kind_label else content.item_name)
    for line in window_lines(content.windows):
        _line(p, line)
    _line(p, f"前面还有 {content.ahead} 人")
    _line(p, wait_text(content.est_wait_s))
    p.textln("-" * columns)
    _line(p, "取号时间 ", f"{content.issued_at:%Y-%m-%d %H:%M}")
    if content.phone_masked:
        _line(p, "手机 ", content.phone_masked)
    # Native QR (GS ( k): the printer draws it sharp from ~40 bytes, where an image would
    # be a few kilobytes; ESC a (centre, set above) applies to it. Level M: a smudged or
    # creased thermal ticket still scans.
    p.qr(content.qr_payload, ec=QR_ECLEVEL_M, size=QR_DOT_SIZE, native=True)
    p.ln()
    if content.notice:
        _line(p, content.notice)
    p.cut()  # feeds past the cutter first
    return p.output


def _number(p: Dummy, number: str, paper_dots: int) -> None:
    """The number as large as the paper allows: GS ! up to 8x width and 8x height.
    On 80 mm paper 8x fits six digits; on 58 mm it is narrowed so it never wraps."""
    width = max(1, min(8, paper_dots // (FONT_A_DOTS * len(number))))
    _size(p, width, 8)
    p.textln(number)


def _size(p: Dummy, width: int, height: int) -> None:
    """GS ! (character size), never escpos's double_width/height: those use ESC !, which
    Epson-style printers apply to single-byte characters only, not to Chinese ones."""
    p.set(custom_size=True, width=width, height=height)


def _line(p: Dummy, *parts: str) -> None:
    """One printed line. Chinese through the GB18030 helper, pure ASCII through escpos's
    own text() (see kiosk.gb18030 for why). A mixed part goes whole through the helper:
    GB18030 leaves ASCII bytes as they are."""
    for part in parts:
        if part.isascii():
            p.text(part)
        else:
            p._raw(gb18030.chinese(part))
    p.text("\n")
