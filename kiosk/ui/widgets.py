"""Drawing primitives every screen uses: text fitted into a box, cards, buttons.

A `Painter` draws one frame: it owns the Frame being built, so every text and
every tap target lands in it as it is drawn. Text never leaves the box it is
given: it wraps, shrinks to the readability floor, then is cut with "…".
"""

from __future__ import annotations

from dataclasses import dataclass

import pygame

from kiosk.ui import theme as t
from kiosk.ui.fonts import Fonts
from kiosk.ui.text import Block, Fitter
from kiosk.views import Drawn, Frame, Text

Rect = pygame.Rect


def from_y(rect: Rect, y: int) -> Rect:
    """The part of `rect` below y (assigning Rect.top would move it instead)."""
    return Rect(rect.x, y, rect.w, max(0, rect.bottom - y))


def to_y(rect: Rect, y: int) -> Rect:
    """The part of `rect` above y."""
    return Rect(rect.x, rect.y, rect.w, max(0, y - rect.y))


@dataclass(frozen=True)
class Style:
    """How a button or card looks."""

    fill: t.Colour
    ink: t.Colour
    ink_soft: t.Colour
    edge: t.Colour | None = None
    shadow: bool = True


PRIMARY = Style(t.ACCENT, t.WHITE, t.WHITE)
SECONDARY = Style(t.CARD, t.ACCENT, t.INK_SOFT, edge=t.ACCENT)
DISABLED = Style(t.OFF_FILL, t.OFF_INK, t.OFF_INK, shadow=False)
CARD = Style(t.CARD, t.INK, t.INK_SOFT, edge=t.CARD_EDGE)


@dataclass(frozen=True)
class Piece:
    """A paragraph to draw: the painter holds it to the readability floor."""

    text: str
    size: int
    colour: t.Colour
    role: str = ""
    max_lines: int = 1
    strong: bool = False
    shrink: float = 0.8  # shrink this far (a fraction of size) before wrapping; 0: to the minimum


class Painter:
    def __init__(self, surface: pygame.Surface, fonts: Fonts, fitter: Fitter) -> None:
        self.surface = surface
        self.fonts = fonts
        self.fitter = fitter
        self.m = t.Metrics(*surface.get_size())
        self.screen = surface.get_rect()
        self.frame = Frame()

    def px(self, length: float) -> int:
        return self.m.px(length)

    # --- shapes -------------------------------------------------------------

    def box(self, rect: Rect, fill: t.Colour, radius: int = 0, edge: t.Colour | None = None,
            shadow: bool = False) -> None:
        if shadow:
            drop = max(2, self.px(4))
            pygame.draw.rect(self.surface, t.SHADOW, rect.move(0, drop), border_radius=radius)
        pygame.draw.rect(self.surface, fill, rect, border_radius=radius)
        if edge is not None:
            pygame.draw.rect(self.surface, edge, rect, width=max(1, self.px(2)), border_radius=radius)

    def card(self, rect: Rect, style: Style = CARD) -> None:
        self.box(rect, style.fill, self.px(18), style.edge, style.shadow)

    def target(self, name: str, rect: Rect) -> None:
        self.frame.targets[name] = (rect.x, rect.y, rect.w, rect.h)

    # --- text ---------------------------------------------------------------

    def text(self, rect: Rect, pieces: list[Piece], align: str = "left", valign: str = "top", gap: int = 0) -> Rect:
        """Fit `pieces` one beneath the other into `rect`; returns the rectangle the text covers."""
        pieces = [p for p in pieces if p.text.strip()]
        placed = self.fitter.fit(self._blocks(pieces), rect.w, rect.h, gap)
        total = self.fitter.height(placed, gap)
        y = {"top": rect.y, "center": rect.y + (rect.h - total) // 2, "bottom": rect.bottom - total}[valign]
        covered = Rect(rect.x, y, 0, 0)
        for place in placed:
            piece = pieces[place.block]
            for line in place.lines:
                drawn = self._line(line, place.size, piece, rect, y, align)
                covered = covered.union(drawn) if covered.w else drawn
                y += self.fonts.line_height(place.size)
            y += gap
        return covered

    def fitted_sizes(self, rect: Rect, pieces: list[Piece], gap: int = 0) -> list[int | None]:
        """The size each piece would be drawn at in `rect` (None: left out), to give several boxes one size."""
        placed = self.fitter.fit(self._blocks(pieces), rect.w, rect.h, gap)
        sizes: list[int | None] = [None] * len(pieces)
        for place in placed:
            sizes[place.block] = place.size
        return sizes

    def _blocks(self, pieces: list[Piece]) -> tuple[Block, ...]:
        return tuple(Block(p.text, max(p.size, self.m.min_for(p.text)), self.m.min_for(p.text), p.max_lines,
                           p.strong, p.shrink) for p in pieces)

    def _line(self, line: str, size: int, piece: Piece, rect: Rect, y: int, align: str) -> Rect:
        surf = self.fonts.render(line, size, piece.colour, piece.strong)
        w = surf.get_width()
        x = {"left": rect.x, "center": rect.centerx - w // 2, "right": rect.right - w}[align]
        where = Rect(x, y, w, surf.get_height())
        if not rect.contains(where) or not self.screen.contains(where):
            return Rect(x, y, 0, 0)  # the fitter keeps this from happening; never draw outside the box
        self.surface.blit(surf, where)
        self.frame.texts.append(Drawn(line, (where.x, where.y, where.w, where.h), size, piece.role))
        return where

    def pair(self, rect: Rect, text: Text, cn: int, en: int, colour: t.Colour, soft: t.Colour, role: str = "",
             align: str = "left", valign: str = "top", cn_lines: int = 2, en_lines: int = 1, strong: bool = True,
             shrink: float = 0.8) -> Rect:
        """Chinese, and English beneath in smaller type."""
        return self.text(rect, self.pair_pieces(text, cn, en, colour, soft, role, cn_lines, en_lines, strong, shrink),
                         align, valign, gap=self.px(4))

    def pair_pieces(self, text: Text, cn: int, en: int, colour: t.Colour, soft: t.Colour, role: str = "",
                    cn_lines: int = 2, en_lines: int = 1, strong: bool = True, shrink: float = 0.8) -> list[Piece]:
        return [Piece(text[0], cn, colour, role, cn_lines, strong, shrink),
                Piece(text[1], en, soft, role, en_lines, shrink=1.0)]

    def inline(self, rect: Rect, text: Text, cn: int, en: int, colour: t.Colour, soft: t.Colour, role: str = "",
               align: str = "left", strong: bool = True) -> Rect:
        """Chinese then English on one line, sharing a baseline; stacked if the line is too long."""
        cn, en = max(cn, self.m.min_for(text[0])), max(en, self.m.min_for(text[1]))
        space = self.fonts.width("  ", en)
        widths = (self.fonts.width(text[0], cn, strong), self.fonts.width(text[1], en) if text[1] else 0)
        line_h = self.fonts.line_height(cn)
        if not text[1] or sum(widths) + space > rect.w or line_h > rect.h:
            return self.pair(rect, text, cn, en, colour, soft, role, align, "center", cn_lines=1)
        total = sum(widths) + space
        x = {"left": rect.x, "center": rect.centerx - total // 2, "right": rect.right - total}[align]
        y = rect.centery - line_h // 2
        first = self.text(Rect(x, y, widths[0], line_h), [Piece(text[0], cn, colour, role, strong=strong)])
        base = y + self.fonts.ascender(cn) - self.fonts.ascender(en)
        x2 = x + widths[0] + space
        second = self.text(Rect(x2, base, widths[1], self.fonts.line_height(en)), [Piece(text[1], en, soft, role)])
        return first.union(second)

    # --- controls -----------------------------------------------------------

    def button(self, name: str | None, rect: Rect, label: Text, style: Style = PRIMARY,
               cn: int = 40, en: int = 26, role: str = "button") -> None:
        """A rounded button; `name` None draws it without making it a target (disabled)."""
        self.box(rect, style.fill, self.px(16), style.edge, style.shadow)
        pad = self.px(12)
        self.pair(rect.inflate(-2 * pad, -2 * pad), label, self.px(cn), self.px(en), style.ink, style.ink_soft,
                  role, "center", "center", cn_lines=1)
        if name is not None:
            self.target(name, rect)

    def chevron(self, rect: Rect, colour: t.Colour, left: bool = True) -> None:
        """A "<" (or ">") drawn as lines: the font has no reliable arrow glyph."""
        w = max(3, self.px(6))
        a, b = (rect.right, rect.left) if left else (rect.left, rect.right)
        pygame.draw.lines(self.surface, colour, False, [(a, rect.top), (b, rect.centery), (a, rect.bottom)], w)
