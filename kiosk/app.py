"""``paihao kiosk``: the touchscreen, its printer and its line to the hall, in one loop.

Taps (touch or mouse) go to the flow; the flow's view is drawn only when it
changed, into the screen surface, and flipped once. With ``screenshots``
the kiosk runs without a display (SDL's dummy driver) and writes a PNG of
every screen it shows into that folder, for a laptop or a headless demo.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from kiosk.flow import KioskFlow
from kiosk.link import HallLink
from kiosk.printers import TicketPrinter, make_printer
from kiosk.views import Frame, View
from paihao.config import HallConfig
from paihao.errors import ConfigError
from paihao.pygame_env import without_pkg_resources
from paihao.systemd import serve

log = logging.getLogger(__name__)

SCREENSHOT_REFRESH_S = 2.0

FPS = 30
PRINTER_CHECK_S = 30  # a printer running out of paper is noticed within this


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class KioskApp:
    def __init__(self, config: HallConfig, kiosk_id: str, *, printer: TicketPrinter | None = None,
                 screenshots: Path | None = None, windowed: bool = False,
                 now: Callable[[], datetime] = utc_now, monotonic: Callable[[], float] = time.monotonic) -> None:
        kiosk = config.kiosk(kiosk_id)
        if kiosk is None:
            known = ", ".join(k.id for k in config.kiosks) or "none"
            raise ConfigError(f"no kiosk {kiosk_id!r} in the config's [[kiosks]] (known: {known})")
        self.kiosk = kiosk
        self.screenshots = screenshots
        if screenshots:
            os.environ["SDL_VIDEODRIVER"] = "dummy"
            screenshots.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame  # after the SDL environment is set
        import pygame.freetype

        from kiosk.ui.renderer import Renderer

        self.pygame = pygame
        pygame.display.init()  # not pygame.init(): a kiosk has no use for the sound card
        pygame.freetype.init()
        flags = pygame.FULLSCREEN if kiosk.screen.fullscreen and not windowed and not screenshots else 0
        # Full screen: the panel's native size (0, 0), whatever the config guessed; the
        # renderer lays out for any size. A window: the configured size.
        size = (0, 0) if flags else (kiosk.screen.width, kiosk.screen.height)
        self.surface = pygame.display.set_mode(size, flags)
        pygame.display.set_caption(f"paihao kiosk {kiosk.id}")
        pygame.mouse.set_visible(not (flags & pygame.FULLSCREEN))
        self.renderer = Renderer(self.surface, kiosk.font)
        self.changed = threading.Event()  # the hall's state moved: redraw (and tests may wait on it)
        self.link = HallLink(config, kiosk.id, reply_timeout_s=kiosk.reply_timeout_s, on_change=self.changed.set)
        self.printer = printer or make_printer(kiosk.printer)
        self.flow = KioskFlow(config, kiosk, self.link, self.printer, now, monotonic)
        self.frame = Frame()
        self.view: View | None = None
        self._saved_screen = ""
        self._saved_view: View | None = None
        self._saved_at = 0.0
        self._monotonic = monotonic
        self._stop = threading.Event()

    def start(self) -> KioskApp:
        self.link.start()
        threading.Thread(target=self._watch_printer, name="printer-watch", daemon=True).start()
        self.step()
        return self

    def _watch_printer(self) -> None:
        while not self._stop.is_set():
            try:
                self.flow.printer_checked(self.printer.status())
            except Exception:
                log.exception("printer status check failed")
            self._stop.wait(PRINTER_CHECK_S)

    # -- one turn of the loop ------------------------------------------------------
    def step(self) -> bool:
        """Handle input and results, redraw if the view changed; True if it was drawn."""
        pygame = self.pygame
        drawn = False
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self._stop.set()
            elif event.type == pygame.FINGERUP:
                self.tap(int(event.x * self.surface.get_width()), int(event.y * self.surface.get_height()))
            elif event.type == pygame.MOUSEBUTTONUP and event.button == 1 and not getattr(event, "touch", False):
                self.tap(*event.pos)  # a touch also arrives as a mouse event: taken once, above
            else:
                continue
            drawn |= self._redraw()  # the next tap must hit the screen as it is now, not as it was
        self.flow.tick()
        drawn = self._redraw() or drawn
        if self.screenshots:
            self._screenshot()
        return drawn

    def _screenshot(self) -> None:
        """The PNG of the screen shown (no screen: the demo, tests). A PNG of a full-HD frame takes
        a tenth of a second: at once for a new screen, else once the shown one has changed and
        SCREENSHOT_REFRESH_S has passed (home before and after the hall answered), not per key."""
        fresh = self.flow.screen != self._saved_screen
        if fresh or (self._saved_view is not self.view and self._monotonic() - self._saved_at >= SCREENSHOT_REFRESH_S):
            self._saved_screen, self._saved_view, self._saved_at = self.flow.screen, self.view, self._monotonic()
            self.save(self.screenshots / f"{self.flow.screen}.png")

    def _redraw(self) -> bool:
        pygame = self.pygame
        view = self.flow.view()
        if view == self.view:
            return False
        self.view = view
        self.frame = self.renderer.draw(view)
        pygame.display.flip()
        if self.screenshots:
            self._screenshot()
        return True

    def tap(self, x: int, y: int) -> None:
        target = self.frame.hit(x, y)
        if target:
            log.debug("tap on %s", target)
            self.flow.tap(target)

    def save(self, path: Path) -> None:
        self.pygame.image.save(self.surface, str(path))

    def run(self, stop: threading.Event | None = None, *, alive: Callable[[], None] = lambda: None) -> None:
        """``alive`` is called on every turn (systemd's watchdog)."""
        clock = self.pygame.time.Clock()
        stop = stop or self._stop
        while not stop.is_set() and not self._stop.is_set():
            alive()
            self.step()
            clock.tick(FPS)

    def close(self) -> None:
        self._stop.set()
        self.link.stop()
        self.pygame.quit()


def run_kiosk(config: HallConfig, kiosk_id: str, *, screenshots: Path | None, windowed: bool) -> None:
    without_pkg_resources()  # 6 MB less: see paihao/pygame_env.py
    app = KioskApp(config, kiosk_id, screenshots=screenshots, windowed=windowed)
    serve(app, f"kiosk {kiosk_id}")
