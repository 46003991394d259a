"""Fitting text into boxes (kiosk/ui/text.py), with the kiosk's real font:
whatever the text and the box, nothing leaves the box and nothing is smaller
than its minimum."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from kiosk.ui.fonts import Fonts
from kiosk.ui.text import Block, Fitter, balanced, ellipsize, tokens, wrap

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


@pytest.fixture(scope="module")
def fonts() -> Fonts:
    return Fonts(FONT)


@pytest.mark.parametrize("text, expected", [
    ("公安局", ["公", "安", "局"]),
    ("Public Security", ["Public", " ", "Security"]),
    ("等候 12 人", ["等", "候", " ", "12", " ", "人"]),
    ("不正确，请重新输入", ["不", "正", "确，", "请", "重", "新", "输", "入"]),  # no line starts with "，"
    ("户口迁移（迁入）", ["户", "口", "迁", "移", "（迁", "入）"]),  # "（" never ends a line
    ("Printing failed — please", ["Printing", " ", "failed", " ", "—", " ", "please"]),
])
def test_tokens(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


def test_wrap_breaks_chinese_anywhere_and_english_at_spaces(fonts: Fonts) -> None:
    def measure(t: str) -> int:
        return fonts.width(t, 32)

    assert wrap("人力资源和社会保障局", 5 * 32, measure) == ["人力资源和", "社会保障局"]
    assert wrap("Human Resources and Social Security", fonts.width("Human Resources and", 32), measure) == [
        "Human Resources and", "Social Security"]
    assert balanced("道路运输从业人员从业资格证补证换证", 16 * 32, measure) == ["道路运输从业人员从", "业资格证补证换证"]


def test_ellipsize(fonts: Fonts) -> None:
    def measure(t: str) -> int:
        return fonts.width(t, 24)

    cut = ellipsize("Administration for Market Regulation", 200, measure)
    assert cut.endswith("…") and measure(cut) <= 200
    assert ellipsize("国", 5, measure) == ""


def test_shrinks_before_wrapping_and_never_below_the_minimum(fonts: Fonts) -> None:
    fitter = Fitter(fonts.width, fonts.line_height)
    text = "人力资源和社会保障局"
    (placed,) = fitter.fit((Block(text, 40, 32, max_lines=2, shrink=0),), fonts.width(text, 34), 200)
    assert placed.size == 34 and placed.lines == (text,)
    (placed,) = fitter.fit((Block(text, 40, 32, max_lines=2, shrink=0),), fonts.width(text, 30), 200)
    assert placed.size >= 32 and len(placed.lines) == 2


def test_english_goes_before_chinese_when_there_is_no_room(fonts: Fonts) -> None:
    fitter = Fitter(fonts.width, fonts.line_height)
    blocks = (Block("公安局", 40, 32), Block("Public Security Bureau", 26, 24))
    placed = fitter.fit(blocks, 400, fonts.line_height(40))
    assert [p.block for p in placed] == [0]


CHARS = st.sampled_from(list("人力资源和社会保障局住房城乡建设，。（）、") + list("abcdefghijKLMNOP0123 -—'.,"))


@given(cn=st.text(CHARS, min_size=1, max_size=40), en=st.text(CHARS, max_size=60),
       width=st.integers(1, 900), height=st.integers(1, 400), size=st.integers(32, 160),
       lines=st.integers(1, 3), shrink=st.sampled_from([0.0, 0.8, 1.0]))
@settings(max_examples=300, deadline=None)
def test_fitted_text_stays_in_its_box(fonts: Fonts, cn, en, width, height, size, lines, shrink) -> None:
    fitter = Fitter(fonts.width, fonts.line_height)
    blocks = (Block(cn, size, 32, lines, True, shrink), Block(en, 26, 24, 2, False, 1.0))
    placed = fitter.fit(blocks, width, height, 4)
    assert fitter.height(placed, 4) <= height
    for p in placed:
        block = blocks[p.block]
        assert block.min_size <= p.size <= block.size
        assert 1 <= len(p.lines) <= block.max_lines
        assert all(fonts.width(line, p.size, block.strong) <= width for line in p.lines)
