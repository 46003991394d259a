"""Two steps between home and the ticket: the department's matters, and the
confirmation (the keypad between them has its own module)."""

from __future__ import annotations

import math

import pygame

from kiosk.ui import theme as t
from kiosk.ui.chrome import draw_chrome, title_bar
from kiosk.ui.widgets import PRIMARY, Painter, Piece, from_y
from kiosk.views import ConfirmView, MatterRow, MattersView, Text

Rect = pygame.Rect

CHECK: Text = ("请核对取号信息", "Please check before taking a number")
TAKE: Text = ("确认取号", "Take a number")
LABELS: tuple[Text, Text, Text] = (("办理部门", "Department"), ("办理事项", "Service"), ("手机号码", "Mobile"))


# --- matters ------------------------------------------------------------------


def draw_matters(p: Painter, view: MattersView) -> None:
    area = title_bar(p, draw_chrome(p, view.chrome), view.dept)
    n = len(view.rows)
    if not n:
        return
    gap = p.px(16)
    best = (0, 1)
    for cols in (1, 2) if p.m.portrait else (1, 2, 3):
        rows = math.ceil(n / cols)
        row_h = min(p.px(196), (area.h - (rows - 1) * gap) // rows)
        if row_h > best[0] + p.px(20):  # more columns only for a clearly taller row
            best = (row_h, cols)
    row_h, cols = best
    row_w = (area.w - (cols - 1) * gap) // cols
    side_w = max(p.px(250), *(_side_width(p, row) for row in view.rows))  # one column, aligned down the list
    for i, row in enumerate(view.rows):
        c, r = divmod(i, math.ceil(n / cols))
        _matter(p, Rect(area.x + c * (row_w + gap), area.y + r * (row_h + gap), row_w, row_h), row, side_w)


def _matter(p: Painter, rect: Rect, row: MatterRow, side_w: int) -> None:
    p.card(rect)
    pad = p.px(20)
    inner = rect.inflate(-2 * pad, -2 * pad)
    arrow = Rect(0, 0, p.px(14), p.px(28))
    arrow.midright = (inner.right, rect.centery)
    p.chevron(arrow, t.ACCENT, left=False)
    side_w = min(inner.w * 2 // 5, side_w)
    side = Rect(arrow.x - p.px(20) - side_w, inner.y, side_w, inner.h)
    name = Rect(inner.x, inner.y, side.x - p.px(24) - inner.x, inner.h)
    p.pair(name, row.name, p.px(38), p.px(26), t.INK, t.INK_SOFT, "matter", "left", "center", en_lines=2)
    pill_h = p.fonts.line_height(p.m.cn_min) + p.px(10)
    limit_h = p.fonts.line_height(p.m.cn_min) + p.fonts.line_height(p.m.en_min) + p.px(4)
    top = side.y + max(0, (side.h - pill_h - p.px(10) - limit_h) // 2)
    pill = Rect(side.x, top, side.w, pill_h)
    immediate = "即办" in row.kind[0]
    fill, ink = (t.GREEN_TINT, t.GREEN) if immediate else (t.AMBER_TINT, t.AMBER)
    p.box(pill, fill, pill_h // 2)
    p.inline(pill.inflate(-p.px(24), 0), row.kind, p.m.cn_min, p.m.en_min, ink, ink, "kind", "center")
    limit = from_y(side, pill.bottom + p.px(10))
    p.pair(limit, row.limit, p.m.cn_min, p.m.en_min, t.INK, t.INK_SOFT, "limit", "left", "top", cn_lines=1)
    p.target(f"item:{row.code}", rect)


def _side_width(p: Painter, row: MatterRow) -> int:
    cn, en, space = p.m.cn_min, p.m.en_min, p.fonts.width("  ", p.m.en_min)
    kind = p.fonts.width(row.kind[0], cn, True) + space + p.fonts.width(row.kind[1], en) + p.px(48)
    return max(kind, p.fonts.width(row.limit[0], cn, True), p.fonts.width(row.limit[1], en))


# --- confirm ------------------------------------------------------------------


def draw_confirm(p: Painter, view: ConfirmView) -> None:
    area = title_bar(p, draw_chrome(p, view.chrome), CHECK)
    button_h, between = p.px(132), p.px(40)
    card_h = min(area.h - button_h - between, p.px(600))
    width = min(area.w, p.px(1240))
    top = area.y + (area.h - card_h - between - button_h) // 3  # a little above centre, at hand height
    card = Rect(area.centerx - width // 2, top, width, card_h)
    p.card(card)
    inner = card.inflate(-2 * p.px(36), -2 * p.px(28))
    row_h = inner.h // 3
    label_w = min(inner.w // 3, p.px(250))
    values = []
    for i, label in enumerate(LABELS):
        row = Rect(inner.x, inner.y + i * row_h, inner.w, row_h)
        if i:
            pygame.draw.line(p.surface, t.CARD_EDGE, (row.x, row.y), (row.right, row.y), max(1, p.px(2)))
        cell = row.inflate(0, -p.px(16))
        p.pair(Rect(cell.x, cell.y, label_w, cell.h), label, p.m.cn_min, p.m.en_min, t.INK_SOFT, t.INK_SOFT,
               "label", "left", "center", cn_lines=1, strong=False)
        values.append(Rect(cell.x + label_w + p.px(24), cell.y, cell.w - label_w - p.px(24), cell.h))
    for box, text in ((values[0], view.dept), (values[1], view.matter)):
        p.pair(box, text, p.px(42), p.px(28), t.INK, t.INK_SOFT, "value", "left", "center", en_lines=2)
    p.text(values[2], [Piece(view.phone_masked, p.px(52), t.INK, "value", strong=True)], "left", "center")
    button = Rect(card.x, card.bottom + between, card.w, button_h)
    p.button("confirm", button, TAKE, PRIMARY, cn=48, en=30)
