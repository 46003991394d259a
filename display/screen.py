"""From what the display knows (a Snapshot), the banner and the time, to the
model of every region (display/views.py). Pure: the same inputs give equal
models, which is what lets the renderer skip the regions that did not change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from display.calls import Banner
from display.hallstate import Snapshot
from display.model import Card
from display.speech import banner_parts
from display.ui.layout import Layout, Region, wall_layout, window_layout
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
    View,
    WaitingModel,
    WindowHeadModel,
    WindowNumberModel,
    WindowStatusModel,
)
from paihao.config import HallConfig
from paihao.device_config import Display

if TYPE_CHECKING:
    import pygame

    from display.ui.renderer import Renderer

WEEKDAYS = "一二三四五六日"
PLACEHOLDER = "请留意叫号"
STATES = {"paused": "暂停服务", "closed": "未开放"}


def overdue_text(seconds: int) -> str:
    """Short, for a narrow column: minutes while under 1000, then hours, then days."""
    minutes = max(1, seconds // 60)
    if minutes < 1000:
        return f"超{minutes}分"
    if minutes < 24 * 60:
        return f"超{minutes // 60}时"
    return f"超{minutes // 1440}天"


def _pages(rows: list, per_page: int, mono: float, page_s: float) -> tuple[list, int, int]:
    """This moment's page of ``rows``: as few pages as fit, evenly filled (12 cards on 11 lines: 6 and 6)."""
    pages = max(1, -(-len(rows) // max(1, per_page)))
    size = max(1, -(-len(rows) // pages))
    page = int(mono / page_s) % pages
    return rows[page * size:(page + 1) * size], page, pages


def open_screen(config: HallConfig, display: Display, window: str | None,
                surface: pygame.Surface) -> tuple[Renderer, ScreenBuilder]:
    """The renderer and model builder of a display, for a pygame surface of its size: the wall's
    layout or the window page's; antialiased text on panels, pixel-exact text on LED walls.
    Raises OSError if the font cannot be opened."""
    from display.ui.paint import DisplayFonts  # pygame: imported once SDL's environment is set
    from display.ui.renderer import Renderer
    from display.ui.theme import THEMES

    w, h = display.size
    layout = window_layout(w, h) if window else wall_layout(w, h, display.layout)
    fonts = DisplayFonts(display.font, antialiased=not layout.pixel_exact)
    return Renderer(surface, fonts, layout, THEMES[display.theme]), ScreenBuilder(config, display, layout,
                                                                                 fonts.width, window)


@dataclass(frozen=True)
class _Lists:
    """The rows of every list, for one version of the hall's state: built once, paged every frame."""

    version: int
    recent: list[tuple[str, Label]]
    waiting: list[tuple[Label, str]]
    cards: list[CardRow]
    tally: list[tuple[Label, int, int]]


class ScreenBuilder:
    def __init__(self, config: HallConfig, display: Display, layout: Layout,
                 measure: Callable[[str, int], int], window: str | None = None) -> None:
        self.config, self.display, self.layout, self.measure = config, display, layout, measure
        self.window = window
        self.notice = display.notice or config.ticket.notice
        ticker = layout.regions.get("ticker")
        # Scroll about three text heights a second, in whole pixels (no shimmer on an LED wall).
        self._scroll_px_s = 3 * ticker.size if ticker else 0
        self._notice_fits = ticker is None or measure(self.notice, ticker.size) <= ticker.rect[2]
        self._depts = {d.code: d for d in config.departments}
        self._windows = {w.id: w for w in config.windows}
        self._clerks = {c.id: c for c in config.clerks}
        self._lists: _Lists | None = None

    # -- names, from the retained state where it has them, else the config ------------
    def window_label(self, snap: Snapshot, window_id: str) -> str:
        known = snap.windows.get(window_id)
        configured = self._windows.get(window_id)
        return (known.name if known else None) or (configured.name if configured else None) or f"{window_id}号窗口"

    def window_names(self, snap: Snapshot, window_id: str) -> Label:
        """'5号窗口', or '5号窗' where that does not fit."""
        label = self.window_label(snap, window_id)
        return (label, label[:-1]) if label.endswith("号窗口") else label

    def dept_names(self, snap: Snapshot, code: str) -> Label:
        """The department's name, then its short name (简称) if the config gives one."""
        dept = self._depts.get(code)
        if dept is None:
            return next((q.name for q in snap.queues if q.dept == code), code)
        return (dept.name, dept.short_name) if dept.short_name else dept.name

    def lists(self, snap: Snapshot) -> _Lists:
        """Every list's rows, built again only when the hall's state has changed."""
        if self._lists is None or self._lists.version != snap.version:
            waiting = {q.dept: q.waiting for q in snap.queues}
            counts = sorted(snap.tally.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
            self._lists = _Lists(
                snap.version,
                recent=[(c.ticket, self.window_names(snap, c.window)) for c in snap.recent],
                waiting=[(self.dept_names(snap, d.code), str(waiting[d.code]) if d.code in waiting else "–")
                         for d in self.config.departments],
                cards=[self._card_row(snap, card) for card in snap.cards],  # red first: sorted so when parsed
                tally=[(self.dept_names(snap, dept), yellow, red) for dept, (yellow, red) in counts])
        return self._lists

    def _card_row(self, snap: Snapshot, card: Card) -> CardRow:
        clerk = self._clerks.get(card.clerk) if card.clerk else None
        ref = card.ref.rsplit("-", 1)[-1] if card.is_case else card.ref  # a case: its ticket's number
        return CardRow(card.level, ref, self.dept_names(snap, card.dept),
                       self.window_names(snap, card.window) if card.window else "",
                       clerk.name if clerk else (card.clerk or ""), overdue_text(card.overdue_s))

    # -- the wall ------------------------------------------------------------------------
    def wall(self, snap: Snapshot, banner: Banner, now: datetime, mono: float, connected: bool) -> View:
        regions = self.layout.regions
        view: View = {"header": self._header(now), "banner": self._banner(snap, banner, mono),
                      "recent": RecentModel(tuple(self.lists(snap).recent[: regions["recent"].rows()]))}
        if "waiting" in regions:
            view["waiting"] = self._waiting(snap, regions["waiting"].rows(), mono)
        if "cards" in regions:
            view["cards"] = self._cards(snap, regions["cards"].rows(), mono)
        if "tally" in regions:
            view["tally"] = self._tally(snap, regions["tally"], mono)
        if "panel" in regions:
            view["panel"] = self._panel(snap, regions["panel"], mono)
        if "ticker" in regions:
            offset = 0 if self._notice_fits else int(mono * self._scroll_px_s)
            view["ticker"] = TickerModel(self.notice, offset)
        view["strip"] = None if connected and snap.hall_online else StripModel()
        return view

    def _header(self, now: datetime) -> HeaderModel:
        local = now.astimezone(self.config.tz)
        return HeaderModel(self.config.site.name, f"{local.month}月{local.day}日 星期{WEEKDAYS[local.weekday()]}",
                           local.strftime("%H:%M:%S"))

    def _banner(self, snap: Snapshot, banner: Banner, mono: float) -> BannerModel:
        call = banner.current
        if call is None:
            return BannerModel((PLACEHOLDER,))
        known = snap.windows.get(call.window)
        return BannerModel(banner_parts(call.ticket, call.window, known.name if known else None), banner.flash(mono))

    def _waiting(self, snap: Snapshot, per_page: int, mono: float) -> WaitingModel:
        shown, page, pages = _pages(self.lists(snap).waiting, per_page, mono, self.display.page_s)
        return WaitingModel(tuple(shown), page, pages)

    def _cards(self, snap: Snapshot, per_page: int, mono: float, lines: int = 1) -> CardsModel:
        shown, page, pages = _pages(self.lists(snap).cards, per_page // lines, mono, self.display.page_s)
        reds = sum(1 for c in snap.cards if c.level == "red")
        return CardsModel(tuple(shown), reds, len(snap.cards) - reds, page, pages, lines)

    def _tally(self, snap: Snapshot, region: Region, mono: float) -> TallyModel:
        note = snap.tally_note
        if note and self.measure(note, region.size) > region.rect[2]:
            note_lines = tuple(note.rsplit(" ", 1))  # "09:58–10:05 等2段" / "可能漏计"
        else:
            note_lines = (note,) if note else ()
        rows = self.lists(snap).tally
        shown, page, pages = _pages(rows, region.rows() - len(note_lines), mono, self.display.page_s)
        return TallyModel(tuple(shown), note_lines, page, pages)

    def _panel(self, snap: Snapshot, region: Region, mono: float) -> PanelModel:
        """Cards, waiting and tally take turns, a page at a time. The panel is narrow: each card
        takes two lines, so that its window and clerk are shown too."""
        per_page = region.rows()
        makers: dict[str, Callable[[float], WaitingModel | CardsModel | TallyModel]] = {
            "cards": lambda at: self._cards(snap, per_page, at, lines=2),
            "waiting": lambda at: self._waiting(snap, per_page, at),
            "tally": lambda at: self._tally(snap, region, at),
        }
        turns = [(kind, page) for kind, make in makers.items() for page in range(make(0.0).pages)]
        kind, page = turns[int(mono / self.display.page_s) % len(turns)]
        return PanelModel(makers[kind](page * self.display.page_s + 0.001))

    # -- the screen above one window ---------------------------------------------------------
    def window_page(self, snap: Snapshot, banner: Banner, mono: float, connected: bool) -> View:
        window_id = self.window or ""
        state = snap.windows.get(window_id)
        name = self.window_label(snap, window_id)
        if state is None:
            head, number, status = WindowHeadModel(name, "", "none"), WindowNumberModel(PLACEHOLDER, False), \
                WindowStatusModel("", "none")
        else:
            card = state.card if state.ticket else "none"
            head = WindowHeadModel(name, state.clerk_name or "", card)
            if state.ticket:
                flash = banner.flash(mono) if banner.current and banner.current.ticket == state.ticket else None
                number = WindowNumberModel(state.ticket, True, flash)
                label = {"yellow": "黄牌 超时", "red": "红牌 超时"}.get(card, "正在办理")
                names = self.dept_names(snap, state.dept or "")
                status = WindowStatusModel(tuple(f"{label} · {n}" for n in names) if isinstance(names, tuple)
                                           else f"{label} · {names}", card)
            else:
                text = STATES.get(state.status, "等候叫号")
                number = WindowNumberModel(text, False)
                status = WindowStatusModel("请到其他窗口办理" if state.status != "open" else "请取号等候", "none")
        strip = None if connected and snap.hall_online else StripModel()
        return {"whead": head, "wnumber": number, "wstatus": status, "strip": strip}
