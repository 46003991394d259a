"""One function per kind of region: (painter, region, theme, model) -> drawn.

Each starts from a cleared region (the renderer fills it) and draws only
inside it. Lists show one page; the page number is in the title.
"""

from __future__ import annotations

from collections.abc import Callable

from display.ui.layout import Region
from display.ui.paint import Painter
from display.ui.theme import BLACK, WHITE, Theme
from display.views import (
    BannerModel,
    CardRow,
    CardsModel,
    HeaderModel,
    Label,
    PanelModel,
    RecentModel,
    StripModel,
    TallyModel,
    TickerModel,
    WaitingModel,
)

Box = tuple[int, int, int, int]


def _pad(region: Region) -> int:
    return max(2, region.rect[3] // 8) if region.row == 0 else max(2, region.row // 6)


def draw_header(p: Painter, r: Region, t: Theme, m: HeaderModel) -> None:
    x, y, w, h = r.rect
    pad = max(2, r.size // 3)
    clock_w = p.fonts.width(m.clock, r.size)
    site_w = p.fonts.width(m.site, r.size)
    date_w = p.fonts.width(m.date + "  ", r.size)
    p.line(m.clock, (x + w - pad - clock_w - 2, y, clock_w + 2, h), r.size, t.clock, role="clock")
    right = w - 2 * pad - clock_w - 2
    if site_w + date_w + pad * 2 <= right:
        p.line(m.date, (x + w - pad - clock_w - date_w - 2, y, date_w, h), r.size, t.clock, role="date")
        right -= date_w
    p.line(m.site, (x + pad, y, right - pad, h), r.size, t.title, role="site")


def draw_banner(p: Painter, r: Region, t: Theme, m: BannerModel) -> None:
    x, y, w, h = r.rect
    pad = max(4, r.size // 6)
    box = (x + pad, y, w - 2 * pad, h)
    if m.flash == 1:
        p.fill(r.rect, t.flash_bg)
    if len(m.parts) == 1:
        p.line(m.parts[0], box, r.size, t.title if m.flash is None else t.flash_fg, align="center", role="banner")
        return
    colours = [t.text, t.number, t.text, t.number, t.text]
    if m.flash == 1:
        colours = [t.flash_fg] * 5
    spaced = [m.parts[0] + " ", m.parts[1], " " + m.parts[2] + " ", m.parts[3], m.parts[4]]
    roles = ["banner", "banner-ticket", "banner", "banner-window", "banner"]
    p.segments(list(zip(spaced, colours, roles, strict=False)), box, r.size, align="center")


def _title(p: Painter, r: Region, t: Theme, text: str, right: str = "", right_colour=None) -> tuple[int, int]:
    """The region's title row; returns (x, y) where its rows start."""
    x, y, w, _ = r.rect
    if right:
        rw = p.fonts.width(right, r.size) + 2
        p.line(right, (x + w - rw, y, rw, r.title), r.size, right_colour or t.title, role="title")
        w -= rw + r.size // 2
    p.line(text, (x, y, w, r.title), r.size, t.title, role="title")
    if t.rule:
        p.fill((x, y + r.title - 1, r.rect[2], 1), t.rule)
    return x, y + r.title


def _page(page: int, pages: int) -> str:
    return f"{page + 1}/{pages}" if pages > 1 else ""


def _cells(p: Painter, r: Region, y: int, cells: list[tuple[float | int, Label, tuple, str, str]]) -> None:
    """One row of cells: (share of the width, or pixels if an int; text, colour, align, role).
    A text with shorter forms shows the longest that fits its cell."""
    x, _, w, _ = r.rect
    gap = max(2, r.size // 4)
    for share, text, colour, align, role in cells:
        cw = share if isinstance(share, int) else round(w * share)
        if text:
            # one size down a column: a long name is cut with …, not shrunk below its neighbours
            shown = p.choose(text, cw - gap, r.size)
            p.line(shown, (x, y, cw - gap, r.row), r.size, colour, align=align, role=role, min_size=r.size)
        x += cw


def _widest(p: Painter, r: Region, texts, *, shortest: bool = False) -> int:
    """The widest of these texts at the region's size (of each its shortest form, if asked)."""
    def form(text: Label) -> str:
        return text if isinstance(text, str) else text[-1 if shortest else 0]
    return max((p.fonts.width(form(t), r.size) for t in texts if t), default=0)


def _count_width(p: Painter, r: Region, counts: list[str]) -> int:
    """A column of numbers: as wide as its widest, at least two digits, and a gap before it."""
    return max(_widest(p, r, counts), p.fonts.width("00", r.size)) + max(4, r.size // 2)


def draw_recent(p: Painter, r: Region, t: Theme, m: RecentModel) -> None:
    _, y = _title(p, r, t, "最近叫号")
    ticket = _widest(p, r, [row[0] for row in m.rows]) + max(4, r.size // 2)  # a clear gap: "04015  1号窗口"
    for number, window in m.rows[: r.rows()]:
        _cells(p, r, y, [(ticket, number, t.number, "left", "ticket"),
                         (r.rect[2] - ticket, window, t.text, "left", "window")])
        y += r.row


def draw_waiting(p: Painter, r: Region, t: Theme, m: WaitingModel) -> None:
    _, y = _title(p, r, t, "等候人数", _page(m.page, m.pages))
    count = _count_width(p, r, [row[1] for row in m.rows])
    for name, waiting in m.rows:
        _cells(p, r, y, [(r.rect[2] - count, name, t.text, "left", "dept"), (count, waiting, t.number, "right", "count")])
        y += r.row


def _badge(p: Painter, r: Region, t: Theme, row: CardRow, y: int, width: int) -> None:
    colour = t.red if row.level == "red" else t.yellow
    label = "红" if row.level == "red" else "黄"
    x = r.rect[0]
    if t.badges:
        badge = p.fonts.width(label, r.size) + max(2, r.size // 8) * 2
        p.fill((x, y + 1, badge, r.row - 2), colour)
        p.line(label, (x, y, badge, r.row), r.size, WHITE if row.level == "red" else BLACK,
               align="center", role="level")
    else:
        p.line(label, (x, y, width, r.row), r.size, colour, role="level")


DEPT_CHARS = 5  # a department's column holds at least this many characters (人社局, 公积金中心) before others give way


def _card_columns(p: Painter, r: Region, rows: tuple[CardRow, ...]) -> list[int]:
    """Widths of level, number, department, window, clerk, overdue: each as wide as its widest
    text on this page, the department gets what is left. When that is too little for its
    short names, the window shortens ("5号窗"), then the clerk and then the window make way:
    the department is what the wall is for."""
    gap = max(4, r.size // 3)
    level = p.fonts.width("红", r.size) + max(2, r.size // 8) * 2 + gap
    ref, clerk, over = (_widest(p, r, [getattr(row, f) for row in rows]) + gap for f in ("ref", "clerk", "over"))
    windows = [row.window for row in rows]
    window, short_window = _widest(p, r, windows) + gap, _widest(p, r, windows, shortest=True) + gap
    need = min(_widest(p, r, [row.dept for row in rows], shortest=True), DEPT_CHARS * r.size) + gap
    free = r.rect[2] - level - ref - over
    for window_w, clerk_w in ((window, clerk), (short_window, clerk), (short_window, 0), (0, 0)):
        if free - window_w - clerk_w >= need:
            break
    return [level, ref, max(0, free - window_w - clerk_w), window_w, clerk_w, over]


def draw_cards(p: Painter, r: Region, t: Theme, m: CardsModel) -> None:
    counts = f"红{m.reds} 黄{m.yellows}" + (f" {_page(m.page, m.pages)}" if m.pages > 1 else "")
    _, y = _title(p, r, t, "超时警示", counts if m.rows else "")
    if not m.rows:
        p.line("暂无超时", (r.rect[0], y, r.rect[2], r.row), r.size, t.ok, role="none")
        return
    level, ref, dept, window, clerk, over = _card_columns(p, r, m.rows)
    if m.lines == 2:  # a narrow panel: window and clerk on a second line, under the department
        window = _widest(p, r, [row.window for row in m.rows]) + max(4, r.size // 3)
        dept, clerk = r.rect[2] - level - ref - over, r.rect[2] - level - ref - window
    for row in m.rows:
        ink = t.text if t.badges else (t.red if row.level == "red" else t.yellow)
        _badge(p, r, t, row, y, level)
        head = [(level, "", ink, "left", ""), (ref, row.ref, t.number if t.badges else ink, "left", "ticket"),
                (dept, row.dept, ink, "left", "dept")]
        where = [(window, row.window if window else "", ink, "left", "window"),
                 (clerk, row.clerk if clerk else "", ink, "left", "clerk")]
        late = (over, row.over, ink, "right", "over")
        if m.lines == 2:
            _cells(p, r, y, [*head, late])
            y += r.row
            _cells(p, r, y, [(level + ref, "", ink, "left", ""), *where])
        else:
            _cells(p, r, y, [*head, *where, late])
        y += r.row


def draw_tally(p: Painter, r: Region, t: Theme, m: TallyModel) -> None:
    x, y = _title(p, r, t, "今日黄/红牌", _page(m.page, m.pages))
    rows = r.rows() - len(m.note)
    if not m.rows:
        p.line("今日无超时", (x, y, r.rect[2], r.row), r.size, t.ok, role="none")
    count = _count_width(p, r, [str(n) for row in m.rows for n in row[1:]])
    for name, yellow, red in m.rows[:rows]:
        _cells(p, r, y, [(r.rect[2] - 2 * count, name, t.text, "left", "dept"),
                         (count, str(yellow), t.yellow, "right", "yellow"), (count, str(red), t.red, "right", "red")])
        y += r.row
    y = r.rect[1] + r.title + rows * r.row  # the note's lines at the bottom
    for line in m.note:
        p.line(line, (x, y, r.rect[2], r.row), r.size, t.title, role="note")
        y += r.row


def draw_panel(p: Painter, r: Region, t: Theme, m: PanelModel) -> None:
    DRAWERS[type(m.inner)](p, r, t, m.inner)


def draw_ticker(p: Painter, r: Region, t: Theme, m: TickerModel) -> None:
    x, y, w, h = r.rect
    width = p.fonts.width(m.text, r.size)
    if width <= w:
        p.line(m.text, r.rect, r.size, t.title, align="center", role="notice")
        return
    gap = w // 3
    start = x + w - m.offset % (width + gap + w)  # enters from the right, leaves to the left, again
    p.line(m.text, (start, y, width + 2, h), r.size, t.title, role="notice")


def draw_strip(p: Painter, r: Region, t: Theme, m: StripModel) -> None:
    p.fill(r.rect, t.strip_bg)
    p.line(m.text, r.rect, r.size, t.strip_fg, align="center", role="strip")


DRAWERS: dict[type, Callable] = {
    HeaderModel: draw_header, BannerModel: draw_banner, RecentModel: draw_recent, WaitingModel: draw_waiting,
    CardsModel: draw_cards, TallyModel: draw_tally, PanelModel: draw_panel, TickerModel: draw_ticker,
    StripModel: draw_strip,
}
