"""The end of the flow: printing, the number taken, and notices that take none."""

from __future__ import annotations

import math

import pygame

from kiosk.ui import theme as t
from kiosk.ui.chrome import draw_chrome
from kiosk.ui.widgets import PRIMARY, SECONDARY, Painter, Piece, from_y
from kiosk.views import BusyView, DoneView, MessageView, Text

Rect = pygame.Rect

HOME: Text = ("返回首页", "Home")
YOUR_NUMBER: Text = ("您的号码", "Your number")
TAKE_TICKET: Text = ("请取走号票，留意叫号", "Please take your ticket and listen for your number")
PRINT_FAILED: Text = ("出票失败，请记下您的号码", "Printing failed — please note your number")


def draw_busy(p: Painter, view: BusyView) -> None:
    body = draw_chrome(p, view.chrome)
    card = _centred_card(p, body, p.px(420))
    ring = Rect(0, 0, p.px(110), p.px(110))
    ring.midtop = (card.centerx, card.y + p.px(64))
    _dots(p, ring)
    text = Rect(card.x + p.px(40), ring.bottom + p.px(44), card.w - p.px(80), card.bottom - ring.bottom - p.px(88))
    p.pair(text, view.message, p.px(56), p.px(34), t.INK, t.INK_SOFT, "title", "center", "top")


def draw_message(p: Painter, view: MessageView) -> None:
    body = draw_chrome(p, view.chrome)
    card = _centred_card(p, body, p.px(700))
    sign = Rect(0, 0, p.px(110), p.px(110))
    sign.midtop = (card.centerx, card.y + p.px(50))
    _notice_sign(p, sign)
    inner = card.inflate(-2 * p.px(48), 0)
    home = Rect(0, 0, min(inner.w, p.px(520)), p.px(124))
    home.midbottom = (card.centerx, card.bottom - p.px(44))
    text = Rect(inner.x, sign.bottom + p.px(30), inner.w, home.top - p.px(30) - sign.bottom - p.px(30))
    title = p.pair(text, view.title, p.px(52), p.px(32), t.INK, t.INK_SOFT, "title", "center")
    detail = from_y(text, title.bottom + p.px(28))
    p.pair(detail, view.detail, p.px(38), p.px(28), t.INK_SOFT, t.INK_SOFT, "detail", "center", strong=False)
    p.button("home", home, HOME, PRIMARY, cn=44, en=28)


def draw_done(p: Painter, view: DoneView) -> None:
    body = draw_chrome(p, view.chrome)
    area = body.inflate(-2 * p.px(30), -2 * p.px(24))
    if not view.printed:
        band = Rect(area.x, area.y, area.w, p.px(150))
        p.box(band, t.RED, p.px(18), shadow=True)
        p.pair(band.inflate(-2 * p.px(30), -p.px(16)), PRINT_FAILED, p.px(52), p.px(34), t.WHITE, t.WHITE,
               "failure", "center", "center", cn_lines=1)
        area = from_y(area, band.bottom + p.px(24))
    if p.m.portrait:
        ticket = Rect(area.x, area.y, area.w, area.h * 11 // 20)
        info = from_y(area, ticket.bottom + p.px(24))
    else:
        ticket = Rect(area.x, area.y, area.w * 11 // 20, area.h)
        info = Rect(ticket.right + p.px(24), area.y, area.right - ticket.right - p.px(24), area.h)
    _ticket(p, ticket, view)
    _details(p, info, view)


def _ticket(p: Painter, card: Rect, view: DoneView) -> None:
    """The number, as large as the card allows, under "您的号码" and over the department and matter."""
    p.card(card)
    inner = card.inflate(-2 * p.px(40), -2 * p.px(32))
    label = Rect(inner.x, inner.y, inner.w, p.px(84))
    p.pair(label, YOUR_NUMBER, p.px(40), p.px(28), t.INK_SOFT, t.INK_SOFT, "label", "center", "top", strong=False)
    what = Rect(inner.x, inner.bottom - p.px(180), inner.w, p.px(180))
    p.text(what, p.pair_pieces(view.dept, p.px(40), p.px(28), t.INK, t.INK_SOFT, "dept", 1)
           + p.pair_pieces(view.matter, p.px(36), p.px(26), t.INK, t.INK_SOFT, "matter", 1), "center", "bottom",
           gap=p.px(6))
    number = Rect(inner.x, label.bottom, inner.w, what.top - label.bottom)
    size = min(p.px(300), number.h * 4 // 5)
    p.text(number, [Piece(view.number, size, t.NAVY, "number", strong=True, shrink=0)], "center", "center")


def _details(p: Painter, area: Rect, view: DoneView) -> None:
    """Ahead, wait, where to go; the way home at the bottom."""
    gap = p.px(20)
    home = Rect(area.x, area.bottom - p.px(120), area.w, p.px(120))
    lines: list[tuple[Text, t.Colour]] = [
        ((f"前面还有 {view.ahead} 人", f"{view.ahead} ahead of you"), t.INK),
        ((f"预计等候约 {view.wait_min} 分钟", f"About {view.wait_min} min"), t.INK),
        (view.windows, t.ACCENT),
    ]
    if view.printed:
        lines.append((TAKE_TICKET, t.INK_SOFT))
    row_h = min(p.px(170), (home.top - gap - area.y - (len(lines) - 1) * gap) // len(lines))
    for i, (text, ink) in enumerate(lines):
        row = Rect(area.x, area.y + i * (row_h + gap), area.w, row_h)
        if text is not TAKE_TICKET:  # flat panels, no shadow: they are not buttons; the hint not even a panel
            p.box(row, t.CARD, p.px(18), t.CARD_EDGE)
        p.pair(row.inflate(-2 * p.px(32), -p.px(20)), text, p.px(44), p.px(28), ink, t.INK_SOFT, "detail",
               "left", "center", en_lines=2)
    p.button("home", home, HOME, SECONDARY, cn=40, en=28)


def _centred_card(p: Painter, body: Rect, height: int) -> Rect:
    width = min(body.w - 2 * p.px(30), p.px(1000))
    card = Rect(0, 0, width, min(height, body.h - 2 * p.px(30)))
    card.center = body.center
    p.card(card)
    return card


def _dots(p: Painter, rect: Rect) -> None:
    """A still "working" sign, eight dots fading round a circle: the screen is not animated."""
    r = rect.w // 2
    dot = max(3, rect.w // 11)
    for i in range(8):
        angle = math.pi / 2 - i * math.pi / 4
        centre = (rect.centerx + round((r - dot) * math.cos(angle)), rect.centery - round((r - dot) * math.sin(angle)))
        fade = i / 8
        colour = tuple(round(a + (b - a) * fade) for a, b in zip(t.ACCENT, t.ACCENT_TINT))
        pygame.draw.circle(p.surface, colour, centre, dot)


def _notice_sign(p: Painter, rect: Rect) -> None:
    """A round "!" sign, drawn: it needs no glyph."""
    pygame.draw.circle(p.surface, t.AMBER_TINT, rect.center, rect.w // 2)
    pygame.draw.circle(p.surface, t.AMBER, rect.center, rect.w // 2, max(3, p.px(6)))
    bar = Rect(0, 0, max(4, p.px(12)), rect.h * 2 // 5)
    bar.midtop = (rect.centerx, rect.y + rect.h // 5)
    pygame.draw.rect(p.surface, t.AMBER, bar, border_radius=bar.w // 2)
    pygame.draw.circle(p.surface, t.AMBER, (rect.centerx, rect.bottom - rect.h // 4), bar.w * 2 // 3)
