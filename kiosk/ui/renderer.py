"""Renderer: draws a kiosk view (kiosk/views.py) and says where everything landed.

    renderer = Renderer(screen, "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    frame = renderer.draw(view)     # the whole screen, into `screen`; the caller flips
    name = frame.hit(x, y)          # "dept:04", "key:7", "back", ... or None

Sizes. Every length is written for a screen whose smaller side is 1080 px and
scaled by s = min(width, height) / 1080, so portrait 1080x1920 and landscape
1920x1080 have s = 1 and 1280x800 has s = 0.74. Landscape uses more columns.

Minimum text size (`size_px` is the em size given to freetype; a line box is
about 1.2 em high):

    screen          Chinese                 English (text without any Chinese)
    1080 x 1920     32 px                   24 px
    1920 x 1080     32 px                   24 px
    1280 x 800      24 px                   18 px
    any             max(24, round(32 s))    max(18, round(24 s))

Why: the kiosk is read from about a metre. On the smallest panel we expect at
1080 px, a 21.5" 1080p one (0.248 mm/px), a 32 px em gives WenQuanYi Micro Hei
Chinese glyphs 29 px of ink, 7.2 mm: some 25 arcminutes at 1 m, above the
4-5 mm we take as the floor for a Chinese glyph, with room for older eyes and
the dense strokes of characters such as 藏 or 疆 (ISO 9241-303 asks 20-22' for
reading). English is the secondary line: 24 px gives a 17 px (4.2 mm) capital.
Smaller screens scale down with the layout, so text keeps its share of the
screen, but never below 24/18 px. A 1280x800 panel is typically 10-15" and
used from closer: on a 10.1" one (0.17 mm/px) 24 px Chinese is 3.7 mm of ink,
which at the ~60 cm such a panel is used from looks as large as 6 mm at 1 m.
Main text is 38-56 px at s = 1; the minimum is for secondary lines and for
text that had to shrink to fit.

Enforcement: every text goes through `Painter.text`, which never draws a
string smaller than `Metrics.min_for(string)` (the Chinese minimum if the
string has any Chinese character, else the English one): text that does not
fit its box is wrapped, shrunk down to that floor, then cut with "…" (English
lines go before Chinese ones), and is never drawn outside its box or the
screen. tests/kiosk/test_renderer.py checks every Drawn of every screen at
every size against the table above.

Touch targets are at least 90 px (22 mm at 0.248 mm/px) on each side at s = 1,
scaled the same way. Disabled things (tiles while the hall is paused, OK before
the number is complete) are drawn grey and are not targets.

Speed: text surfaces and layouts are cached (see fonts.py), so drawing a screen
again costs a few milliseconds of blits at 1080x1920; the first time a screen
with new strings is shown costs some tens of milliseconds of rasterising.
"""

from __future__ import annotations

from collections.abc import Callable

import pygame

from kiosk.ui import theme as t
from kiosk.ui.fonts import Fonts
from kiosk.ui.forms import draw_confirm, draw_matters
from kiosk.ui.home import draw_home
from kiosk.ui.keypad import draw_keypad
from kiosk.ui.result import draw_busy, draw_done, draw_message
from kiosk.ui.text import Fitter
from kiosk.ui.widgets import Painter
from kiosk.views import BusyView, ConfirmView, DoneView, Frame, HomeView, KeypadView, MattersView, MessageView, View
from paihao.errors import ConfigError

# Characters every kiosk shows: a font without them would draw boxes.
GLYPH_CHECK = "请选择办理部门等候人您的号码确认取号返回首页暂停0123456789"

_SCREENS: dict[type, Callable[[Painter, object], None]] = {
    HomeView: draw_home,
    MattersView: draw_matters,
    KeypadView: draw_keypad,
    ConfirmView: draw_confirm,
    BusyView: draw_busy,
    DoneView: draw_done,
    MessageView: draw_message,
}


def min_text_px(width: int, height: int) -> tuple[int, int]:
    """(Chinese, English) minimum text size on a width x height screen."""
    m = t.Metrics(width, height)
    return m.cn_min, m.en_min


class Renderer:
    def __init__(self, surface: pygame.Surface, font_path: str, face_index: int = 0) -> None:
        """Raises ConfigError if the font cannot be opened or has no Chinese glyphs."""
        self.surface = surface
        try:
            self.fonts = Fonts(font_path, face_index)
        except OSError as e:
            raise ConfigError(f"kiosk font {font_path!r} (face {face_index}) cannot be opened: {e}") from e
        missing = self.fonts.missing(GLYPH_CHECK)
        if missing:
            raise ConfigError(f"kiosk font {font_path!r} ({self.fonts.name}) has no glyph for {missing!r}: "
                              "choose one with Chinese, e.g. fonts-wqy-microhei")
        self._fitter = Fitter(self.fonts.width, self.fonts.line_height)

    def draw(self, view: View) -> Frame:
        """Paint `view` over the whole surface; the Frame lists every text and tap target."""
        screen = _SCREENS.get(type(view))
        if screen is None:
            raise TypeError(f"no screen for {type(view).__name__}")
        painter = Painter(self.surface, self.fonts, self._fitter)
        self.surface.fill(t.BG)
        screen(painter, view)
        return painter.frame
