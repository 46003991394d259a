"""The kiosk renderer alone: every screen at every supported size, drawn from
sample views with rongchang's departments, saved as a PNG under
artefacts/kiosk/ to look at, and checked for structure, not pixels."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame

from kiosk.ui import Fonts, Renderer
from kiosk.ui.renderer import min_text_px
from kiosk.ui.theme import has_cjk
from kiosk.views import (
    BusyView,
    Chrome,
    ConfirmView,
    DeptTile,
    DoneView,
    Floor,
    Frame,
    HomeView,
    KeypadView,
    MatterRow,
    MattersView,
    MessageView,
)
from paihao.errors import ConfigError

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
ARTEFACTS = Path(__file__).resolve().parents[2] / "artefacts" / "kiosk"
SIZES = [(1080, 1920), (1920, 1080), (1280, 800)]
KEYS = [f"key:{d}" for d in range(10)] + ["key:backspace", "key:clear"]

CHROME = Chrome("荣昌县行政服务中心", "09:03")
PAUSED = Chrome("荣昌县行政服务中心", "09:03", paused=True, status_line="打印纸将尽 · Paper low")

DEPTS = {  # floor -> (code, Chinese, English, waiting)
    1: [("04", "公安局", "Public Security Bureau", 12),
        ("05", "市场监督管理局", "Administration for Market Regulation", 3),
        ("06", "人力资源和社会保障局", "Human Resources and Social Security Bureau", 128),
        ("11", "税务局", "Taxation Bureau", 0)],
    2: [("02", "国土资源局", "Land and Resources Bureau", 5),
        ("03", "住房和城乡建设委员会", "Housing and Urban-Rural Development Commission", None),
        ("12", "住房公积金管理中心", "Housing Provident Fund Management Centre", 7)],
    3: [("01", "发展和改革委员会", "Development and Reform Commission", 2),
        ("07", "民政局", "Civil Affairs Bureau", 4),
        ("08", "卫生和计划生育委员会", "Health and Family Planning Commission", 1),
        ("09", "交通委员会", "Transport Commission", 0),
        ("10", "环境保护局", "Environmental Protection Bureau", 6),
        ("13", "农业委员会", "Agriculture Commission", None),
        ("14", "文化委员会", "Culture, Broadcasting, Press and Publication Commission", 9)],
}
EXTRA = {4: [("15", "退役军人事务局", "Veterans Affairs Bureau", 2),
             ("16", "医疗保障局", "Healthcare Security Administration", 11)]}

MATTERS = (  # 市场监督管理局's seven, the most any rongchang department has
    MatterRow("0501", ("个体工商户设立登记", "Registering a sole proprietorship"), ("即办件", "Same day"),
              ("办理时限 20 分钟", "20 min at the window")),
    MatterRow("0502", ("企业名称预先核准", "Company name pre-approval"), ("即办件", "Same day"),
              ("办理时限 15 分钟", "15 min at the window")),
    MatterRow("0503", ("营业执照补领", "Replacing a business licence"), ("即办件", "Same day"),
              ("办理时限 10 分钟", "10 min at the window")),
    MatterRow("0504", ("有限责任公司设立登记", "Registering a limited liability company"), ("承诺件", "Promised"),
              ("3 个工作日办结", "Done in 3 working days")),
    MatterRow("0505", ("企业变更登记", "Company change registration"), ("承诺件", "Promised"),
              ("3 个工作日办结", "Done in 3 working days")),
    MatterRow("0506", ("道路运输从业人员从业资格证补证换证",
                       "Replacing or renewing a road transport worker's qualification certificate"),
              ("承诺件", "Promised"), ("5 个工作日办结", "Done in 5 working days")),
    MatterRow("0507", ("食品经营许可", "Food business licence"), ("承诺件", "Promised"),
              ("15 个工作日办结", "Done in 15 working days")),
)


def floors(depts: dict, enabled: bool = True) -> tuple[Floor, ...]:
    return tuple(Floor((f"{n}楼", f"{n}F"), tuple(DeptTile(c, (zh, en), w, enabled) for c, zh, en, w in tiles))
                 for n, tiles in sorted(depts.items()))


DONE = DoneView(CHROME, "05012", ("市场监督管理局", "Administration for Market Regulation"),
                ("有限责任公司设立登记", "Registering a limited liability company"), ahead=3, wait_min=18,
                windows=("请到 1楼 1号、2号、3号窗口", "Go to window 1, 2 or 3, 1F"))

VIEWS = {
    "home": HomeView(CHROME, floors(DEPTS)),
    "home-paused": HomeView(PAUSED, floors(DEPTS, enabled=False)),
    "home-16": HomeView(CHROME, floors({**DEPTS, **EXTRA})),
    "matters": MattersView(CHROME, ("市场监督管理局", "Administration for Market Regulation"), MATTERS),
    "matters-few": MattersView(CHROME, ("税务局", "Taxation Bureau"), MATTERS[:2]),
    "keypad": KeypadView(CHROME, ("请输入手机号码", "Enter your mobile number"), "138****56"),
    "keypad-error": KeypadView(PAUSED, ("请输入手机号码", "Enter your mobile number"), "123****8901",
                               error=("手机号码不正确，请重新输入", "Not a valid mobile number, please try again")),
    "keypad-ready": KeypadView(CHROME, ("请输入手机号码", "Enter your mobile number"), "138****5678",
                               can_confirm=True),
    "confirm": ConfirmView(CHROME, DONE.dept, MATTERS[5].name, "138****5678"),
    "busy": BusyView(CHROME),
    "done": DONE,
    "done-failed": DoneView(**{**DONE.__dict__, "printed": False, "chrome": PAUSED}),
    "message": MessageView(CHROME, ("打印纸已用完，暂停取号", "The printer is out of paper"),
                           ("请到其他取号机取号或咨询工作人员", "Please use another kiosk or ask staff")),
}


@pytest.fixture(scope="module")
def display():
    pygame.display.init()
    yield
    pygame.display.quit()


def draw(name: str, size: tuple[int, int]) -> Frame:
    """Draws a sample into the (dummy) display surface, as the kiosk does, and saves it."""
    surface = pygame.display.set_mode(size)
    frame = Renderer(surface, FONT).draw(VIEWS[name])
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    pygame.image.save(surface, str(ARTEFACTS / f"{name}-{size[0]}x{size[1]}.png"))
    return frame


def rect(r: tuple[int, int, int, int]) -> pygame.Rect:
    return pygame.Rect(r)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", list(VIEWS))
def test_structure(name: str, size: tuple[int, int], display) -> None:
    frame = draw(name, size)
    screen = pygame.Rect((0, 0), size)
    cn_min, en_min = min_text_px(*size)
    assert frame.texts
    for d in frame.texts:
        assert screen.contains(rect(d.rect)), d
        assert d.size_px >= (cn_min if has_cjk(d.text) else en_min), d
    texts = [rect(d.rect) for d in frame.texts]
    for i, a in enumerate(texts):
        assert a.collidelist(texts[i + 1:]) == -1, ("texts overlap", frame.texts[i])
    targets = {n: rect(r) for n, r in frame.targets.items()}
    for n, r in targets.items():
        assert screen.contains(r), n
        assert min(r.w, r.h) >= round(90 * min(size) / 1080), (n, r)
        assert all(not r.colliderect(o) for m, o in targets.items() if m != n), ("targets overlap", n)
    for d in frame.texts:  # a label is inside its button or clear of every button
        inside = [n for n, r in targets.items() if r.colliderect(rect(d.rect))]
        assert all(targets[n].contains(rect(d.rect)) for n in inside), (d, inside)


def test_sizes_documented() -> None:
    assert [min_text_px(*s) for s in SIZES] == [(32, 24), (32, 24), (24, 18)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", ["home", "home-16"])
def test_home_every_department_is_a_target(name: str, size, display) -> None:
    frame = draw(name, size)
    codes = {t.code for f in VIEWS[name].floors for t in f.tiles}
    assert {n for n in frame.targets if n.startswith("dept:")} == {f"dept:{c}" for c in codes}
    drawn = " ".join(d.text for d in frame.texts)
    for floor in VIEWS[name].floors:
        assert floor.label[0] in drawn
        for tile in floor.tiles:
            assert any(d.text.startswith(tile.name[0][:2]) for d in frame.texts if d.role == "tile"), tile


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_home_paused_has_no_tiles_to_tap(size, display) -> None:
    frame = draw("home-paused", size)
    assert not [n for n in frame.targets if n.startswith("dept:")]
    assert any(d.role == "banner" and "暂停取号" in d.text for d in frame.texts)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_home_paused_chrome_disables_enabled_tiles(size, display) -> None:
    surface = pygame.Surface(size)
    frame = Renderer(surface, FONT).draw(HomeView(PAUSED, floors(DEPTS, enabled=True)))
    assert not [n for n in frame.targets if n.startswith("dept:")]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_matters_every_row_and_back(size, display) -> None:
    frame = draw("matters", size)
    assert set(frame.targets) == {f"item:{r.code}" for r in MATTERS} | {"back"}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", ["keypad", "keypad-error", "keypad-ready"])
def test_keypad_keys(name: str, size, display) -> None:
    frame = draw(name, size)
    view = VIEWS[name]
    expected = set(KEYS) | {"back"} | ({"key:ok"} if view.can_confirm else set())
    assert set(frame.targets) == expected
    assert any(d.text == view.echo and d.role == "echo" for d in frame.texts)
    if view.error:
        assert any(d.role == "error" and d.text.startswith("手机号码") for d in frame.texts)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_confirm_targets(size, display) -> None:
    frame = draw("confirm", size)
    assert set(frame.targets) == {"confirm", "back"}
    assert any(d.text == "138****5678" for d in frame.texts)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", ["done", "done-failed"])
def test_done_number_is_the_largest(name: str, size, display) -> None:
    frame = draw(name, size)
    numbers = [d for d in frame.texts if d.role == "number"]
    assert [d.text for d in numbers] == [VIEWS[name].number]
    assert all(d.size_px < numbers[0].size_px for d in frame.texts if d.role != "number")
    assert set(frame.targets) == {"home"}
    joined = " ".join(d.text for d in frame.texts)
    assert "前面还有 3 人" in joined and "18 分钟" in joined
    assert ("出票失败" in joined) == (name == "done-failed")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", ["busy", "message"])
def test_busy_and_message_targets(name: str, size, display) -> None:
    assert set(draw(name, size).targets) == ({"home"} if name == "message" else set())


def test_a_tap_finds_the_key_under_it(display) -> None:
    frame = draw("keypad-ready", (1080, 1920))
    for name, (x, y, w, h) in frame.targets.items():
        assert frame.hit(x + w // 2, y + h // 2) == name
    assert frame.hit(0, 0) is None  # the header


def test_unknown_view_is_refused(display) -> None:
    with pytest.raises(TypeError):
        Renderer(pygame.Surface((1080, 1920)), FONT).draw(object())


# pygame ships FreeSans Bold, a font with no Chinese glyphs: always there to test with.
LATIN_ONLY = str(Path(pygame.__file__).parent / pygame.font.get_default_font())


@pytest.mark.parametrize("path, face", [("/nonexistent/font.ttc", 0), (FONT, 9), (LATIN_ONLY, 0)])
def test_a_font_that_cannot_show_chinese_is_a_config_error(path: str, face: int) -> None:
    with pytest.raises(ConfigError):
        Renderer(pygame.Surface((1280, 800)), path, face)


def test_a_day_of_tickets_does_not_grow_the_cache(display) -> None:
    renderer = Renderer(pygame.display.set_mode((1080, 1920)), FONT)
    for i in range(300):
        renderer.draw(dataclasses.replace(DONE, number=f"05{i:03d}", ahead=i, chrome=Chrome("荣昌", f"{i:04d}")))
    assert 0 < renderer.fonts.cached_bytes <= 8 * 1024 * 1024


def test_fonts_cache_surfaces(display) -> None:
    fonts = Fonts(FONT)
    first = fonts.render("等候 12 人", 32, (0, 0, 0))
    assert fonts.render("等候 12 人", 32, (0, 0, 0)) is first
    assert first.get_height() == fonts.line_height(32)
    assert fonts.missing("荣昌 OK") == ""
