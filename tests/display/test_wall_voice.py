"""The wall's voice with the real display on a real mosquitto: each call said once, in turn,
as it is shown; never again after a restart; short in a rush; silent when the voice is off."""

from __future__ import annotations

import itertools
import json

from display.voice.engines import FakeEngine
from paihao.device_config import Voice
from tests.display.test_voice import GatedPlayer
from tests.display.wall_harness import called, iso, publish_hall, shown, step_until


def test_calls_arriving_together_are_each_shown_and_said_in_turn(hall_config, peer, clock, mono, make_wall) -> None:
    publish_hall(peer, iso(clock), [])
    engine, player = FakeEngine(), GatedPlayer()
    app = make_wall(hall_config, engine=engine, player=player)
    step_until(app, lambda: not shown(app, "strip"))
    called(peer, 100, "02002", "1", iso(clock))
    step_until(app, lambda: shown(app, "banner-ticket") == ["02002"])
    for seq, (ticket, window) in enumerate([("05001", "3"), ("06001", "5")], start=101):
        called(peer, seq, ticket, window, iso(clock))  # while the first is being said
    step_until(app, lambda: len(app.banner.pending) == 2)
    seen = [(shown(app, "banner-ticket")[0], mono.now)]
    assert player.began.acquire(timeout=5)  # the first is being said ...

    def frames(seconds: float) -> None:
        for _ in range(int(seconds / 0.25)):
            mono.now += 0.25
            app.step()
            ticket = shown(app, "banner-ticket")[0]
            if ticket != seen[-1][0]:
                seen.append((ticket, mono.now))

    frames(5.0)  # ... for longer than 3 s: the next waits for the voice
    assert [t for t, _ in seen] == ["02002"]
    player.release.release()
    assert app.announcer.wait_idle(5)
    frames(0.25)
    assert [t for t, _ in seen] == ["02002", "05001"]  # shown as it is said
    assert player.began.acquire(timeout=5)
    player.release.release()  # said quickly this time: shown its 3 s all the same
    assert app.announcer.wait_idle(5)
    frames(5.0)
    assert player.began.acquire(timeout=5)
    player.release.release()
    assert [t for t, _ in seen] == ["02002", "05001", "06001"]  # none dropped, in order
    assert [b - a for (_, a), (_, b) in itertools.pairwise(seen)] == [5.25, 3.0]
    app.announcer.stop()
    # A rush: the short form while others wait behind a call, the whole for the last; one chime.
    assert engine.texts == ["请 零二零零二 号 到 一 号窗口 办理", "零五零零一 号 到 三 号窗口",
                            "请 零六零零一 号 到 五 号窗口 办理"]
    assert app.announcer.chimed == [True, False, False]


def test_a_call_after_a_quiet_spell_is_said_whole_with_its_chime(hall_config, peer, clock, make_wall, mono) -> None:
    publish_hall(peer, iso(clock), [])
    engine = FakeEngine()
    app = make_wall(hall_config, engine=engine)
    step_until(app, lambda: not shown(app, "strip"))
    called(peer, 100, "02002", "1", iso(clock))
    step_until(app, lambda: shown(app, "banner-ticket") == ["02002"])
    assert app.announcer.wait_idle(5)
    mono.now += 60  # a minute later: a new burst
    called(peer, 101, "05001", "3", iso(clock, minutes=1))
    step_until(app, lambda: shown(app, "banner-ticket") == ["05001"])
    assert app.announcer.wait_idle(5)
    assert engine.texts == ["请 零二零零二 号 到 一 号窗口 办理", "请 零五零零一 号 到 三 号窗口 办理"]
    assert app.announcer.chimed == [True, True]


def test_a_restarted_display_does_not_say_a_call_again(hall_config, peer, clock, make_wall, tmp_path) -> None:
    publish_hall(peer, iso(clock), [])
    first_voice = FakeEngine()
    app = make_wall(hall_config, engine=first_voice)
    step_until(app, lambda: not shown(app, "strip"))
    called(peer, 200, "02007", "2", iso(clock))
    peer.publish(peer.topics.recent_calls, {"calls": [{"ticket": "02007", "window": "2", "at": iso(clock)}]},
                 retain=True)
    step_until(app, lambda: shown(app, "banner-ticket") == ["02007"])
    app.close()
    assert first_voice.texts == ["请 零二零零七 号 到 二 号窗口 办理"]
    state = json.loads((tmp_path / "wall1.json").read_text())
    assert state["calls"][-1]["ticket"] == "02007"

    clock.advance(seconds=20)
    again = FakeEngine()
    app = make_wall(hall_config, engine=again)
    step_until(app, lambda: shown(app, "banner-ticket") == ["02007"] and not shown(app, "strip"))
    assert app.banner.flash(app.monotonic()) is None
    called(peer, 201, "02008", "2", iso(clock))  # a new call is said, the old one is not
    step_until(app, lambda: shown(app, "banner-ticket") == ["02008"])
    assert again.said.wait(5)
    assert again.texts == ["请 零二零零八 号 到 二 号窗口 办理"]


def test_a_display_with_its_voice_off_shows_calls_and_says_nothing(hall_config, peer, clock, make_wall) -> None:
    wall = hall_config.display("wall1")
    config = hall_config.model_copy(update={"displays": [wall.model_copy(update={"voice": Voice(engine="off")})]})
    publish_hall(peer, iso(clock), [])
    app = make_wall(config, engine=None)
    assert app.announcer is None
    step_until(app, lambda: not shown(app, "strip"))
    called(peer, 500, "05002", "3", iso(clock))
    step_until(app, lambda: shown(app, "banner-ticket") == ["05002"])
    assert not (app.state_file.path.parent / "voice-wall1").exists()  # no WAV was even made


