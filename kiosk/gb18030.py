"""Chinese text for an ESC/POS printer: GB18030 bytes between FS & and FS .

python-escpos's own text encoder looks for a single-byte code page that holds every
character of the text; a line of only full-width punctuation ("：（）【】") finds none and
comes out as "?????". So Chinese never goes through ``Escpos.text()``: it is encoded here
and sent raw, and only pure-ASCII text uses escpos's encoder.

How the printer reads it: ``FS &`` selects Chinese (Kanji) character mode, in which a byte
0x81-0xFE starts a double-byte (or, for GB18030's rarer characters, a four-byte) character
and bytes below 0x80 stay ASCII; ``FS .`` returns to single-byte mode. Chinese-market
printers (Xprinter, Gprinter, Epson TM-T88 "China" models, ...) use GB18030, a superset
of GB2312/GBK, in that mode. We switch in and out around every Chinese run instead of
relying on the power-on default, because some printers start in single-byte mode and
because a byte >= 0x80 from escpos's code-page text would be misread as half a Chinese
character if the mode were left on. Characters outside GBK (CJK extension B, used in some
names) are four bytes long and need a printer with a full GB18030 font.
"""

from __future__ import annotations

FS = b"\x1c"
ENTER_CHINESE = FS + b"&"  # FS &: select Chinese character mode
LEAVE_CHINESE = FS + b"."  # FS .: cancel Chinese character mode

# A control character in text (a tab or ESC pasted into a config file) would reach the
# printer as a command and could leave it in an odd mode for every later ticket: it is
# printed as a space instead. The newline is kept, it ends a line.
_CONTROLS = {c: " " for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)] if c != 0x0A}


def encode(text: str) -> bytes:
    """``text`` as GB18030 bytes, control characters as spaces.

    GB18030 covers all of Unicode, so nothing becomes '?'; a lone surrogate (not text at
    all) raises UnicodeEncodeError, a ValueError. Every byte of a multi-byte character
    is >= 0x30, so the result holds no ESC/POS command bytes other than the newline.
    """
    return text.translate(_CONTROLS).encode("gb18030")


def chinese(text: str) -> bytes:
    """``text`` ready for ``_raw()``: Chinese mode on, the GB18030 bytes, Chinese mode off."""
    return ENTER_CHINESE + encode(text) + LEAVE_CHINESE
