"""The wall and window screens alone: every layout at every size and theme, drawn from a
sample hall (rongchang's departments, a full morning), saved under artefacts/display/ to
look at, and checked for structure: texts inside their regions, no overlaps, red cards
before yellow, paging that shows every card once."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame

from display.model import Call
from display.screen import open_screen
from display.ui.layout import PIXEL_SIZES
from display.ui.paint import DisplayFonts
from display.ui.renderer import Frame
from paihao.device_config import Display
from tests.display import samples

ARTEFACTS = Path(__file__).resolve().parents[2] / "artefacts" / "display"
SIZES = [(1920, 1080), (1280, 720), (768, 384), (384, 192)]
CALL = Call("02015", "5", samples.at(0))
CONFIG = samples.config()
NOTICE = "请留意叫号，过号请到窗口重新排队。办事指南请扫描大厅入口二维码。监督电话 023-46712345"


@pytest.fixture(scope="module")
def display():
    pygame.display.init()
    yield
    pygame.display.quit()


def draw(name: str, size: tuple[int, int], *, layout: str = "wall", theme: str = "led", window: str | None = None,
         snap=None, banner=None, mono: float = 1.0, connected: bool = True) -> Frame:
    surface = pygame.display.set_mode(size)
    spec = Display(id="t", size=size, layout=layout, theme=theme, window=window, notice=NOTICE)
    renderer, builder = open_screen(CONFIG, spec, window, surface)  # as the app opens its screen
    snap = snap or samples.snapshot(CONFIG, windows=36)
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
    """Every text's ink whole and inside its region (the ticker scrolls through its own), no two overlapping."""
    screen = pygame.Rect((0, 0), size)
    assert frame.texts
    for d in frame.texts:
        ink = pygame.Rect(d.ink) if d.role != "notice" else pygame.Rect(d.rect)
        assert screen.contains(ink), d
        assert pygame.Rect(frame.regions[d.region]).contains(ink), d
        if "strip" in frame.regions and d.region != "strip":  # the strip hides nothing but the header
            assert not pygame.Rect(frame.regions["strip"]).colliderect(ink), d
    rects = [pygame.Rect(d.ink if d.role != "notice" else d.rect) for d in frame.texts]
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


def _with_window(card: str, status: str = "open", ticket: str | None = "02015", dept: str = "02"):
    snap = samples.snapshot(CONFIG)
    old = snap.windows["5"]
    snap.windows["5"] = type(old)("5", "5号窗口", status, "c01", "张晓燕", ticket, dept, card)
    return snap


WINDOW_CASES = {
    "window": {"snap": _with_window("none")},
    "window-long-dept": {"snap": _with_window("yellow", dept="06")},  # 人力资源和社会保障局: its short name
    "window-yellow": {"snap": _with_window("yellow")},
    "window-red": {"snap": _with_window("red"), "theme": "contrast"},
    "window-paused": {"snap": _with_window("none", "paused", None)},
    "window-flash": {"snap": _with_window("none"), "banner": samples.banner(CALL, fresh=True, since=0.4)},
    "window-reconnecting": {"snap": _with_window("red"), "connected": False},
}


@pytest.mark.parametrize("size", [(384, 192), (768, 384), (1280, 720), (1920, 1080)], ids=lambda s: f"{s[0]}x{s[1]}")
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
    assert not any(d.text.endswith("…") for d in frame.texts)


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


LED_SIZES = [(768, 384), (384, 192)]
LED_COLOURS = {(0, 0, 0), (255, 0, 0), (0, 255, 0), (255, 255, 0)}


def colours(name: str, size: tuple[int, int]) -> set[tuple[int, int, int]]:
    """Every colour in a saved PNG."""
    data = pygame.image.tobytes(pygame.image.load(str(ARTEFACTS / f"{name}-{size[0]}x{size[1]}.png")), "RGB")
    return set(zip(data[0::3], data[1::3], data[2::3], strict=True))


@pytest.mark.parametrize("size", LED_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("case", ["wall", "wall-flash", "wall-reconnecting", "calls", "window-red", "window-flash"])
def test_led_walls_are_drawn_pixel_exact(case: str, size: tuple[int, int], display) -> None:
    options = {**CASES.get(case, {}), **WINDOW_CASES.get(case, {}), "theme": "led"}
    frame = draw(f"{case}-led", size, window="5" if case.startswith("window") else None, **options)
    # every LED fully on or off, in pure red, green or yellow: no antialiasing, no scaling
    assert colours(f"{case}-led", size) <= LED_COLOURS
    # bitmap-friendly sizes, and none smaller than the classic 16x16 dot character
    assert {d.size_px for d in frame.texts} <= set(PIXEL_SIZES)
    assert min(d.size_px for d in frame.texts) >= 16


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_panels_default_to_pure_colours_on_black_and_readable_sizes(size: tuple[int, int], display) -> None:
    frame = draw("wall", size)
    # antialiased edges blend a pure colour with black: never a blue component, never white or grey
    assert all(b == 0 and (r == 0 or g == 0 or r == g) for r, g, b in colours("wall", size))
    assert min(d.size_px for d in frame.texts) >= 24


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("case", ["wall", "wall-contrast", "calls", "wall-gap"])
def test_names_are_whole_or_short_never_cut(case: str, size: tuple[int, int], display) -> None:
    """Rongchang's departments have short names (人社局): where the full name does not fit,
    the short one is shown, so no department, window, clerk or number is cut."""
    for mono in (1.0, 7.0, 13.0, 19.0):  # the pages, and a narrow wall's panel turns
        frame = draw(case, size, mono=mono, **CASES[case])
        cut = [d.text for d in frame.texts if d.text.endswith("…")]
        assert cut == [], cut
    names = {d.name for d in CONFIG.departments} | {d.short_name for d in CONFIG.departments}
    assert set(frame.text("dept")) <= names


def test_the_header_shows_the_hall_date_and_clock(display) -> None:
    frame = draw("wall", (1920, 1080))
    assert frame.text("site") == ["荣昌县行政服务中心"]
    assert frame.text("date") == ["11月27日 星期五"] and frame.text("clock") == ["10:03:15"]


def test_recent_calls_are_listed_newest_first(display) -> None:
    snap = samples.snapshot(CONFIG, windows=36)
    frame = draw("wall", (1920, 1080), snap=snap)
    assert frame.text("ticket")[:10] == [c.ticket for c in snap.recent]
    assert next(d.text for d in frame.texts if d.region == "recent" and d.role == "window") == \
        f"{snap.recent[0].window}号窗口"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_notice_scrolls_when_it_is_longer_than_the_wall(size: tuple[int, int], display) -> None:
    first = draw("ticker", size, mono=1.0)
    later = draw("ticker", size, mono=1.5)
    [a], [b] = [d for d in first.texts if d.role == "notice"], [d for d in later.texts if d.role == "notice"]
    assert a.text == b.text and a.text.startswith("请留意叫号")
    box = pygame.Rect(first.regions["ticker"])
    if DisplayFonts(Display(id="t").font, antialiased=True).width(NOTICE, a.size_px) <= box.w:
        assert a.rect == b.rect  # it fits: it stands still, centred
        assert abs(pygame.Rect(a.rect).centerx - box.centerx) <= 1
    else:
        assert b.rect[0] < a.rect[0]  # it came in from the right and moved left


def test_a_new_calls_frame_draws_the_banner_first_and_the_rest_next(display) -> None:
    size = (768, 384)
    surface = pygame.display.set_mode(size)
    renderer, builder = open_screen(CONFIG, Display(id="t", size=size, notice=NOTICE), None, surface)
    snap = samples.snapshot(CONFIG, windows=36)
    renderer.draw(builder.wall(snap, samples.banner(CALL, fresh=False), samples.NOW, 1.0, False))
    assert renderer.frame().text("strip")  # not connected
    # connected again, a page turned, the clock ticked, and a new call came: its frame draws the banner alone ...
    call = Call("05001", "3", samples.at(0))
    later = samples.NOW + timedelta(seconds=7)
    view = builder.wall(snap, samples.banner(call, fresh=True, since=7.0), later, 7.0, True)
    dirty = renderer.draw(view, only={"banner"})
    assert dirty == [pygame.Rect(renderer.layout.regions["banner"].rect)] + [pygame.Rect(renderer.strip.rect)]
    frame = renderer.frame()
    assert frame.text("banner-ticket") == ["05001"] and frame.text("strip") and frame.text("clock") == []
    check(frame, size)
    # ... and the next frame the rest: the strip goes, the header and the turned pages come
    dirty = renderer.draw(view)
    frame = renderer.frame()
    assert not frame.text("strip") and frame.text("clock") == ["10:03:22"]
    assert pygame.Rect(renderer.layout.regions["header"].rect) in dirty
    check(frame, size)
