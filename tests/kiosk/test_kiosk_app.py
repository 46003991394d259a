"""The real kiosk — pygame on SDL's dummy driver, the fake printer that ships in
the package — against the real controller on a real mosquitto. Taps are posted
as pygame events; every screen is saved as a PNG under artefacts/kiosk-flow/."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path

import pytest

from kiosk.app import KioskApp
from kiosk.printers import FakePrinter
from tests.conftest import Monotonic, Peer

ARTEFACTS = Path(__file__).resolve().parents[2] / "artefacts" / "kiosk-flow"
PHONE = "13812345678"



@pytest.fixture
def printer() -> FakePrinter:
    return FakePrinter()


@pytest.fixture
def idle_clock() -> Monotonic:
    return Monotonic()


@pytest.fixture
def kiosk(request, hall_config, printer, idle_clock, clock):
    folder = ARTEFACTS / request.node.name
    app = KioskApp(hall_config, "k1", printer=printer, screenshots=folder, now=clock, monotonic=idle_clock)
    app.start()
    yield app
    app.close()


def step_until(app: KioskApp, condition, timeout: float = 5.0) -> None:
    """Run the kiosk's loop until ``condition()``, waiting on the worker's result, not on time."""
    deadline = time.monotonic() + timeout
    app.step()
    while not condition():
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"kiosk still on {app.flow.screen}"
        app.flow.result_ready.wait(remaining)
        app.step()


def wait_hall_online(app: KioskApp, online: bool = True) -> None:
    """Until the kiosk has heard hall/status; waits on the kiosk's own change event."""
    while app.link.hall_online is not online:
        assert app.changed.wait(5), "the kiosk never heard the hall's status"
        app.changed.clear()
    app.step()


def tap(app: KioskApp, target: str) -> None:
    assert target in app.frame.targets, f"{target} not on the {app.flow.screen} screen: {sorted(app.frame.targets)}"
    x, y, w, h = app.frame.targets[target]
    pygame = app.pygame
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(x + w // 2, y + h // 2), button=1, touch=False))
    app.step()


def type_phone(app: KioskApp, phone: str) -> None:
    for digit in phone:
        tap(app, f"key:{digit}")


def take_number(app: KioskApp, dept: str = "02", item: str = "0202", phone: str = PHONE) -> None:
    tap(app, f"dept:{dept}")
    tap(app, f"item:{item}")
    type_phone(app, phone)
    tap(app, "key:ok")
    tap(app, "confirm")


def numbers(config) -> list[str]:
    with sqlite3.connect(config.storage.db) as conn:
        return [n for (n,) in conn.execute("SELECT number FROM tickets ORDER BY id")]


def test_a_citizen_takes_a_number_and_gets_a_printed_ticket(hall, peer, kiosk, printer):
    wait_hall_online(kiosk)
    assert {f"dept:{d.code}" for d in hall.config.departments} <= set(kiosk.frame.targets)
    tap(kiosk, "dept:02")
    assert kiosk.flow.screen == "matters"
    assert {"item:0201", "item:0202"} <= set(kiosk.frame.targets)
    tap(kiosk, "item:0202")
    type_phone(kiosk, PHONE)
    echoed = [t.text for t in kiosk.frame.texts if "*" in t.text]
    assert "138****5678" in echoed  # masked as typed
    tap(kiosk, "key:ok")
    assert kiosk.flow.screen == "confirm"
    tap(kiosk, "confirm")
    step_until(kiosk, lambda: kiosk.flow.screen == "done")
    issued = numbers(hall.config)
    assert len(issued) == 1
    largest = max(kiosk.frame.texts, key=lambda t: t.size_px)
    assert largest.text == issued[0] == "02001"
    assert len(printer.jobs) == 1 and b"02001" in printer.jobs[0]
    assert PHONE.encode() not in printer.jobs[0]  # the ticket shows the phone masked
    for screen in ("home", "matters", "keypad", "confirm", "done"):
        assert (kiosk.screenshots / f"{screen}.png").stat().st_size > 0


def test_every_text_stays_on_the_screen(hall, peer, kiosk):
    wait_hall_online(kiosk)
    width, height = kiosk.surface.get_size()
    for target in ("dept:06", "item:0601"):
        for drawn in kiosk.frame.texts:
            x, y, w, h = drawn.rect
            assert 0 <= x and 0 <= y and x + w <= width and y + h <= height, drawn
        tap(kiosk, target)


def test_hall_offline_pauses_ticketing(hall_config, peer, kiosk, printer):
    """No controller at all: the banner says so, and no department can be tapped."""
    kiosk.step()
    assert kiosk.view.chrome.paused
    assert not any(name.startswith("dept:") for name in kiosk.frame.targets)
    assert any("暂停取号" in t.text for t in kiosk.frame.texts)
    assert printer.jobs == []


@pytest.mark.parametrize("fault, title", [("offline", "打印机故障"), ("paper_out", "打印纸已用完")])
def test_a_printer_that_cannot_print_takes_no_number(hall, peer, kiosk, printer, fault, title):
    wait_hall_online(kiosk)
    printer.fault = fault
    take_number(kiosk)
    assert kiosk.flow.screen == "message"
    assert any(title in t.text for t in kiosk.frame.texts)
    assert numbers(hall.config) == []
    topic = peer.topics.device_status("kiosks", "k1")
    peer.heard.wait_for(lambda m: m.topic == topic and json.loads(m.payload)["printer"] == fault)


def test_paper_low_prints_and_warns(hall, peer, kiosk, printer):
    wait_hall_online(kiosk)
    printer.fault = "paper_low"
    take_number(kiosk)
    step_until(kiosk, lambda: kiosk.flow.screen == "done")
    assert len(printer.jobs) == 1
    assert "Paper low" in kiosk.view.chrome.status_line
    topic = peer.topics.device_status("kiosks", "k1")
    status = peer.heard.wait_for(lambda m: m.topic == topic and json.loads(m.payload)["printer"] == "paper_low")
    assert json.loads(status.payload)["online"] is True


def test_a_failed_print_keeps_the_number_on_screen(hall, peer, kiosk, printer):
    wait_hall_online(kiosk)
    printer.fault = "fail_mid_job"
    take_number(kiosk)
    step_until(kiosk, lambda: kiosk.flow.screen == "done")
    issued = numbers(hall.config)
    assert issued == ["02001"]  # the ticket stays valid
    assert kiosk.view.printed is False and kiosk.view.number == "02001"
    assert any("请记下您的号码" in t.text for t in kiosk.frame.texts)
    topic = peer.topics.device_status("kiosks", "k1")
    status = peer.heard.wait_for(lambda m: m.topic == topic and json.loads(m.payload)["last_error"])
    assert "02001" in json.loads(status.payload)["last_error"]


def test_a_wrong_number_is_refused_on_the_keypad(hall, peer, kiosk):
    wait_hall_online(kiosk)
    tap(kiosk, "dept:02")
    tap(kiosk, "item:0202")
    type_phone(kiosk, "12345678901")
    tap(kiosk, "key:ok")
    assert kiosk.flow.screen == "keypad"
    assert any("手机号码不正确" in t.text for t in kiosk.frame.texts)
    tap(kiosk, "key:clear")
    assert kiosk.view.echo == "" and kiosk.view.error is None
    assert numbers(hall.config) == []


def test_the_fourth_waiting_number_of_one_phone_is_refused(hall, peer, kiosk):
    wait_hall_online(kiosk)
    for _ in range(3):
        assert peer.ticket(phone=PHONE)["ok"]
    take_number(kiosk)
    step_until(kiosk, lambda: kiosk.flow.screen == "message")
    assert any("最多" in t.text for t in kiosk.frame.texts)
    assert len(numbers(hall.config)) == 3


def test_every_screen_returns_home_after_30_seconds_untouched(hall, peer, kiosk, idle_clock):
    wait_hall_online(kiosk)
    tap(kiosk, "dept:02")
    tap(kiosk, "item:0202")
    idle_clock.now += 29
    kiosk.step()
    assert kiosk.flow.screen == "keypad"
    idle_clock.now += 1
    kiosk.step()
    assert kiosk.flow.screen == "home"


def test_no_reply_is_retried_with_the_same_request_id_then_reported(hall_config, broker, kiosk, printer):
    """A hung controller (status says online, nobody answers): two identical requests, then a clear failure."""
    with Peer(broker.port, kiosk.link.topics) as hung:
        hung.publish(hung.topics.hall_status, "online", retain=True)
        wait_hall_online(kiosk)
        take_number(kiosk)
        step_until(kiosk, lambda: kiosk.flow.screen == "message")
        requests = [json.loads(m.payload) for m in hung.heard.messages
                    if m.topic == hung.topics.kiosk_request("k1")]
        assert len(requests) == 2 and requests[0]["request_id"] == requests[1]["request_id"]
        assert any("未能确认取号" in t.text for t in kiosk.frame.texts)
        assert printer.jobs == []
        hung.publish(hung.topics.hall_status, b"", retain=True)  # clear the retained fake


def test_the_kiosk_says_it_is_online_and_offline(hall, peer, kiosk):
    topic = peer.topics.device_status("kiosks", "k1")
    online = peer.heard.wait_for(lambda m: m.topic == topic)
    assert json.loads(online.payload)["online"] is True
    mark = peer.heard.mark()  # (a second "online", with the printer's state, may still be on its way)
    kiosk.link.stop()
    peer.heard.wait_for(lambda m: m.topic == topic and json.loads(m.payload)["online"] is False, after=mark)
    assert peer.heard.latest(topic)["online"] is False  # and it is the last word


def test_a_request_id_from_the_kiosk_is_unique(hall, peer, kiosk):
    wait_hall_online(kiosk)
    take_number(kiosk)
    step_until(kiosk, lambda: kiosk.flow.screen == "done")
    tap(kiosk, "home")
    take_number(kiosk, dept="05", item="0501", phone=f"139{uuid.uuid4().int % 10**8:08d}")
    step_until(kiosk, lambda: kiosk.flow.screen == "done")
    assert numbers(hall.config) == ["02001", "05001"]


def test_a_finger_on_the_touchscreen_counts_once(hall, kiosk, monkeypatch):
    """SDL reports a touch as a FINGERUP and again as a mouse click marked touch: one tap."""
    wait_hall_online(kiosk)
    taps = []
    monkeypatch.setattr(kiosk, "tap", lambda x, y: (taps.append((x, y)), KioskApp.tap(kiosk, x, y)))
    x, y, w, h = kiosk.frame.targets["dept:06"]
    width, height = kiosk.surface.get_size()
    pygame = kiosk.pygame
    fx, fy = (x + w / 2) / width, (y + h / 2) / height
    pygame.event.post(pygame.event.Event(pygame.FINGERUP, x=fx, y=fy, dx=0.0, dy=0.0, touch_id=1, finger_id=0))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(x + w // 2, y + h // 2), button=1, touch=True))
    kiosk.step()
    assert kiosk.flow.screen == "matters" and kiosk.flow.dept == "06"
    assert len(taps) == 1


def test_a_screenshot_shows_its_screen_as_it_is_now_not_as_it_first_was(hall, peer, kiosk, idle_clock, tmp_path):
    """The demo without a screen writes PNGs: home.png must not stay the kiosk's first frame
    (before the hall answered: 暂停取号, no queue) once home has changed."""
    wait_hall_online(kiosk)
    step_until(kiosk, lambda: kiosk.flow.screen == "home")
    first = (kiosk.screenshots / "home.png").read_bytes()
    ok_ticket = peer.ticket(dept="05", item="0501", phone="13912345670")
    assert ok_ticket["ok"]
    idle_clock.now += 3  # a while later, the home screen still up

    def waiting_shown() -> bool:
        kiosk.changed.wait(1)
        kiosk.changed.clear()
        kiosk.step()
        return any(t.text == "1" for t in kiosk.frame.texts)

    deadline = time.monotonic() + 5
    while not waiting_shown():
        assert time.monotonic() < deadline, "the home screen never showed the waiting citizen"
    idle_clock.now += 3  # the screen may have changed again since: written once it has been up a while
    kiosk.step()
    now = tmp_path / "now.png"
    kiosk.save(now)
    assert (kiosk.screenshots / "home.png").read_bytes() == now.read_bytes() != first
