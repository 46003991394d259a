"""``paihao display``: the LED wall (or a window's screen), its voice, and its line to the hall, in one loop.

Each turn: take the new calls (to the banner's queue, to the state file),
build every region's model, draw the regions whose model changed (a new
call's frame: the banner first), update only those rectangles, give the voice
the call that has just come into the banner, and now and then publish a
heartbeat. The loop
sleeps until the next frame *or* until a message arrives, so a call is drawn
within one frame of being heard. With ``screenshots`` there is no display
(SDL's dummy driver) and the screen is kept as a PNG in that folder.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from display.calls import Banner
from display.hallstate import HallState, Snapshot
from display.link import DisplayLink
from display.model import Call
from display.persist import StateFile, default_path
from display.speech import call_text
from display.stats import FrameStats
from display.voice.announcer import Announcer, Player, make_player
from display.voice.engines import Engine, make_engine
from paihao.config import HallConfig
from paihao.device_config import Display
from paihao.errors import ConfigError
from paihao.pygame_env import without_pkg_resources
from paihao.systemd import serve

log = logging.getLogger(__name__)

HEARTBEAT_S = 5.0
BURST_GAP_S = 10.0  # calls said closer together than this are one burst: one chime
SAVE_EVERY_S = 2.0  # the tally and last seq; a new call is saved at once
SCREENSHOT_EVERY_S = 1.0
FAILURE_LOG_S = 60.0
SWITCH_INTERVAL_S = 0.0005
DIGITS_SAMPLE = "0123456789"  # a ticket with every digit, for checking the voice at start


def utc_now() -> datetime:
    return datetime.now(UTC)


def find_display(config: HallConfig, display_id: str, window: str | None) -> tuple[Display, str | None]:
    display = config.display(display_id)
    if display is None:
        known = ", ".join(d.id for d in config.displays) or "none"
        raise ConfigError(f"no display {display_id!r} in the config's [[displays]] (known: {known})")
    window = window or display.window
    if window is not None and config.window(window) is None:
        raise ConfigError(f"display {display_id}: no window {window!r} in the config's [[windows]]")
    return display, window


def beside_db(config: HallConfig, path: str) -> Path:
    """A relative path in a display's config is relative to the db's folder, as the call-pads' are."""
    return Path(path) if Path(path).is_absolute() else Path(config.storage.db).parent / path


class DisplayApp:
    def __init__(self, config: HallConfig, display_id: str, *, window: str | None = None,
                 screenshots: Path | None = None, windowed: bool = False,
                 now: Callable[[], datetime] = utc_now, monotonic: Callable[[], float] = time.monotonic,
                 engine: Engine | None = None, player: Player | None = None, state_path: Path | None = None,
                 offscreen: bool = False) -> None:
        self.config = config
        self.display, self.window = find_display(config, display_id, window)
        self.now, self.monotonic, self.screenshots, self.offscreen = now, monotonic, screenshots, offscreen
        if screenshots:
            if not offscreen:
                os.environ["SDL_VIDEODRIVER"] = "dummy"
            screenshots.mkdir(parents=True, exist_ok=True)
        self._open_screen(windowed)
        self.changed = threading.Event()  # a message arrived: draw now rather than at the next frame
        self.frame_drawn = threading.Event()  # a frame changed the screen (tests wait on it)
        if state_path is None:
            state_path = beside_db(config, self.display.state_file) if self.display.state_file \
                else default_path(self.display.id)
        self.state_file = StateFile(state_path)
        self.state = HallState(config.tz, now, self.state_file.load(), on_change=self.changed.set)
        self.link = DisplayLink(config, self.display.id, self.state, status=self.status)
        self.banner = Banner(self.display.call_min_s, self.display.flash_s)
        self.stats = FrameStats()
        self.shown_call: dict | None = None
        self._stop = threading.Event()
        self.announcer = self._voice(engine, player)
        self._heartbeat_at = self._saved_at = self._shot_at = 0.0
        self._last_said = float("-inf")  # when the last call began to be said

    def _open_screen(self, windowed: bool) -> None:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        fullscreen = self.display.fullscreen and not windowed and not self.screenshots and not self.offscreen
        if fullscreen:
            # A borderless window at the top left, at the canvas size: an LED wall's sending card
            # takes exactly that corner of the HDMI picture, pixel for pixel. No mode change, no scaling.
            os.environ.setdefault("SDL_VIDEO_WINDOW_POS", "0,0")
        import pygame  # after the SDL environment is set

        from display.screen import open_screen

        self.pygame = pygame
        pygame.display.init()
        w, h = self.display.size
        if self.offscreen:
            # pygame has one display per process: beside another pygame app (the demo's kiosk)
            # the wall draws into a surface of its own and is seen only through its PNG.
            self.surface = pygame.Surface((w, h))
        else:
            self.surface = pygame.display.set_mode((w, h), pygame.NOFRAME if fullscreen else 0)
            pygame.display.set_caption(f"paihao display {self.display.id}")
            pygame.mouse.set_visible(not fullscreen)
        try:
            self.renderer, self.builder = open_screen(self.config, self.display, self.window, self.surface)
        except OSError as exc:
            raise ConfigError(f"display font {self.display.font!r} cannot be opened: {exc}") from exc

    def _voice(self, engine: Engine | None, player: Player | None) -> Announcer | None:
        voice = self.display.voice
        engine = engine or make_engine(voice, Path(self.config.storage.db).parent)
        if engine is None:
            return None
        self._check_voice(engine)
        folder = self.state_file.path.parent / f"voice-{self.display.id}"
        return Announcer(engine, player or make_player(engine, self._stop), folder,
                         volume=voice.volume, with_chime=voice.chime)

    def _check_voice(self, engine: Engine) -> None:
        """Say at start, not at the first call, what of the windows' calls the voice cannot say."""
        texts = [call_text(DIGITS_SAMPLE, w.id, w.name) for w in self.config.windows]
        missing = sorted({piece for text in texts for piece in engine.missing(text)})
        if missing:
            log.warning("voice %s of display %s cannot say %s: calls with them are not announced properly",
                        engine.name, self.display.id, " ".join(missing))

    def start(self) -> DisplayApp:
        if self.announcer:
            self.announcer.start()
        self.link.start()
        self.step()
        return self

    # -- one turn of the loop -------------------------------------------------------
    def step(self) -> bool:
        """Take new calls, draw what changed; True if the screen changed."""
        began = time.perf_counter()
        if not self.offscreen:  # offscreen, the events belong to the app that owns the display
            for event in self.pygame.event.get():
                if event.type == self.pygame.QUIT:
                    self._stop.set()
        mono, now = self.monotonic(), self.now()
        calls = self._take_calls()
        became = self.banner.tick(mono, hold=self.announcer is not None and not self.announcer.idle())
        snap = self.state.snapshot(now)
        latest = next((c for c in snap.recent if not self.window or c.window == self.window), None)
        if latest is not None:  # a window's screen shows, and reports, only its own calls
            self.banner.show_quietly(latest, mono)
        connected = self.link.connected
        if self.window:
            view = self.builder.window_page(snap, self.banner, mono, connected)
        else:
            view = self.builder.wall(snap, self.banner, now, mono, connected)
        # A new call's frame draws the banner alone, so that it is on the screen the soonest;
        # whatever else changed (a page, the clock) follows in the next frame.
        dirty = self.renderer.draw(view, only={"banner"} if became and not self.window else None)
        if dirty:
            if not self.offscreen:
                self.pygame.display.update(dirty)
            self.frame_drawn.set()
        self.stats.add(mono, time.perf_counter() - began)
        # After the frame: the voice's and the state file's threads, woken here, would otherwise
        # take turns with the drawing of that very frame.
        if became and self.announcer:  # said as it is shown
            self._announce(became, snap, mono)
        if calls:
            self.state_file.save(self.state.saved())  # at once: a restart must not announce these again
            self._saved_at = mono
        self._after_frame(became is not None, bool(dirty), mono)
        return bool(dirty)

    def _announce(self, call: Call, snap: Snapshot, mono: float) -> None:
        """Say the call. At 8:30 on a Monday twenty windows call within a minute, and each
        waits for the one before it to be said (6.5 s with espeak-ng): after the first, no
        chime (1.35 s), and the short form while more wait (请 and 办理, 1.1 s), so that the
        twentieth citizen hears their number about 45 s sooner."""
        known = snap.windows.get(call.window)
        in_a_burst = mono - self._last_said < BURST_GAP_S
        self.announcer.say(call_text(call.ticket, call.window, known.name if known else None,
                                     brief=bool(self.banner.pending)), chime=not in_a_burst)
        self._last_said = mono

    def _take_calls(self) -> list[Call]:
        """The new calls (this window's, on a window's screen), in the banner's queue."""
        calls = [c for c in self.state.take_calls() if not self.window or c.window == self.window]
        for call in calls:
            self.banner.push(call)
        return calls

    def _after_frame(self, new_call: bool, drawn: bool, mono: float) -> None:
        shown = self.banner.current.as_json() if self.banner.current is not None else None
        changed, self.shown_call = shown != self.shown_call, shown
        if changed or mono - self._heartbeat_at >= HEARTBEAT_S:  # a new call, or a restart's last one
            self._heartbeat_at = mono
            self.link.publish_status()
        if self.state.unsaved and mono - self._saved_at >= SAVE_EVERY_S:
            self._saved_at = mono
            self.state_file.save(self.state.saved())
        if self.screenshots and drawn and (new_call or mono - self._shot_at >= SCREENSHOT_EVERY_S):
            self._shot_at = mono
            try:
                self.save(self.screenshots / f"{self.display.id}.png")
            except (OSError, self.pygame.error) as exc:  # a full disk must not stop the wall
                log.warning("cannot keep the screen as a PNG in %s: %s", self.screenshots, exc)

    def status(self) -> dict:
        """The heartbeat: what the screen shows and how fast it draws."""
        mono = self.monotonic()
        return {"online": True, "shown_call": self.shown_call, "fps": round(self.stats.fps(mono), 1),
                "frame_ms_p50": round(self.stats.ms(0.5), 2), "frame_ms_p99": round(self.stats.ms(0.99), 2),
                "at": self.now().astimezone(self.config.tz).isoformat(timespec="seconds")}

    def frame(self):
        return self.renderer.frame()

    def save(self, path: Path) -> None:
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.png")
        self.pygame.image.save(self.surface, str(tmp))
        tmp.replace(path)  # a viewer refreshing the folder never sees half a PNG

    def run(self, stop: threading.Event | None = None, *, alive: Callable[[], None] = lambda: None) -> None:
        """``alive`` is called on every turn (systemd's watchdog)."""
        period = 1 / self.display.fps
        due = time.monotonic()
        failed_at = -FAILURE_LOG_S
        while not (stop and stop.is_set()) and not self._stop.is_set():
            try:
                self.step()
                alive()  # only a wall that really draws tells systemd it lives; one that fails is restarted
            except Exception:  # a bug in one frame must not blank the wall: it keeps its last picture
                if time.monotonic() - failed_at >= FAILURE_LOG_S:
                    failed_at = time.monotonic()
                    log.exception("display %s: a frame failed (logged once a minute while it lasts)",
                                  self.display.id)
            due = max(due + period, time.monotonic())
            if self.changed.wait(max(0.0, due - time.monotonic())):
                self.changed.clear()  # a message: draw it now, not at the next frame

    def close(self) -> None:
        self._stop.set()
        self.link.stop()
        if self.announcer:
            self.announcer.stop()
        self.state_file.save(self.state.saved())
        self.state_file.close()
        if not self.offscreen:
            self.pygame.quit()


def run_display(config: HallConfig, display_id: str, *, window: str | None, screenshots: Path | None,
                windowed: bool) -> None:
    without_pkg_resources()  # 6 MB less: see paihao/pygame_env.py

    # Python hands the GIL over every 5 ms by default: the drawing loop, woken by a call, could
    # wait that long behind the MQTT or voice thread. The hall controller does the same.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    app = DisplayApp(config, display_id, window=window, screenshots=screenshots, windowed=windowed)
    serve(app, f"display {display_id}")
