"""The printed ticket and the GB18030 helper.

The sample ticket's exact bytes are stored in ``tests/kiosk/expected/sample_ticket.bin``.
After a deliberate change to the ticket's layout, first make the decoding tests below
(what the ticket says) pass, then regenerate the stored bytes with

    PAIHAO_REGEN_GOLDEN=1 /tmp/venv/bin/python -m pytest tests/kiosk/test_ticket.py

and commit the new file together with the change.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.gb18030 import ENTER_CHINESE, LEAVE_CHINESE, chinese, encode
from kiosk.ticket import TicketContent, render_ticket, wait_text, window_lines

GOLDEN = Path(__file__).parent / "expected" / "sample_ticket.bin"
CST = timezone(timedelta(hours=8))

SAMPLE = TicketContent(
    site_id="rongchang",
    site_name="荣昌区行政服务中心",
    number="02015",
    dept_name="国土资源局",
    item_name="不动产登记",
    kind_label="承诺件",
    windows=[("5号窗口", 1), ("6号窗口", 1), ("12号窗口", 2)],
    ahead=3,
    est_wait_s=430,
    issued_at=datetime(2026, 11, 27, 9, 3, 41, tzinfo=CST),
    phone_masked="138****5678",
    notice="请留意叫号，过号请到窗口重新排队",
)

SAMPLE_LINES = [
    "荣昌区行政服务中心",
    "02015",
    "国土资源局",
    "不动产登记（承诺件）",
    "请到 1楼 5号、6号窗口",
    "或 2楼 12号窗口",
    "前面还有 3 人",
    "预计等候约 8 分钟",
    "-" * 48,
    "取号时间 2026-11-27 09:03",
    "手机 138****5678",
    "请留意叫号，过号请到窗口重新排队",
]

# The ESC/POS commands the renderer uses, each with its fixed number of parameter bytes.
_COMMANDS = re.compile(rb"\x1b@|\x1b[E!at d].|\x1d[!V].", re.S)
_QR_FRAME = re.compile(rb"\x1d\(k(..)", re.S)  # GS ( k pL pH, then pL + 256 pH bytes
_CHINESE = re.compile(re.escape(ENTER_CHINESE) + rb"(.*?)" + re.escape(LEAVE_CHINESE), re.S)


def decode_ticket(data: bytes) -> tuple[list[str], list[bytes]]:
    """The printed lines (empty ones left out) and the QR payloads of a ticket's bytes."""
    payloads: list[bytes] = []
    while frame := _QR_FRAME.search(data):
        size = int.from_bytes(frame.group(1), "little")
        body = data[frame.end() : frame.end() + size]
        if body[:3] == b"1P0":  # cn=1 (QR), fn=P (store data), m=0
            payloads.append(body[3:])
        data = data[: frame.start()] + data[frame.end() + size :]
    data = _COMMANDS.sub(b"", data)
    text = _CHINESE.sub(lambda m: m.group(1).decode("gb18030").encode("utf-8"), data).decode("utf-8")
    return [line for line in text.split("\n") if line], payloads


def test_sample_ticket_says_what_it_should():
    lines, payloads = decode_ticket(render_ticket(SAMPLE))
    assert lines == SAMPLE_LINES
    assert payloads == [b"paihao:rongchang:20261127:02015"]


def test_sample_ticket_layout():
    data = render_ticket(SAMPLE)
    assert data.startswith(b"\x1b@")  # initialised first
    assert b"\x1ba\x01" in data[: data.index(ENTER_CHINESE)]  # site name centred
    assert b"\x1d!\x77" + b"02015\n" in data  # GS ! 8x width, 8x height: the largest size
    assert data.endswith(b"\x1dV\x00")  # full cut, after escpos's feed


def test_sample_ticket_matches_the_stored_bytes():
    data = render_ticket(SAMPLE)
    if os.environ.get("PAIHAO_REGEN_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_bytes(data)
    assert data == GOLDEN.read_bytes()


def test_rendering_is_deterministic():
    copy = TicketContent(**{**SAMPLE.__dict__, "windows": list(SAMPLE.windows)})
    assert render_ticket(SAMPLE) == render_ticket(copy)


def test_a_line_of_only_full_width_punctuation_survives():
    data = render_ticket(TicketContent(**{**SAMPLE.__dict__, "notice": "：（）【】"}))
    lines, _ = decode_ticket(data)
    assert lines[-1] == "：（）【】"
    assert b"?" not in data


def test_issued_at_is_printed_in_its_own_time_zone():
    utc = SAMPLE.issued_at.astimezone(timezone.utc)  # 01:03 UTC: the hall sends +08:00
    lines, _ = decode_ticket(render_ticket(TicketContent(**{**SAMPLE.__dict__, "issued_at": utc})))
    assert "取号时间 2026-11-27 01:03" in lines


def test_58mm_paper_narrows_the_number_so_it_never_wraps():
    data = render_ticket(SAMPLE, paper_dots=384)
    assert b"\x1d!\x57" + b"02015\n" in data  # 6x width (5 x 12 x 6 = 360 dots), 8x height


@pytest.mark.parametrize(
    "change, message",
    [
        ({"issued_at": datetime(2026, 11, 27, 9, 3)}, "timezone-aware"),
        ({"phone_masked": "13812345678"}, "full phone number"),
        ({"ahead": -1}, "negative"),
        ({"number": "０２０１５"}, "ASCII"),
    ],
)
def test_content_is_checked(change, message):
    with pytest.raises(ValueError, match=message):
        TicketContent(**{**SAMPLE.__dict__, **change})


@pytest.mark.parametrize(
    "windows, lines",
    [
        ([("5号窗口", 1)], ["请到 1楼 5号窗口"]),
        ([("5号窗口", 1), ("6号窗口", 1)], ["请到 1楼 5号、6号窗口"]),
        ([("12号窗口", 2), ("5号窗口", 1)], ["请到 1楼 5号窗口", "或 2楼 12号窗口"]),
        ([("综合受理台", 1), ("6号窗口", 1)], ["请到 1楼 综合受理台、6号窗口"]),
        ([("1号窗口", -1)], ["请到 地下1层 1号窗口"]),
        ([], []),
    ],
)
def test_window_lines(windows, lines):
    assert window_lines(windows) == lines


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "预计等候不到 1 分钟"), (1, "预计等候约 1 分钟"), (60, "预计等候约 1 分钟"), (61, "预计等候约 2 分钟")],
)
def test_wait_text(seconds, text):
    assert wait_text(seconds) == text


PRINTABLE = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),  # printable ASCII
    st.characters(min_codepoint=0x3000, max_codepoint=0x303F),  # CJK punctuation
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK unified ideographs
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),  # full-width forms
    st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),  # extension B: four bytes
)


@given(st.text(PRINTABLE))
def test_printable_chinese_and_ascii_round_trip(text):
    data = encode(text)
    assert data.decode("gb18030") == text
    assert data.count(b"?") == text.count("?")
    assert all(byte >= 0x20 for byte in data)  # never an ESC/POS command byte
    assert chinese(text) == ENTER_CHINESE + data + LEAVE_CHINESE


def test_control_characters_print_as_spaces():
    assert encode("a\tb\x1bc\x1c&\n") == b"a b c &\n"
