"""Two colour schemes.

``led``: what an LED wall can show well — pure red, green and yellow on black
(each LED is on or off; mixed colours and greys look uneven from across a hall).
``contrast``: for LCD panels — white text on black, yellow numbers, and cards as
filled badges (red with white text, yellow with black).
"""

from __future__ import annotations

from dataclasses import dataclass

Colour = tuple[int, int, int]

BLACK: Colour = (0, 0, 0)
RED: Colour = (255, 0, 0)
GREEN: Colour = (0, 255, 0)
YELLOW: Colour = (255, 255, 0)
WHITE: Colour = (255, 255, 255)


@dataclass(frozen=True)
class Theme:
    name: str
    bg: Colour
    text: Colour  # names, words of the banner
    title: Colour  # section titles, the site's name
    number: Colour  # ticket numbers, window numbers, counts
    clock: Colour
    red: Colour
    yellow: Colour
    ok: Colour  # a window serving within its limit
    strip_bg: Colour  # the reconnecting strip
    strip_fg: Colour
    flash_bg: Colour  # a new call's banner, every other half second
    flash_fg: Colour
    rule: Colour | None  # thin lines between sections; None on LED
    badges: bool  # cards drawn as filled badges


LED = Theme(name="led", bg=BLACK, text=RED, title=GREEN, number=YELLOW, clock=YELLOW, red=RED, yellow=YELLOW,
            ok=GREEN, strip_bg=RED, strip_fg=YELLOW, flash_bg=RED, flash_fg=YELLOW, rule=None, badges=False)

CONTRAST = Theme(name="contrast", bg=BLACK, text=WHITE, title=(120, 200, 255), number=YELLOW, clock=WHITE,
                 red=(255, 60, 60), yellow=YELLOW, ok=(80, 230, 120), strip_bg=YELLOW, strip_fg=BLACK,
                 flash_bg=YELLOW, flash_fg=BLACK, rule=(110, 110, 110), badges=True)

THEMES = {"led": LED, "contrast": CONTRAST}
