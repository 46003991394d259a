"""One font face for the whole kiosk, with its text surfaces cached.

A 30 fps loop redraws the same strings over and over; rasterising Chinese at
200 px costs far more than a dictionary lookup, so surfaces and widths are
kept, least recently used first out. Surfaces are bounded by their bytes, not
their number, and the largest (a ticket number on the done screen, a megabyte
each, shown once) are not kept at all: a day of tickets, or a clock ticking
all day, must not grow the kiosk's memory.
"""

from __future__ import annotations

import os
from collections import OrderedDict

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame
import pygame.freetype

Colour = tuple[int, int, int]


class Fonts:
    """A font file (a .ttc collection needs `face_index`) rendered through pygame.freetype.

    Every surface is padded to the face's full line box (ascender to descender),
    so lines of one size stack evenly and share a baseline.
    """

    # 4 MB holds every screen's steady text (bench/kiosk.py's frame times are the same as
    # with 8 MB); at 8 MB a kiosk in service grew to its 80 MB limit as the cache filled.
    def __init__(self, path: str, face_index: int = 0, cache_size: int = 4096,
                 cache_bytes: int = 4 * 1024 * 1024) -> None:
        if not pygame.freetype.get_init():
            pygame.freetype.init()
        self.path = path
        self._font = pygame.freetype.Font(path, size=32, font_index=face_index)
        self._font.pad = True
        self._font.antialiased = True
        self._cache_size = cache_size
        self._cache_bytes = cache_bytes
        self._bytes = 0
        self._surfaces: OrderedDict[tuple, pygame.Surface] = OrderedDict()
        self._widths: OrderedDict[tuple, int] = OrderedDict()
        self._lines: dict[int, tuple[int, int]] = {}  # size -> (line height, ascender)

    @property
    def name(self) -> str:
        return self._font.name

    def render(self, text: str, size_px: int, color: Colour, strong: bool = False) -> pygame.Surface:
        """`text` on a transparent surface `line_height(size_px)` high. Do not draw on it: it is shared."""
        key = (text, size_px, tuple(color), strong)
        surface = self._surfaces.get(key)
        if surface is None:
            surface, _ = self._font.render(text, color, size=size_px, style=self._style(strong))
            if pygame.display.get_surface() is not None:
                surface = surface.convert_alpha()  # the display's pixel format: blits take the fast path
            if _size(surface) > self._cache_bytes // 16:
                return surface  # a ticket number, huge and shown once: not worth its memory
            self._surfaces[key] = surface
            self._bytes += _size(surface)
            while self._bytes > self._cache_bytes:
                self._bytes -= _size(self._surfaces.popitem(last=False)[1])
        else:
            self._surfaces.move_to_end(key)
        return surface

    def width(self, text: str, size_px: int, strong: bool = False) -> int:
        key = (text, size_px, strong)
        width = self._widths.get(key)
        if width is None:
            width = self._font.get_rect(text, size=size_px, style=self._style(strong)).width
            self._remember(self._widths, key, width)
        return width

    def line_height(self, size_px: int) -> int:
        """Height of every surface `render` returns at this size."""
        return self._line(size_px)[0]

    def ascender(self, size_px: int) -> int:
        """From the top of a rendered surface down to the baseline."""
        return self._line(size_px)[1]

    def _line(self, size_px: int) -> tuple[int, int]:
        line = self._lines.get(size_px)
        if line is None:
            line = self._font.get_rect("", size=size_px).height, self._font.get_sized_ascender(size_px)
            self._lines[size_px] = line
        return line

    def missing(self, text: str) -> str:
        """The characters of `text` this face has no glyph for (drawn as boxes)."""
        metrics = self._font.get_metrics(text, size=32)
        return "".join(ch for ch, m in zip(text, metrics) if m is None and not ch.isspace())

    def _style(self, strong: bool) -> int:
        return pygame.freetype.STYLE_STRONG if strong else pygame.freetype.STYLE_DEFAULT

    def _remember(self, cache: OrderedDict, key: tuple, value: object) -> None:
        cache[key] = value
        if len(cache) > self._cache_size:
            cache.popitem(last=False)

    @property
    def cached_bytes(self) -> int:
        """Memory held by cached surfaces, at most `cache_bytes`."""
        return self._bytes


def _size(surface: pygame.Surface) -> int:
    return surface.get_pitch() * surface.get_height()
