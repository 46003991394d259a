"""The wall and window screens alone: every layout at every size and theme, drawn from a
sample hall (rongchang's departments, a full morning), saved under artefacts/display/ to
look at, and checked for structure: texts inside their regions, no overlaps, red cards
before yellow, paging that shows every card once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame

from display.model import Call
from display.screen import ScreenBuilder
from display.ui.layout import wall_layout, window_layout
from display.ui.paint import DisplayFonts
from display.ui.renderer import Frame, Renderer
from display.ui.theme import THEMES
from paihao.device_config import Display
from tests.display import samples

ARTEFACTS = Path(__file__).resolve().parents[2] / "artefacts" / "display"
SIZES = [(1920, 1080), (1280, 720), (768, 384), (384, 192)]
CALL = Call("02015", "5", samples.at(0))
CONFIG = samples.config()


@pytest.fixture(scope="module")
def display():
    pygame.display.init()
    yield
    pygame.display.quit()


def draw(name: str, size: tuple[int, int], *, layout: str = "wall", theme: str = "led", window: str | None = None,
         snap=None, banner=None, mono: float = 1.0, connected: bool = True) -> Frame:
    surface = pygame.display.set_mode(size)
    shape = window_layout(*size) if window else wall_layout(*size, layout)
    fonts = DisplayFonts(Display(id="t").font, antialiased=not shape.pixel_exact)
    spec = Display(id="t", size=size, layout=layout, theme=theme, window=window,
                   notice="请留意叫号，过号请到窗口重新排队。办事指南请扫描大厅入口二维码。监督电话 023-46712345")
    renderer = Renderer(surface, fonts, shape, THEMES[theme])
    builder = ScreenBuilder(CONFIG, spec, shape, fonts.width, window)
    snap = snap or samples.snapshot(CONFIG)
    banner = banner or samples.banner(CALL, fresh=False)
    if window:
        view = builder.window_page(snap, banner, mono, connected)
    else:
        view = builder.wall(snap, banner, samples.NOW, mono, connected)
    renderer.draw(view)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    pygame.image.save(surface, str(ARTEFACTS / f"{name}-{size[0]}x{size[1]}.png"))
    return renderer.frame()


def check(frame: Frame, size: tuple[int, int]) -> None:
    screen = pygame.Rect((0, 0), size)
    assert frame.texts
    for d in frame.texts:
        region = "header" if d.region == "strip" and "header" in frame.regions else d.region
        if d.region == "strip" and region not in frame.regions:
            region = next(iter(frame.regions))
        assert screen.contains(pygame.Rect(d.rect)), d
        assert pygame.Rect(frame.regions[region]).contains(pygame.Rect(d.rect)), d
    rects = [pygame.Rect(d.rect) for d in frame.texts]
    for i, a in enumerate(rects):
        hit = a.collidelist(rects[i + 1:])
        assert hit == -1, ("texts overlap", frame.texts[i], frame.texts[i + 1 + hit])


CASES = {
    "wall": {},
    "wall-contrast": {"theme": "contrast"},
    "wall-flash": {"banner": samples.banner(CALL, fresh=True, since=0.4)},
    "wall-page2": {"mono": 7.0},
    "wall-reconnecting": {"connected": False},
    "wall-empty": {"snap": samples.snapshot(CONFIG, cards=0, calls=0, online=None), "banner": samples.banner(None)},
    "wall-gap": {"snap": samples.snapshot(CONFIG, cards=3, tally_note="09:58–10:05 可能漏计")},
    "calls": {"layout": "calls"},
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("case", list(CASES))
def test_wall_structure(case: str, size: tuple[int, int], display) -> None:
    frame = draw(case, size, **CASES[case])
    check(frame, size)
    if case != "wall-empty":
        assert "02015" in frame.text("banner-ticket")
    assert bool(frame.text("strip")) == (case in ("wall-reconnecting", "wall-empty"))


def _with_window(card: str, status: str = "open", ticket: str | None = "02015"):
    snap = samples.snapshot(CONFIG)
    old = snap.windows["5"]
    snap.windows["5"] = type(old)("5", "5号窗口", status, "c01", "张晓燕", ticket, "02", card)
    return snap


WINDOW_CASES = {
    "window": {"snap": _with_window("none")},
    "window-yellow": {"snap": _with_window("yellow")},
    "window-red": {"snap": _with_window("red"), "theme": "contrast"},
    "window-paused": {"snap": _with_window("none", "paused", None)},
    "window-flash": {"snap": _with_window("none"), "banner": samples.banner(CALL, fresh=True, since=0.4)},
    "window-reconnecting": {"snap": _with_window("red"), "connected": False},
}


@pytest.mark.parametrize("size", [(384, 192), (768, 384), (1280, 720)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("case", list(WINDOW_CASES))
def test_window_screen(case: str, size: tuple[int, int], display) -> None:
    frame = draw(case, size, window="5", **WINDOW_CASES[case])
    check(frame, size)
    if case == "window-paused":
        assert frame.text("state") == ["暂停服务"]
    else:
        assert frame.text("number") == ["02015"]
        assert max(frame.texts, key=lambda d: d.size_px).text == "02015"  # the number is the largest thing
    if case == "window-reconnecting":
        assert frame.text("strip")


def _level_order(frame: Frame) -> list[str]:
    return [d.text for d in frame.texts if d.role == "level"]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_red_cards_come_first_and_every_card_is_on_one_page(size: tuple[int, int], display) -> None:
    snap = samples.snapshot(CONFIG, cards=12)
    shown: list[str] = []
    levels: list[str] = []
    pages = None
    for page in range(12):
        frame = draw("cards-paging", size, snap=snap, mono=page * 6.0 + 0.5)
        tickets = [d.text for d in frame.texts if d.role == "ticket" and d.region in ("cards", "panel")]
        if not tickets:
            continue  # a narrow wall's panel is showing waiting or the tally now
        titles = " ".join(d.text for d in frame.texts if d.role == "title")
        if tickets[0] in shown:
            break  # back at the first page
        shown += tickets
        levels += _level_order(frame)
        pages = titles
    assert sorted(shown) == sorted(c.ref for c in snap.cards), pages
    assert levels == sorted(levels, key=lambda level: level != "红")
    assert levels.count("红") == 4


def test_the_banner_flashes_then_stays(display) -> None:
    steady = samples.banner(CALL, fresh=True, since=0.0)
    phases = [steady.flash(t) for t in (0.1, 0.6, 1.1, 4.9, 5.1, 60)]
    assert phases == [0, 1, 0, 1, None, None]
