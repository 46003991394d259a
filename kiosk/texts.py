"""Every sentence the kiosk shows, Chinese first and English beneath, in one place."""

from __future__ import annotations

from kiosk.printers import PrinterState
from kiosk.views import DeptTile, Floor, MatterRow, Text
from paihao.config import Department, HallConfig, Item

Message = tuple[Text, Text]  # title, detail

KEYPAD_TITLE: Text = ("请输入手机号码", "Enter your mobile number")
BAD_PHONE: Text = ("手机号码不正确，请重新输入", "Not a valid mobile number, please try again")
KIND: dict[str, Text] = {"immediate": ("即办件", "Done on the spot"), "promised": ("承诺件", "Promised")}

PAUSED_MESSAGE: Message = (("暂停取号", "Ticketing paused"),
                           ("系统正在连接，请稍候或咨询工作人员", "The hall system is reconnecting; please wait or ask staff"))
NO_REPLY: Message = (("未能确认取号", "Your number could not be confirmed"),
                     ("请咨询工作人员，不要重复取号", "Please ask staff before trying again"))
PRINTER_FAULT: dict[PrinterState, Message] = {
    PrinterState.OFFLINE: (("打印机故障，暂停取号", "The printer is not working"),
                           ("请到其他取号机取号或咨询工作人员", "Please use another kiosk or ask staff")),
    PrinterState.PAPER_OUT: (("打印纸已用完，暂停取号", "The printer is out of paper"),
                             ("请到其他取号机取号或咨询工作人员", "Please use another kiosk or ask staff")),
}
PRINTER_STATUS: dict[PrinterState, str] = {
    PrinterState.PAPER_LOW: "打印纸将尽 · Paper low",
    PrinterState.OFFLINE: "打印机离线 · Printer offline",
    PrinterState.PAPER_OUT: "打印纸已用完 · Out of paper",
}


def named(thing: Department | Item | None) -> Text:
    return (thing.name, thing.name_en) if thing else ("", "")


def refusal(error: dict) -> Message:
    """The hall's refusal, in its own Chinese words where it gave them."""
    zh = error.get("message_zh") or "未能取号"
    if error.get("code") == "limit_reached":
        return ((zh, "You already hold the most numbers allowed here"), ("请先办理已取的号", "Please use those first"))
    return ((zh, "No number was taken"), ("请咨询工作人员", "Please ask staff"))


def floors(config: HallConfig, waiting: dict[str, int], *, enabled: bool) -> tuple[Floor, ...]:
    by_floor: dict[int, list[DeptTile]] = {}
    for dept in config.departments:
        tile = DeptTile(dept.code, named(dept), waiting.get(dept.code), enabled)
        by_floor.setdefault(dept.floor, []).append(tile)
    return tuple(Floor((f"{n}楼", f"{n}F"), tuple(tiles)) for n, tiles in sorted(by_floor.items()))


def limit_text(item: Item) -> Text:
    if item.kind == "promised":
        days = item.deadline_workdays
        return (f"{days} 个工作日办结", f"Done in {days} working days")
    minutes = max(1, round(item.limit.total_seconds() / 60))
    return (f"办理时限 {minutes} 分钟", f"{minutes} min at the window")


def matter_rows(config: HallConfig, dept: str) -> tuple[MatterRow, ...]:
    return tuple(MatterRow(i.code, named(i), KIND[i.kind], limit_text(i)) for i in config.items if i.dept == dept)


def windows_text(config: HallConfig, dept: str) -> Text:
    """("请到 1楼 5号、6号窗口", "Go to window 5 or 6, 1F")"""
    serving = [w for w in config.windows if dept in w.depts]
    by_floor: dict[int, list[str]] = {}
    for window in serving:
        by_floor.setdefault(config.window_floor(window), []).append(window.id)
    zh = "；".join(f"{floor}楼 {'、'.join(i + '号' for i in ids)}窗口" for floor, ids in sorted(by_floor.items()))
    en = "; ".join(f"window {' or '.join(ids)}, {floor}F" for floor, ids in sorted(by_floor.items()))
    return (f"请到 {zh}", f"Go to {en}")
