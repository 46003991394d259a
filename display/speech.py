"""What the hall says for a call: "请 零二零一五 号 到 五 号窗口 办理".

Ticket numbers are read digit by digit, as halls do (a citizen compares them
with the digits on the ticket); window numbers as numbers ("十二 号窗口").
In a rush, with more calls waiting to be said, the short form "零二零一五 号 到
五 号窗口" keeps what a citizen listens for and drops the courtesy words.
"""

from __future__ import annotations

import re

DIGITS = "零一二三四五六七八九"
_NUMBERED = re.compile(r"^(\d{1,3})\s*号?\s*窗口$")


def digit_by_digit(number: str) -> str:
    return "".join(DIGITS[int(ch)] if ch.isdigit() else ch for ch in number)


def cardinal(n: int) -> str:
    """0-999 in words: 5 五, 10 十, 12 十二, 20 二十, 105 一百零五."""
    if n < 10:
        return DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else DIGITS[tens]) + "十" + (DIGITS[ones] if ones else "")
    hundreds, rest = divmod(n, 100)
    if rest == 0:
        return DIGITS[hundreds] + "百"
    tail = cardinal(rest) if rest >= 10 else "零" + DIGITS[rest]
    return DIGITS[hundreds] + "百" + (("一" + tail) if 10 <= rest < 20 else tail)


def window_words(window_id: str, name: str | None) -> str:
    """'5号窗口' or id '5' -> '五 号窗口'; other names are said as written, numbers in words."""
    label = name or (f"{window_id}号窗口" if window_id.isdigit() else window_id)
    match = _NUMBERED.match(label)
    if match:
        return f"{cardinal(int(match.group(1)))} 号窗口"
    return re.sub(r"\d{1,3}", lambda m: cardinal(int(m.group())), label)


def call_text(ticket: str, window_id: str, window_name: str | None = None, *, brief: bool = False) -> str:
    if brief:
        return f"{digit_by_digit(ticket)} 号 到 {window_words(window_id, window_name)}"
    return f"请 {digit_by_digit(ticket)} 号 到 {window_words(window_id, window_name)} 办理"


def banner_parts(ticket: str, window_id: str, window_name: str | None) -> tuple[str, str, str, str, str]:
    """The banner as written: ('请', '02015', '号 到', '5', '号窗口') — number and window stand out."""
    label = window_name or f"{window_id}号窗口"
    match = _NUMBERED.match(label)
    if match:
        return "请", ticket, "号 到", match.group(1), "号窗口"
    return "请", ticket, "号 到", label, ""
