"""What each kiosk screen shows, as plain data: the state machine (kiosk/app.py)
builds one of these, the renderer (kiosk/ui/) draws it and reports where its
buttons are. Neither knows the other's insides, so each is tested alone.

Text is given as (Chinese, English) pairs: Chinese first and large, English
beneath in smaller type, as halls do for visitors. English may be "".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

Text = tuple[str, str]  # (Chinese, English)


@dataclass(frozen=True)
class Chrome:
    """Shown on every screen: the header, and banners for faults."""

    site_name: str
    clock: str  # "09:03", the renderer shows it as given
    paused: bool = False  # hall offline: "暂停取号 / Ticketing paused" banner, tiles disabled
    status_line: str = ""  # for staff, small, at the bottom: e.g. "打印纸将尽 / Paper low"


@dataclass(frozen=True)
class DeptTile:
    code: str  # target name: f"dept:{code}"
    name: Text
    waiting: int | None  # None: not known yet (no retained queue seen)
    enabled: bool = True


@dataclass(frozen=True)
class Floor:
    label: Text  # ("1楼", "1F")
    tiles: tuple[DeptTile, ...]


@dataclass(frozen=True)
class HomeView:
    chrome: Chrome
    floors: tuple[Floor, ...]
    prompt: Text = ("请选择办理部门", "Choose a department")


@dataclass(frozen=True)
class MatterRow:
    code: str  # target name: f"item:{code}"
    name: Text
    kind: Text  # ("即办件", "Same day") or ("承诺件", "Promised")
    limit: Text  # ("办理时限 20 分钟", "20 min at the window") / ("5 个工作日办结", "done in 5 working days")


@dataclass(frozen=True)
class MattersView:
    chrome: Chrome
    dept: Text
    rows: tuple[MatterRow, ...]
    # targets: "back"


@dataclass(frozen=True)
class KeypadView:
    chrome: Chrome
    title: Text  # ("请输入手机号码", "Enter your mobile number")
    echo: str  # the digits typed so far, masked: "138****56"
    error: Text | None = None  # ("手机号码不正确", "Not a valid mobile number")
    can_confirm: bool = False
    # targets: "key:0".."key:9", "key:backspace", "key:clear", "key:ok", "back"


@dataclass(frozen=True)
class ConfirmView:
    chrome: Chrome
    dept: Text
    matter: Text
    phone_masked: str
    # targets: "confirm", "back"


@dataclass(frozen=True)
class BusyView:
    chrome: Chrome
    message: Text = ("正在出票…", "Printing your ticket…")


@dataclass(frozen=True)
class DoneView:
    chrome: Chrome
    number: str  # drawn largest of all; tests read it back from the frame
    dept: Text
    matter: Text
    ahead: int
    wait_min: int
    windows: Text  # ("请到 1楼 5号、6号窗口", "Go to window 5 or 6, 1F")
    printed: bool = True  # False: "出票失败，请记下您的号码 / Please note your number"
    # targets: "home"


@dataclass(frozen=True)
class MessageView:
    """A failure or notice that takes no number: printer out of paper, hall not answering, …"""

    chrome: Chrome
    title: Text
    detail: Text = ("", "")
    # targets: "home"


View = Union[HomeView, MattersView, KeypadView, ConfirmView, BusyView, DoneView, MessageView]


@dataclass
class Drawn:
    """One piece of text on the frame, where it landed."""

    text: str
    rect: tuple[int, int, int, int]  # x, y, w, h
    size_px: int
    role: str = ""  # e.g. "number", "title", "tile", "banner", "key"


@dataclass
class Frame:
    """What the renderer drew: for tests, and for finding what a tap hit."""

    texts: list[Drawn] = field(default_factory=list)
    targets: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)  # name -> x, y, w, h

    def hit(self, x: int, y: int) -> str | None:
        for name, (rx, ry, rw, rh) in self.targets.items():
            if rx <= x < rx + rw and ry <= y < ry + rh:
                return name
        return None
