"""The small screen above one window: its name and clerk, the number it serves
(or what it is doing), and its card colour — a yellow or red band, as the wall shows it."""

from __future__ import annotations

from display.ui.layout import Region
from display.ui.paint import Painter
from display.ui.theme import BLACK, Theme
from display.views import WindowHeadModel, WindowNumberModel, WindowStatusModel


def _card_colours(t: Theme, card: str) -> tuple[tuple[int, int, int], tuple[int, int, int]] | None:
    """(fill, text) of a band in the card's colour, or None for no card."""
    if card == "red":
        return t.red, t.yellow if not t.badges else (255, 255, 255)
    if card == "yellow":
        return t.yellow, BLACK
    return None


def draw_window_head(p: Painter, r: Region, t: Theme, m: WindowHeadModel) -> None:
    x, y, w, h = r.rect
    band = _card_colours(t, m.card)
    if band:
        p.fill(r.rect, band[0])
    name_colour, clerk_colour = (band[1], band[1]) if band else (t.title, t.text)
    pad = max(2, r.size // 4)
    if m.clerk:
        clerk_w = min(w // 2, p.fonts.width(m.clerk, r.size) + 2)
        p.line(m.clerk, (x + w - pad - clerk_w, y, clerk_w, h), r.size, clerk_colour, role="clerk")
        w -= clerk_w + pad
    p.line(m.name, (x + pad, y, w - 2 * pad, h), r.size, name_colour, role="window")


def draw_window_number(p: Painter, r: Region, t: Theme, m: WindowNumberModel) -> None:
    if m.flash == 1:
        p.fill(r.rect, t.flash_bg)
    colour = t.flash_fg if m.flash == 1 else (t.number if m.is_number else t.text)
    size = r.size if m.is_number else max(16, r.size // 2)
    p.line(m.text, r.rect, size, colour, align="center", role="number" if m.is_number else "state")


def draw_window_status(p: Painter, r: Region, t: Theme, m: WindowStatusModel) -> None:
    band = _card_colours(t, m.card)
    if band:
        p.fill(r.rect, band[0])
    text = p.choose(m.text, r.rect[2] - 2 * max(2, r.size // 4), r.size)
    p.line(text, r.rect, r.size, band[1] if band else t.ok, align="center", role="status")


WINDOW_DRAWERS = {WindowHeadModel: draw_window_head, WindowNumberModel: draw_window_number,
                  WindowStatusModel: draw_window_status}
