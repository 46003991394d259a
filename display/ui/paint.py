"""Drawing text into boxes, and remembering where every text landed (for tests).

The font and its cache of rendered surfaces are the kiosk's (kiosk/ui/fonts.py);
the display only switches antialiasing off on LED walls, where a grey pixel is
an LED at half power and looks like a smudge. Every text is clipped to its box,
so nothing a region draws can spill into another.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import pygame

from display.ui.layout import PIXEL_SIZES
from display.views import Label
from kiosk.ui.fonts import Fonts

Colour = tuple[int, int, int]
Box = tuple[int, int, int, int]
INK_SAMPLE = "国"  # a full-height Chinese glyph: texts are centred on its ink, not on the line box
ELLIPSIS = "…"
BIG = 48  # from this size on, numbers are drawn digit by digit from cached glyphs


class DisplayFonts(Fonts):
    def __init__(self, path: str, *, antialiased: bool, cache_bytes: int = 16 * 1024 * 1024) -> None:
        # 16 MB: the banner's numbers at 200 px are ~0.6 MB each and must stay cached (a
        # surface over cache_bytes/16 is never kept), yet a day of numbers must not grow RSS.
        super().__init__(path, cache_bytes=cache_bytes)
        self._font.antialiased = antialiased
        self._ink: dict[int, tuple[int, int]] = {}
        self._boxes: OrderedDict[tuple[str, int], tuple[int, int, int, int]] = OrderedDict()

    def ink(self, size: int) -> tuple[int, int]:
        """(top, height) of a Chinese glyph's ink within a surface from ``render``."""
        found = self._ink.get(size)
        if found is None:
            _, top, _, height = self.ink_box(INK_SAMPLE, size)
            found = self._ink[size] = (top, height)
        return found

    def _ink_rect(self, text: str, size: int) -> pygame.Rect:
        # with ``pad`` (set for rendering: every surface one line box high) get_rect measures
        # the line box; without it, the ink
        self._font.pad = False
        try:
            return self._font.get_rect(text, size=size)
        finally:
            self._font.pad = True

    def ink_box(self, text: str, size: int) -> tuple[int, int, int, int]:
        """(x, y, w, h) of the ink of ``text`` within a surface from ``render``."""
        key = (text, size)
        box = self._boxes.get(key)
        if box is None:
            rect = self._ink_rect(text, size)
            box = (rect.x, self.ascender(size) - rect.y, rect.width, rect.height)
            self._remember(self._boxes, key, box)
        return box


@dataclass
class Drawn:
    text: str
    rect: Box  # what of it is on the screen (clipped to its box)
    size_px: int
    role: str
    region: str
    ink: Box  # where its ink would be, unclipped: a text that does not fit its box sticks out of it


class Painter:
    """Draws into one region; ``texts`` lists what it drew."""

    def __init__(self, surface: pygame.Surface, fonts: DisplayFonts, region: str, area: Box, exact: bool) -> None:
        self.surface, self.fonts, self.region, self.exact = surface, fonts, region, exact
        self.area = pygame.Rect(area)
        self.texts: list[Drawn] = []

    def fill(self, box: Box, colour: Colour) -> None:
        self.surface.fill(colour, pygame.Rect(box).clip(self.area))

    def sizes(self, size: int, min_size: int) -> list[int]:
        """Sizes to try, largest first: pixel-exact ones on LED walls."""
        if self.exact:
            return [s for s in reversed(PIXEL_SIZES) if min_size <= s <= size] or [min(size, min_size)]
        out, s = [], float(size)
        while round(s) >= min_size:
            out.append(round(s))
            s *= 0.92
        return out or [min_size]

    def floor(self, size: int) -> int:
        """The smallest a text of ``size`` may shrink to."""
        return min(size, 16) if self.exact else max(12, round(size * 0.7))

    def choose(self, text: Label, width: int, size: int) -> str:
        """The longest form of ``text`` that fits ``width`` at ``size``; else its shortest (to be cut with …)."""
        if isinstance(text, str):
            return text
        return next((t for t in text if self.fonts.width(t, size) <= width), text[-1])

    def fit(self, parts: list[str], width: int, size: int, min_size: int | None = None) -> tuple[int, list[str]]:
        """A size at which the parts, side by side, fit ``width``; the last part is cut with … if none does."""
        sizes = self.sizes(size, self.floor(size) if min_size is None else min_size)
        for s in sizes:
            if sum(self.fonts.width(p, s) for p in parts) <= width:
                return s, parts
        s = sizes[-1]
        head = sum(self.fonts.width(p, s) for p in parts[:-1])
        last = parts[-1]
        while last and head + self.fonts.width(last + ELLIPSIS, s) > width:
            last = last[:-1]
        return s, [*parts[:-1], last + ELLIPSIS if last else ""]

    def line(self, text: str, box: Box, size: int, colour: Colour, *, align: str = "left",
             role: str = "", min_size: int | None = None) -> int:
        """One line of text in ``box``, shrunk or cut to fit; returns its right edge."""
        return self.segments([(text, colour, role)], box, size, align=align, min_size=min_size)

    def segments(self, parts: list[tuple[str, Colour, str]], box: Box, size: int, *, align: str = "left",
                 min_size: int | None = None) -> int:
        """Texts of different colours on one line, sized together."""
        x, y, w, h = box
        s, fitted = self.fit([p[0] for p in parts], w, size, min_size)
        widths = [self.fonts.width(t, s) for t in fitted]
        total = sum(widths)
        left = x if align == "left" else x + w - total if align == "right" else x + (w - total) // 2
        ink_top, ink_h = self.fonts.ink(s)
        top = y + (h - ink_h) // 2 - ink_top
        clip = pygame.Rect(box).clip(self.area)
        for text, width, (_, colour, role) in zip(fitted, widths, parts, strict=True):
            if text.strip():
                self._blit(text, s, colour, left, top, clip, role)
            left += width
        return left

    def _blit(self, text: str, size: int, colour: Colour, x: int, y: int, clip: pygame.Rect, role: str) -> None:
        if size >= BIG and len(text) > 1 and text.isdigit():
            # A new ticket number at banner size would cost a millisecond or two of rasterising,
            # in the very frame that must show it: built from ten cached digits instead (the
            # font's digits have one advance width, so the result is the same picture).
            pieces = [(ch, self.fonts.width(ch, size)) for ch in text]
        else:
            pieces = [(text, 0)]
        shown_all: pygame.Rect | None = None
        left = x
        for piece, advance in pieces:
            surface = self.fonts.render(piece, size, colour)
            target = pygame.Rect(left, y, surface.get_width(), surface.get_height())
            shown = target.clip(clip)
            if shown.w > 0 and shown.h > 0:
                self.surface.blit(surface, shown.topleft, pygame.Rect(shown.x - left, shown.y - y, shown.w, shown.h))
                shown_all = shown if shown_all is None else shown_all.union(shown)
            left += advance
        if shown_all is not None:
            ix, iy, iw, ih = self.fonts.ink_box(text, size)
            self.texts.append(Drawn(text, tuple(shown_all), size, role, self.region, (x + ix, y + iy, iw, ih)))
