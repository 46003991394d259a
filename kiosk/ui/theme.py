"""Colours and the size scale shared by every screen.

Every text colour meets WCAG's 4.5:1 against what it is drawn on (the ratios
are noted); the body is a pale blue-grey so white cards stand out from it.

All lengths are written for a screen whose smaller side is 1080 px and scaled
by `Metrics.s`; the readability floor (see renderer.py) is `Metrics.cn_min` and
`Metrics.en_min`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Colour = tuple[int, int, int]

NAVY: Colour = (12, 52, 110)  # header: white on it 12:1
NAVY_LINE: Colour = (40, 92, 168)  # thin rule under the header
BG: Colour = (240, 243, 248)  # body
CARD: Colour = (255, 255, 255)
CARD_EDGE: Colour = (210, 218, 230)
SHADOW: Colour = (219, 225, 235)
INK: Colour = (20, 30, 46)  # main text; contrast with white 16.7:1
INK_SOFT: Colour = (72, 84, 102)  # English and secondary text: 7.7:1 on white
ACCENT: Colour = (20, 86, 184)  # buttons, counts: 6.9:1 with white
ACCENT_TINT: Colour = (229, 238, 251)
WHITE: Colour = (255, 255, 255)
RED: Colour = (190, 30, 36)  # banners and failures: 6.2:1 with white
GREEN: Colour = (24, 112, 62)
GREEN_TINT: Colour = (226, 243, 232)
AMBER: Colour = (150, 86, 0)
AMBER_TINT: Colour = (255, 241, 219)
OFF_FILL: Colour = (228, 232, 238)  # disabled tiles and buttons
OFF_INK: Colour = (88, 98, 112)  # text on OFF_FILL: 5:1, still readable when disabled
STATUS_FILL: Colour = (222, 228, 238)

# Chinese, Japanese kana and full-width forms: text containing any is held to
# the Chinese minimum size.
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")

REFERENCE_PX = 1080  # the smaller side the numbers below are written for
CN_MIN_REF, EN_MIN_REF = 32, 24  # minimum text sizes at the reference
CN_FLOOR, EN_FLOOR = 24, 18  # never smaller, however small the screen
TARGET_MIN_REF = 90  # minimum touch target side at the reference (about 22 mm)


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


@dataclass(frozen=True)
class Metrics:
    """A screen size and everything derived from it."""

    w: int
    h: int

    @property
    def s(self) -> float:
        return min(self.w, self.h) / REFERENCE_PX

    @property
    def portrait(self) -> bool:
        return self.h > self.w

    def px(self, length: float) -> int:
        return max(1, round(length * self.s))

    @property
    def cn_min(self) -> int:
        return max(CN_FLOOR, round(CN_MIN_REF * self.s))

    @property
    def en_min(self) -> int:
        return max(EN_FLOOR, round(EN_MIN_REF * self.s))

    @property
    def target_min(self) -> int:
        return self.px(TARGET_MIN_REF)

    def min_for(self, text: str) -> int:
        """The smallest size `text` may be drawn at."""
        return self.cn_min if has_cjk(text) else self.en_min
