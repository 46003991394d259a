"""The home screen: departments as tiles, grouped by floor.

The grid is chosen per screen: for each column count that the orientation
allows, the tile size that results is compared with an ideal one, and the
count that comes closest wins (fewer columns on a tie), so ~16 departments fit
without scrolling at every size. Portrait puts a floor's heading above its
tiles; landscape, short of height, puts it in a column to the left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pygame

from kiosk.ui import theme as t
from kiosk.ui.chrome import draw_chrome
from kiosk.ui.widgets import CARD, DISABLED, Painter, Piece, from_y
from kiosk.views import DeptTile, Floor, HomeView

Rect = pygame.Rect

IDEAL_W, IDEAL_H, MAX_H = 440, 150, 210  # tile size at the reference scale
STRIPE = 8  # the coloured edge on a tile's left
LONG_NAME = "国" * 10  # as wide as the longest department names (人力资源和社会保障局)


@dataclass(frozen=True)
class Grid:
    cols: int
    tile_w: int
    tile_h: int
    gap: int
    heading: int  # height of a heading above (portrait) or width of one beside (landscape)
    beside: bool


def draw_home(p: Painter, view: HomeView) -> None:
    body = draw_chrome(p, view.chrome)
    area = body.inflate(-2 * p.px(30), -2 * p.px(22))
    prompt = Rect(area.x, area.y, area.w, p.px(72))
    p.inline(prompt, view.prompt, p.px(44), p.px(30), t.INK, t.INK_SOFT, "prompt")
    area = from_y(area, prompt.bottom + p.px(14))
    if not view.floors:
        return
    grid = choose_grid(p, view.floors, area)
    sizes = name_sizes(p, view.floors, grid)
    y = area.top
    for floor in view.floors:
        y = _floor(p, floor, grid, Rect(area.x, y, area.w, area.bottom - y), view.chrome.paused, sizes)


def choose_grid(p: Painter, floors: tuple[Floor, ...], area: Rect) -> Grid:
    beside = not p.m.portrait
    gap, n = p.px(16), len(floors)
    heading = p.px(112) if beside else p.px(62)
    width = area.w - heading - gap if beside else area.w
    best: tuple[float, Grid] | None = None
    for cols in range(2, 5) if p.m.portrait else range(3, 7):
        rows = sum(max(1, math.ceil(len(f.tiles) / cols)) for f in floors)
        fixed = (rows - 1) * gap + (0 if beside else n * heading)
        tile_h = min(p.px(MAX_H), (area.h - fixed) // rows)
        tile_w = (width - (cols - 1) * gap) // cols
        score = min(1.0, tile_w / p.px(IDEAL_W), tile_h / p.px(IDEAL_H))
        if best is None or score > best[0] + 1e-9:
            best = (score, Grid(cols, tile_w, tile_h, gap, heading, beside))
    assert best is not None
    return best[1]


def _floor(p: Painter, floor: Floor, g: Grid, area: Rect, paused: bool, sizes: tuple[int, int]) -> int:
    """Draws one floor from the top of `area`; returns where the next one starts."""
    rows = max(1, math.ceil(len(floor.tiles) / g.cols))
    height = rows * g.tile_h + (rows - 1) * g.gap
    if g.beside:
        label = Rect(area.x, area.y, g.heading, height)
        pygame.draw.rect(p.surface, t.ACCENT, Rect(label.x, label.y, p.px(6), label.h))
        p.pair(label.inflate(-p.px(30), 0).move(p.px(8), 0), floor.label, p.px(44), p.px(30), t.ACCENT, t.INK_SOFT,
               "floor", "left", "center", cn_lines=1)
        grid = Rect(label.right + g.gap, area.y, area.w - g.heading - g.gap, height)
    else:
        label = Rect(area.x, area.y, area.w, g.heading)
        p.inline(label.inflate(0, -p.px(10)), floor.label, p.px(40), p.px(28), t.ACCENT, t.INK_SOFT, "floor")
        grid = Rect(area.x, label.bottom, area.w, height)
    for i, tile in enumerate(floor.tiles):
        r, c = divmod(i, g.cols)
        rect = Rect(grid.x + c * (g.tile_w + g.gap), grid.y + r * (g.tile_h + g.gap), g.tile_w, g.tile_h)
        _tile(p, rect, tile, tile.enabled and not paused, sizes)
    return grid.bottom + g.gap


def _tile(p: Painter, rect: Rect, tile: DeptTile, enabled: bool, name_sizes: tuple[int, int]) -> None:
    style = CARD if enabled else DISABLED
    p.card(rect, style)
    radius = p.px(18)
    pygame.draw.rect(p.surface, t.ACCENT if enabled else t.OFF_INK, Rect(rect.x, rect.y, p.px(STRIPE), rect.h),
                     border_top_left_radius=radius, border_bottom_left_radius=radius)
    name, count, side = _tile_parts(p, rect)
    ink = t.ACCENT if enabled else t.OFF_INK
    if side:
        _waiting_panel(p, count, tile.waiting, ink, style.ink_soft, enabled)
    else:
        p.inline(count, waiting_text(tile.waiting), p.m.cn_min, p.m.en_min, ink, style.ink_soft, "waiting")
    cn, en = name_sizes
    p.pair(name, tile.name, cn, en, style.ink, style.ink_soft, "tile", "left", "center" if side else "top",
           en_lines=2, shrink=0)
    if enabled:
        p.target(f"dept:{tile.code}", rect)


def _tile_parts(p: Painter, rect: Rect) -> tuple[Rect, Rect, bool]:
    """The name's box and the waiting count's box inside a tile, and whether the count is a panel at
    the side (wide tiles) or a line at the bottom (narrow ones, where a 10-character name would not fit
    on one line next to a panel)."""
    pad = p.px(12)
    inner = rect.inflate(-2 * pad, -2 * pad)
    left = rect.x + p.px(STRIPE + 14)
    panel_w = max(p.px(108), p.fonts.width("人等候", p.m.cn_min) + 2 * p.px(6))
    name_w = inner.right - panel_w - p.px(14) - left
    if name_w >= p.fonts.width(LONG_NAME, p.m.cn_min, True):
        return Rect(left, inner.y, name_w, inner.h), Rect(inner.right - panel_w, inner.y, panel_w, inner.h), True
    line = p.fonts.line_height(p.m.cn_min)
    count = Rect(left, inner.bottom - line, inner.right - left, line)
    return Rect(left, inner.y, count.w, count.y - p.px(6) - inner.y), count, False


def waiting_text(waiting: int | None) -> tuple[str, str]:
    n = "—" if waiting is None else str(waiting)
    return (f"等候 {n} 人", f"{n} waiting")


def _waiting_panel(p: Painter, rect: Rect, waiting: int | None, ink, soft, enabled: bool) -> None:
    """"12 / 人等候 / waiting": read down, "12 人等候" and "12 waiting"."""
    p.box(rect, t.ACCENT_TINT if enabled else t.CARD, p.px(12))
    number = "—" if waiting is None else str(waiting)
    p.text(rect.inflate(-p.px(8), -p.px(8)), [Piece(number, p.px(52), ink, "waiting", strong=True),
                                              Piece("人等候", p.m.cn_min, ink, "waiting"),
                                              Piece("waiting", p.m.en_min, soft, "waiting")], "center", "center")


def name_sizes(p: Painter, floors: tuple[Floor, ...], g: Grid) -> tuple[int, int]:
    """One size for every tile's name, the size the longest needs, so the grid reads evenly."""
    name, _, _ = _tile_parts(p, Rect(0, 0, g.tile_w, g.tile_h))
    cn, en = p.px(40), p.px(26)
    for floor in floors:
        for tile in floor.tiles:
            sizes = p.fitted_sizes(name, p.pair_pieces(tile.name, p.px(40), p.px(26), t.INK, t.INK, en_lines=2,
                                                       shrink=0), p.px(4))
            cn = min(cn, sizes[0] or cn)
            en = min(en, sizes[1] or en)
    return cn, en
