"""Where each region of a screen is, and its text sizes, for any canvas size.

Two families of sizes:

- LCD panels (the smaller side 480 px or more) scale with the height,
  antialiased, written for 1920x1080 and multiplied by k = height / 1080;
- LED walls (smaller side under 480: 768x384, 384x192, …) are drawn
  pixel-exact: every text size is one of ``PIXEL_SIZES`` (16 px is the classic
  16x16 dot Chinese LED character), rows are exactly one text size high, text
  is not antialiased (an LED is on or off), and nothing is ever scaled.

Regions: header (site, clock), banner (the call), recent, waiting, cards,
tally, ticker (the scrolling notice); narrow walls (under 640 px) have one
``panel`` where waiting, cards and tally take turns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PIXEL_SIZES = (12, 16, 24, 32, 48, 64, 96, 128, 192)
LED_MAX_SIDE = 480  # a smaller side below this is an LED wall


def snap(px: float) -> int:
    """The largest pixel-exact size not above ``px`` (at least 12)."""
    return max([s for s in PIXEL_SIZES if s <= px] or [PIXEL_SIZES[0]])


@dataclass(frozen=True)
class Region:
    rect: tuple[int, int, int, int]  # x, y, w, h
    size: int  # main text size, px
    title: int = 0  # title row height (0: no title); its text is `size`-ish
    row: int = 0  # row pitch of lists

    def rows(self) -> int:
        """How many list rows fit under the title."""
        return max(0, (self.rect[3] - self.title) // self.row) if self.row else 0


@dataclass(frozen=True)
class Layout:
    w: int
    h: int
    pixel_exact: bool
    regions: dict[str, Region] = field(default_factory=dict)
    panels: tuple[str, ...] = ()  # what takes turns in the "panel" region
    strip: Region | None = None  # the "reconnecting" strip, over the top region (default: that region)

    def strip_region(self) -> Region:
        return self.strip or next(iter(self.regions.values()))

    def size(self, px: float) -> int:
        return snap(px) if self.pixel_exact else max(12, round(px))


def is_led(w: int, h: int) -> bool:
    return min(w, h) < LED_MAX_SIDE


LCD_SHARES = [("recent", 0.17), ("waiting", 0.19), ("cards", 0.42), ("tally", 0.22)]
# On a 768 px wall every column is at its narrowest: the shares follow what each must hold at
# 16 px (ticket and window; a short department name and a count; the cards' six columns).
LED_SHARES = [("recent", 0.17), ("waiting", 0.16), ("cards", 0.48), ("tally", 0.19)]
CALLS_MIN_ROWS = 6  # the calls layout uses larger text where this many rows still fit


def _text_sizes(w: int, h: int, exact: bool, kind: str, body_h: int) -> tuple[int, int, int]:
    """(text, row, title) of the lists."""
    if exact:
        big = 24
        if kind == "calls" and (body_h - big) // big >= CALLS_MIN_ROWS:
            return big, big, big  # calls and queues alone: room for 24 px Chinese
        return 16, 16, 16
    k = h / 1080
    if kind == "calls":  # two columns instead of four: larger text, as many rows as fit
        return round(48 * k), round(64 * k), round(72 * k)
    return round(36 * k), round(50 * k), round(66 * k)


def wall_layout(w: int, h: int, kind: str = "wall") -> Layout:
    """``kind``: "wall" (everything) or "calls" (calls and queues only)."""
    exact = is_led(w, h)
    base = Layout(w, h, exact)
    if exact:
        header = ticker = 16 if h < 300 else 24
        banner_text = snap(min((h - 2 * header) * 0.34, w / 11))
        banner = banner_text + (8 if h < 300 else 16)
        gap = 4 if w < 640 else 8
    else:
        k = h / 1080
        header, ticker = round(84 * k), round(68 * k)
        banner = round(300 * k)
        banner_text = min(round(200 * k), round(w / 11))
        gap = round(24 * k)
    regions = {
        "header": Region((0, 0, w, header), base.size(header * (1 if exact else 0.56))),
        "banner": Region((0, header, w, banner), banner_text),
        "ticker": Region((0, h - ticker, w, ticker), base.size(ticker * (1 if exact else 0.6))),
    }
    top, body_h = header + banner, h - header - banner - ticker
    text, row, title = _text_sizes(w, h, exact, kind, body_h)
    if kind == "calls":
        shares = [("recent", 0.5), ("waiting", 0.5)]
    elif w < 640:
        shares = [("recent", 0.38), ("panel", 0.62)]
    else:
        shares = LED_SHARES if exact else LCD_SHARES
    x = gap
    usable = w - gap * (len(shares) + 1)
    for i, (name, share) in enumerate(shares):
        width = round(usable * share) if i < len(shares) - 1 else w - gap - x
        regions[name] = Region((x, top, width, body_h), text, title=title, row=row)
        x += width + gap
    panels = ("waiting", "cards", "tally") if "panel" in regions else ()
    return Layout(w, h, exact, regions, panels, _strip(regions["header"], exact))


def _strip(header: Region, exact: bool) -> Region:
    """Over the header; on an LED wall a quarter taller, into the banner's margin, since text as
    high as the header (16 px in a 16 px header) leaves no room for "Reconnecting"'s descender."""
    x, y, w, h = header.rect
    return Region((x, y, w, h + h // 4), header.size) if exact else header


def window_layout(w: int, h: int) -> Layout:
    """The small screen above one window: its name, the number it serves, its status."""
    exact = is_led(w, h)
    base = Layout(w, h, exact)
    top = max(16, snap(h * 0.2)) if exact else round(h * 0.2)
    bottom = top
    regions = {
        "whead": Region((0, 0, w, top), base.size(top * (1 if exact else 0.6))),
        "wnumber": Region((0, top, w, h - top - bottom), base.size(min((h - top - bottom) * 0.8, w / 3.2))),
        "wstatus": Region((0, h - bottom, w, bottom), base.size(bottom * (1 if exact else 0.6))),
    }
    return Layout(w, h, exact, regions)
