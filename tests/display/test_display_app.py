"""The real display — pygame on SDL's dummy driver, the fake voice that ships in the
package — on a real mosquitto, fed recorded protocol messages by a Peer or the real
controller. Screens are kept as PNGs under artefacts/display-app/."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bus.broker import LocalBroker
from bus.topics import Topics
from display.app import DisplayApp
from display.voice.engines import FakeEngine
from display.voice.wav import silence, write_wav
from paihao.config import load_config
from paihao.device_config import Voice
from paihao.errors import ConfigError
from tests.conftest import Peer, write_config
from tests.display.conftest import ARTEFACTS
from tests.display.wall_harness import called, iso, publish_hall, shown, step_until


def test_it_starts_from_retained_state_alone(hall_config, peer, clock, make_wall) -> None:
    publish_hall(peer, iso(clock, minutes=-30), [{"ticket": "02001", "window": "2", "at": iso(clock, minutes=-5)}])
    engine = FakeEngine()
    app = make_wall(hall_config, engine=engine)
    # retained topics come in the order the display subscribed to them: wait for the last one
    step_until(app, lambda: shown(app, "level") == ["红"] and not shown(app, "strip"))
    assert shown(app, "banner-ticket") == ["02001"]
    assert "3" in shown(app, "count") and "02001" in shown(app, "ticket")
    assert app.banner.flash(app.monotonic()) is None  # an old call: shown, not flashed
    assert engine.texts == []  # ... and not announced
    assert (app.screenshots / "wall1.png").stat().st_size > 0


def test_a_call_from_the_real_controller_is_shown_said_and_reported(hall, peer, make_wall) -> None:
    engine = FakeEngine()
    app = make_wall(hall.config, engine=engine)
    step_until(app, lambda: not shown(app, "strip"))
    status = hall.topics.device_status("displays", "wall1")
    assert peer.command("2", "login", clerk="c01")["ok"]
    assert peer.ticket(dept="02")["ok"]
    mark = peer.heard.mark()
    assert peer.command("2", "next")["ticket"]["number"] == "02001"
    step_until(app, lambda: shown(app, "banner-ticket") == ["02001"])
    assert app.banner.flash(app.monotonic()) == 0  # new: flashing
    beat = peer.heard.wait_for(lambda m: m.topic == status and b"02001" in m.payload, after=mark)
    heartbeat = json.loads(beat.payload)
    assert heartbeat["online"] is True
    assert heartbeat["shown_call"]["ticket"] == "02001" and heartbeat["shown_call"]["window"] == "2"
    assert {"fps", "frame_ms_p50", "frame_ms_p99"} <= set(heartbeat)
    assert engine.said.wait(5)
    assert engine.texts == ["请 零二零零一 号 到 二 号窗口 办理"]


def test_the_tally_counts_todays_cards_and_keeps_them_across_a_restart(hall_config, peer, clock, make_wall) -> None:
    publish_hall(peer, iso(clock), [])
    app = make_wall(hall_config)
    step_until(app, lambda: not shown(app, "strip"))
    for seq, (dept, ticket, level) in enumerate([("05", "05001", "yellow"), ("05", "05001", "red"),
                                                 ("06", "06002", "yellow")], start=300):
        peer.publish(peer.topics.event("card"), {"type": "card", "seq": seq, "at": iso(clock), "ticket": ticket,
                                                 "window": "3", "clerk": "c02", "level": level, "dept": dept,
                                                 "since": iso(clock)})
    step_until(app, lambda: app.state.snapshot(clock()).tally.get("06") == (1, 0))
    assert app.state.snapshot(clock()).tally == {"02": (1, 1), "05": (1, 1), "06": (1, 0)}
    app.close()
    app = make_wall(hall_config)
    step_until(app, lambda: not shown(app, "strip"))
    assert app.state.snapshot(clock()).tally == {"02": (1, 1), "05": (1, 1), "06": (1, 0)}
    peer.publish(peer.topics.event("called"), {"type": "called", "seq": 310, "at": iso(clock), "ticket": "02009",
                                               "window": "1", "clerk": "c01", "dept": "02", "item": "0202",
                                               "limit_s": 600})
    step_until(app, lambda: "可能漏计" in " ".join(shown(app, "note")))  # 303..309 were never heard


def test_broker_loss_shows_the_strip_over_the_last_state_and_recovers(tmp_path, clock, make_wall) -> None:
    with LocalBroker() as private:
        config = load_config(write_config(tmp_path, private.port))
        peer = Peer(private.port, Topics(config.site.id))
        try:
            publish_hall(peer, iso(clock), [{"ticket": "02001", "window": "2", "at": iso(clock, minutes=-5)}])
            app = make_wall(config)
            step_until(app, lambda: shown(app, "banner-ticket") == ["02001"] and not shown(app, "strip"))
            private.stop()
            step_until(app, lambda: bool(shown(app, "strip")))
            assert shown(app, "strip") == ["系统连接中… / Reconnecting"]
            assert shown(app, "banner-ticket") == ["02001"] and "3" in shown(app, "count")  # never blank
            app.save(ARTEFACTS / "broker-lost.png")
            private.start()
            assert peer.connected.wait(15)
            peer.wait_published(peer.topics.hall_status, "online", retain=True)  # the controller's republish
            step_until(app, lambda: not shown(app, "strip"), timeout=20)
            assert shown(app, "banner-ticket") == ["02001"]
        finally:
            peer.stop()


def test_the_controller_going_away_shows_the_strip(hall_config, peer, clock, make_wall) -> None:
    publish_hall(peer, iso(clock), [])
    app = make_wall(hall_config)
    step_until(app, lambda: not shown(app, "strip") and "3" in shown(app, "count"))
    peer.publish(peer.topics.hall_status, "offline", retain=True)  # the controller's Last Will
    step_until(app, lambda: bool(shown(app, "strip")))
    assert "3" in shown(app, "count")


def test_the_display_says_it_is_online_and_offline(hall_config, peer, broker, clock, make_wall) -> None:
    status = peer.topics.device_status("displays", "wall1")
    app = make_wall(hall_config)
    peer.heard.wait_for(lambda m: m.topic == status and json.loads(m.payload)["online"] is True)
    app.close()
    peer.heard.wait_for(lambda m: m.topic == status and json.loads(m.payload) == {"online": False})
    # ... and that is what stays: a dashboard that looks later is told the wall is offline
    with Peer(broker.port, peer.topics) as later:
        assert later.heard.latest(status) == {"online": False}


def test_a_heartbeat_every_five_seconds(hall_config, peer, clock, mono, make_wall) -> None:
    status = peer.topics.device_status("displays", "wall1")
    app = make_wall(hall_config)
    step_until(app, lambda: app.link.connected)

    def beats() -> list[dict]:
        return [json.loads(m.payload) for m in peer.heard.messages if m.topic == status]

    peer.heard.wait_for(lambda m: m.topic == status)
    for seconds in (1.0, 2.0, 1.9):  # 4.9 s: none due
        mono.now += seconds
        clock.advance(seconds=seconds)
        app.step()
    mono.now += 0.2
    clock.advance(seconds=0.2)
    app.step()
    peer.heard.wait_for(lambda m: m.topic == status and json.loads(m.payload)["at"].endswith("09:00:05+08:00"))
    # one publisher's messages arrive in order: any beat of the first 4.9 s would be here by now
    assert [b["at"][11:19] for b in beats()][-1:] == ["09:00:05"]
    assert not any(b["at"][11:19] in ("09:00:01", "09:00:03", "09:00:04") for b in beats())
    assert {"online", "shown_call", "fps", "frame_ms_p50", "frame_ms_p99", "at"} == set(beats()[-1])


def test_events_it_does_not_know_are_ignored(hall_config, peer, clock, make_wall, caplog) -> None:
    """Issue 6 added `evaluated` and `complaint`; a wall that predates them must not mind them."""
    publish_hall(peer, iso(clock), [])
    app = make_wall(hall_config)
    step_until(app, lambda: not shown(app, "strip"))
    called(peer, 400, "02011", "2", iso(clock))
    step_until(app, lambda: shown(app, "banner-ticket") == ["02011"])
    gaps = list(app.state.tally.gaps)  # the morning before seq 400, unheard
    caplog.clear()
    events = peer.topics.event
    peer.publish(events("evaluated"), {"type": "evaluated", "seq": 401, "at": iso(clock), "ticket": "02011",
                                       "window": "2", "clerk": "c01", "score": 5, "phone": "138****5678"})
    peer.publish(events("complaint"), {"type": "complaint", "seq": 402, "at": iso(clock), "ticket": "02011",
                                       "dept": "02", "text": "等太久"})
    peer.publish(events("something_new"), {"type": "something_new", "seq": 403, "at": iso(clock)})
    called(peer, 404, "02012", "2", iso(clock))
    step_until(app, lambda: shown(app, "banner-ticket") == ["02011"] and app.banner.pending)
    assert app.state.tally.gaps == gaps and app.state.tally.last_seq == 404  # heard: seq runs on, no gap
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert app.state.snapshot(clock()).tally == {"02": (1, 1)}  # unchanged: the red card of publish_hall


def test_relative_state_file_and_clips_are_beside_the_db(hall_config, clock, make_wall, tmp_path, caplog) -> None:
    clips = tmp_path / "clips"
    clips.mkdir()
    write_wav(clips / "请.wav", silence(0.1))
    wall = hall_config.display("wall1").model_copy(update={
        "state_file": "walls/wall1.json", "voice": Voice(engine="clips", clips_dir="clips")})
    config = hall_config.model_copy(update={
        "displays": [wall], "storage": hall_config.storage.model_copy(update={"db": str(tmp_path / "hall.db")})})
    app = make_wall(config, engine=None, state_path=None)
    assert app.state_file.path == tmp_path / "walls" / "wall1.json"
    assert app.announcer.engine.folder == clips
    # the clips cannot say the calls: said at start, not at the first call
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "cannot say" in warning and "号" in warning and "零" in warning


def test_a_window_screen_shows_its_window(hall_config, peer, clock, make_wall) -> None:
    publish_hall(peer, iso(clock), [{"ticket": "05001", "window": "3", "at": iso(clock, minutes=-1)},
                                    {"ticket": "02001", "window": "2", "at": iso(clock, minutes=-30)}])
    app = make_wall(hall_config, window="2")
    step_until(app, lambda: shown(app, "number") == ["02001"] and app.shown_call is not None)
    assert shown(app, "window") == ["2号窗口"] and shown(app, "clerk") == ["张敏"]
    assert shown(app, "status") == ["红牌 超时 · 国土资源局"]
    # its heartbeat reports its own window's call, not the hall's newest (05001 at window 3)
    assert app.status()["shown_call"]["ticket"] == "02001"


def test_unknown_display_or_window_is_a_config_error(hall_config) -> None:
    with pytest.raises(ConfigError, match="no display 'nope'"):
        DisplayApp(hall_config, "nope")
    with pytest.raises(ConfigError, match="no window '99'"):
        DisplayApp(hall_config, "wall1", window="99")


def test_the_demo_hook_keeps_a_png_of_the_wall(hall, peer, clock, tmp_path) -> None:
    from display.demo import start_demo_display

    app = start_demo_display(hall.config, tmp_path / "display", clock)
    try:
        step_until(app, lambda: not shown(app, "strip"))
        assert peer.command("1", "login", clerk="c02")["ok"] and peer.ticket(dept="02")["ok"]
        assert peer.command("1", "next")["ok"]
        step_until(app, lambda: shown(app, "banner-ticket") == ["02001"])
        png = tmp_path / "display" / "wall1.png"
        assert png.stat().st_size > 0
        assert app.announcer.engine.said.wait(5)
        assert app.announcer.engine.texts == ["请 零二零零一 号 到 一 号窗口 办理"]
    finally:
        app.close()


def test_the_command_line_takes_a_display() -> None:
    from paihao.cli import build_parser

    args = build_parser().parse_args(["display", "--config", "hall.toml", "--id", "wall1", "--window", "5",
                                      "--screenshots", "out"])
    assert (args.id, args.window, args.screenshots, args.windowed) == ("wall1", "5", "out", False)


def test_paihao_display_runs_as_a_process(hall_config, peer, broker, clock, tmp_path) -> None:
    """The real command: `paihao display --config FILE --id wall1 --screenshots DIR`, stopped by SIGTERM."""
    config_path = tmp_path / "hall.toml"  # hall_config's file
    shots, log = tmp_path / "shots", tmp_path / "display.log"
    status = peer.topics.device_status("displays", "wall1")
    publish_hall(peer, iso(clock, minutes=-30), [{"ticket": "02001", "window": "2", "at": iso(clock, minutes=-30)}])
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "SDL_AUDIODRIVER": "dummy"}
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "paihao.cli", "display", "--config", str(config_path),
                                    "--id", "wall1", "--screenshots", str(shots)],
                                   stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        beat = peer.heard.wait_for(lambda m: m.topic == status and b"02001" in m.payload, timeout=20)
        assert json.loads(beat.payload)["online"] is True
        now = datetime.now(ZoneInfo("Asia/Shanghai")).isoformat(timespec="milliseconds")  # its own clock
        called(peer, 900, "05003", "3", now)
        beat = peer.heard.wait_for(lambda m: m.topic == status and b"05003" in m.payload, timeout=10)
        assert json.loads(beat.payload)["shown_call"]["window"] == "3"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert peer.heard.latest(status) == {"online": False}
    assert pygame_image_size(shots / "wall1.png") == tuple(hall_config.display("wall1").size)
    state = json.loads((tmp_path / "state" / "paihao" / "display-wall1.json").read_text())
    assert state["calls"][-1]["ticket"] == "05003"  # remembered: a restart will not say it again


def pygame_image_size(path: Path) -> tuple[int, int]:
    import pygame

    return pygame.image.load(str(path)).get_size()


def test_a_screenshot_that_cannot_be_written_does_not_stop_the_wall(hall_config, peer, clock, make_wall,
                                                                     caplog) -> None:
    publish_hall(peer, iso(clock), [])
    app = make_wall(hall_config)
    step_until(app, lambda: not shown(app, "strip"))
    app.screenshots = app.screenshots / "gone"  # e.g. the folder was deleted, or the disk is full
    called(peer, 600, "02013", "2", iso(clock))
    step_until(app, lambda: shown(app, "banner-ticket") == ["02013"])
    assert any("cannot keep the screen" in r.getMessage() for r in caplog.records)


def test_a_frame_that_fails_does_not_stop_the_loop(hall_config, peer, clock, make_wall, caplog) -> None:
    publish_hall(peer, iso(clock), [])
    app = make_wall(hall_config)
    step_until(app, lambda: not shown(app, "strip"))  # subscribed, and the hall's state is in
    build, failures = app.builder.wall, []

    def broken_once(*args):
        if not failures:
            failures.append(1)
            raise ValueError("a bug")
        return build(*args)

    app.builder.wall = broken_once
    app.frame_drawn.clear()
    stop = threading.Event()
    loop = threading.Thread(target=app.run, args=(stop,))
    loop.start()
    try:
        called(peer, 700, "02014", "2", iso(clock))
        deadline = time.monotonic() + 10
        while (app.shown_call or {}).get("ticket") != "02014" and time.monotonic() < deadline:
            app.frame_drawn.wait(0.5)  # the loop's frames (the screen is read once the loop has stopped)
            app.frame_drawn.clear()
    finally:
        stop.set()
        loop.join(5)
    assert shown(app, "banner-ticket") == ["02014"]
    assert failures and any("a frame failed" in r.getMessage() for r in caplog.records)
