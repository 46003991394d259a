"""The on-screen keypad for the mobile number.

Portrait: title, the number typed so far, the error, a 3x4 grid and OK, one
beneath the other. Landscape: the number, error and OK on the left, the grid
on the right, so the keys stay large on a short screen.
"""

from __future__ import annotations

import pygame

from kiosk.ui import theme as t
from kiosk.ui.chrome import draw_chrome, title_bar
from kiosk.ui.widgets import DISABLED, PRIMARY, Painter, Piece, Style, from_y
from kiosk.views import KeypadView, Text

Rect = pygame.Rect

OK: Text = ("确定", "OK")
CLEAR: Text = ("清除", "Clear")
BACKSPACE: Text = ("退格", "Backspace")
PHONE_DIGITS = 11
KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "backspace")
DIGIT = Style(t.CARD, t.INK, t.INK_SOFT, edge=t.CARD_EDGE)
EDIT = Style(t.ACCENT_TINT, t.ACCENT, t.INK_SOFT)


def draw_keypad(p: Painter, view: KeypadView) -> None:
    area = title_bar(p, draw_chrome(p, view.chrome), view.title)
    gap = p.px(20)
    if p.m.portrait:
        grid_w = min(area.w, p.px(840))
        left = Rect(area.centerx - grid_w // 2, area.y, grid_w, area.h)
        echo = Rect(left.x, left.y, left.w, p.px(132))
        error = Rect(left.x, echo.bottom + p.px(54), left.w, p.px(96))
        ok = Rect(left.x, 0, left.w, p.px(132))
        key_h = min(p.px(190), (area.bottom - error.bottom - 5 * gap - ok.h) // 4)
        grid = Rect(left.x, error.bottom + gap, left.w, 4 * key_h + 3 * gap)
        ok.top = grid.bottom + 2 * gap
    else:
        left = Rect(area.x, area.y, (area.w - 2 * gap) * 9 // 20, area.h)
        grid = Rect(left.right + 2 * gap, area.y, area.right - left.right - 2 * gap, area.h)
        echo = Rect(left.x, left.y, left.w, p.px(132))
        error = Rect(left.x, echo.bottom + p.px(64), left.w, p.px(110))
        ok = Rect(left.x, area.bottom - p.px(150), left.w, p.px(150))
    _echo(p, echo, view.echo)
    _progress(p, Rect(echo.x, echo.bottom + p.px(14), echo.w, p.px(24)), len(view.echo))
    if view.error:
        p.pair(error, view.error, p.px(36), p.px(26), t.RED, t.RED, "error", "center", "top", cn_lines=2)
    _grid(p, grid, gap)
    ok_name = "key:ok" if view.can_confirm else None
    p.button(ok_name, ok, OK, PRIMARY if view.can_confirm else DISABLED, cn=48, en=30, role="key")


def _echo(p: Painter, rect: Rect, echo: str) -> None:
    """The digits so far (masked by the caller), in a field with a caret after them."""
    p.box(rect, t.CARD, p.px(16), t.ACCENT)
    size = p.px(64)
    inner = rect.inflate(-2 * p.px(28), -p.px(16))
    drawn = p.text(inner, [Piece(echo, size, t.INK, "echo", strong=True)], "center", "center") if echo else None
    caret_h = p.fonts.ascender(size)
    x = drawn.right + p.px(6) if drawn and drawn.w else rect.centerx
    caret = Rect(x, rect.centery - caret_h // 2, max(2, p.px(4)), caret_h)
    if rect.contains(caret):
        pygame.draw.rect(p.surface, t.ACCENT, caret)


def _progress(p: Painter, rect: Rect, typed: int) -> None:
    """One dot per digit of a mainland mobile number, filled as they are typed."""
    if typed > PHONE_DIGITS:
        return
    r = min(rect.h // 2, p.px(10))
    step = r * 3
    x0 = rect.centerx - step * (PHONE_DIGITS - 1) // 2
    for i in range(PHONE_DIGITS):
        centre = (x0 + i * step, rect.centery)
        if i < typed:
            pygame.draw.circle(p.surface, t.ACCENT, centre, r)
        else:
            pygame.draw.circle(p.surface, t.CARD_EDGE, centre, r, max(2, p.px(3)))


def _grid(p: Painter, grid: Rect, gap: int) -> None:
    key_w = (grid.w - 2 * gap) // 3
    key_h = (grid.h - 3 * gap) // 4
    for i, key in enumerate(KEYS):
        r, c = divmod(i, 3)
        rect = Rect(grid.x + c * (key_w + gap), grid.y + r * (key_h + gap), key_w, key_h)
        if key.isdigit():
            p.box(rect, DIGIT.fill, p.px(16), DIGIT.edge, shadow=True)
            p.text(rect.inflate(-p.px(8), -p.px(8)), [Piece(key, p.px(64), t.INK, "key", strong=True)],
                   "center", "center")
        elif key == "clear":
            p.button(None, rect, CLEAR, EDIT, cn=40, en=28, role="key")
        else:
            _backspace(p, rect)
        p.target(f"key:{key}", rect)


def _backspace(p: Painter, rect: Rect) -> None:
    """退格 with a drawn backspace sign above it (the font has no ⌫ glyph)."""
    p.box(rect, EDIT.fill, p.px(16))
    label_h = p.fonts.line_height(p.px(36)) + p.fonts.line_height(p.px(26)) + p.px(4)
    icon_h = min(p.px(40), rect.h - label_h - p.px(24))
    top = rect.centery - (icon_h + p.px(8) + label_h) // 2
    if icon_h >= p.px(20):
        _backspace_icon(p, Rect(rect.centerx - icon_h * 3 // 4, top, icon_h * 3 // 2, icon_h))
        top += icon_h + p.px(8)
    label = from_y(rect.inflate(-p.px(12), 0), top)
    label.h = min(label.h, rect.bottom - p.px(6) - top)
    p.pair(label, BACKSPACE, p.px(40), p.px(28), EDIT.ink, EDIT.ink_soft, "key", "center", "top", cn_lines=1)


def _backspace_icon(p: Painter, r: Rect) -> None:
    w = max(2, p.px(4))
    notch = r.h // 2
    outline = [(r.x, r.centery), (r.x + notch, r.y), (r.right, r.y), (r.right, r.bottom), (r.x + notch, r.bottom)]
    pygame.draw.polygon(p.surface, EDIT.ink, outline, w)
    cx, cy, d = r.x + notch + (r.w - notch) // 2, r.centery, r.h // 5
    pygame.draw.line(p.surface, EDIT.ink, (cx - d, cy - d), (cx + d, cy + d), w)
    pygame.draw.line(p.surface, EDIT.ink, (cx - d, cy + d), (cx + d, cy - d), w)
