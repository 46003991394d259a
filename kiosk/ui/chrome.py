"""What every screen has: the header (site name, clock), the "paused" banner,
the staff status line at the bottom; and the title bar with its back button,
in the same place on every screen that has one."""

from __future__ import annotations

import pygame

from kiosk.ui import theme as t
from kiosk.ui.widgets import Painter, Piece, from_y, to_y
from kiosk.views import Chrome, Text

Rect = pygame.Rect

PAUSED: Text = ("暂停取号", "Ticketing paused")
BACK: Text = ("返回", "Back")


def draw_chrome(p: Painter, chrome: Chrome) -> Rect:
    """Header, banner and status line; returns the body left for the screen."""
    body = p.screen.copy()
    header = Rect(0, 0, p.m.w, p.px(112))
    _header(p, header, chrome)
    body = from_y(body, header.bottom)
    if chrome.paused:
        banner = Rect(0, body.top, p.m.w, p.px(84))
        _banner(p, banner)
        body = from_y(body, banner.bottom)
    if chrome.status_line:
        bar = Rect(0, p.m.h - p.px(56), p.m.w, p.px(56))
        bar.h = max(bar.h, p.fonts.line_height(p.m.cn_min) + p.px(8))
        bar.bottom = p.m.h
        pygame.draw.rect(p.surface, t.STATUS_FILL, bar)
        inner = bar.inflate(-2 * p.px(40), 0)
        p.text(inner, [Piece(chrome.status_line, p.m.cn_min, t.INK_SOFT, "status")], "left", "center")
        body = to_y(body, bar.top)
    return body


def _header(p: Painter, rect: Rect, chrome: Chrome) -> None:
    pygame.draw.rect(p.surface, t.NAVY, rect)
    pygame.draw.rect(p.surface, t.NAVY_LINE, Rect(0, rect.bottom - p.px(6), rect.w, p.px(6)))
    inner = Rect(rect.x + p.px(40), rect.y, rect.w - 2 * p.px(40), rect.h - p.px(6))
    size = p.px(46)
    clock_w = p.fonts.width(chrome.clock, size, True) if chrome.clock else 0
    clock = Rect(inner.right - clock_w, inner.y, clock_w, inner.h)
    p.text(clock, [Piece(chrome.clock, size, t.WHITE, "clock", strong=True)], "right", "center")
    site = Rect(inner.x, inner.y, inner.w - clock_w - p.px(40), inner.h)
    p.text(site, [Piece(chrome.site_name, size, t.WHITE, "site", strong=True)], "left", "center")


def _banner(p: Painter, rect: Rect) -> None:
    pygame.draw.rect(p.surface, t.RED, rect)
    p.inline(rect.inflate(-2 * p.px(40), -p.px(8)), PAUSED, p.px(40), p.px(30), t.WHITE, t.WHITE, "banner", "center")


def title_bar(p: Painter, body: Rect, title: Text) -> Rect:
    """A back button and the screen's title; returns the body below it, margins taken off."""
    margin = p.px(30)
    bar = Rect(body.x + margin, body.y + p.px(22), body.w - 2 * margin, p.px(104))
    back = Rect(bar.x, bar.y, p.px(196), bar.h)
    p.box(back, t.CARD, p.px(16), t.ACCENT, shadow=True)
    arrow = Rect(0, 0, p.px(16), p.px(32))
    arrow.midleft = (back.x + p.px(24), back.centery)
    p.chevron(arrow, t.ACCENT)
    label = Rect(arrow.right + p.px(10), back.y + p.px(8), back.right - arrow.right - p.px(20), back.h - p.px(16))
    p.pair(label, BACK, p.px(36), p.px(26), t.ACCENT, t.INK_SOFT, "button", "center", "center", cn_lines=1)
    p.target("back", back)
    heading = Rect(back.right + p.px(28), bar.y, bar.right - back.right - p.px(28), bar.h)
    p.pair(heading, title, p.px(46), p.px(28), t.INK, t.INK_SOFT, "title", "left", "center", cn_lines=1)
    return from_y(Rect(bar.x, 0, bar.w, body.bottom - p.px(22)), bar.bottom + p.px(24))
