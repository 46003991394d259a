"""What each region of a screen shows, as plain immutable data.

The renderer redraws a region only when its model is unequal to the one it
drew last, so these models hold exactly what is visible — a clock to the
second, the page of a list, the ticker's offset — and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

# A name and its shorter forms, longest first: ("人力资源和社会保障局", "人社局"), ("5号窗口", "5号窗").
# The renderer shows the longest that fits its column, so a full name is cut only when no short form fits.
Label = str | tuple[str, ...]


@dataclass(frozen=True)
class HeaderModel:
    site: str
    date: str  # "11月27日 星期五"
    clock: str  # "09:03:15"


@dataclass(frozen=True)
class BannerModel:
    parts: tuple[str, ...]  # ("请", "02015", "号 到", "5", "号窗口"); one part: a placeholder line
    flash: int | None = None  # None: steady; 0 or 1: the phase of a new call's flashing


@dataclass(frozen=True)
class RecentModel:
    rows: tuple[tuple[str, Label], ...]  # (ticket, window), newest first


@dataclass(frozen=True)
class WaitingModel:
    rows: tuple[tuple[Label, str], ...]  # (department, waiting or "–")
    page: int = 0
    pages: int = 1


@dataclass(frozen=True)
class CardRow:
    level: str  # red, yellow
    ref: str  # ticket number; a case shows its number too
    dept: Label
    window: Label
    clerk: str
    over: str  # "超 28分"


@dataclass(frozen=True)
class CardsModel:
    rows: tuple[CardRow, ...]
    reds: int
    yellows: int
    page: int = 0
    pages: int = 1
    lines: int = 1  # 2: a narrow panel puts each card's window and clerk on a second line


@dataclass(frozen=True)
class TallyModel:
    rows: tuple[tuple[Label, int, int], ...]  # (department, yellow, red) today
    note: tuple[str, ...] = ()  # ("09:58–10:05 可能漏计",) when the count may miss cards; on two lines if narrow
    page: int = 0
    pages: int = 1


@dataclass(frozen=True)
class TickerModel:
    text: str
    offset: int  # px scrolled so far (the renderer wraps it)


@dataclass(frozen=True)
class PanelModel:
    """A narrow wall's one panel, where waiting, cards and tally take turns."""

    inner: WaitingModel | CardsModel | TallyModel


@dataclass(frozen=True)
class StripModel:
    text: str = "系统连接中… / Reconnecting"


@dataclass(frozen=True)
class WindowHeadModel:
    name: str  # "5号窗口"
    clerk: str  # "张敏", or ""
    card: str  # none, yellow, red


@dataclass(frozen=True)
class WindowNumberModel:
    text: str  # the number served, or what the window is doing ("暂停服务")
    is_number: bool
    flash: int | None = None


@dataclass(frozen=True)
class WindowStatusModel:
    text: Label  # "正在办理 · 国土资源局"
    card: str  # none, yellow, red: colours the line


View = dict[str, object]  # region name -> model; "strip" -> StripModel or None
