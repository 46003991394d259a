"""The demo's wall: the real display code on the demo's broker, for ``paihao demo`` to call.

    app = start_demo_display(config, Path("demo-output/display"), now=hall_clock)
    ...                      # in the demo's loop, beside the kiosk:
    app.step()               # takes new calls, draws what changed, refreshes wall1.png
    ...
    app.close()

pygame has one display per process and the demo's kiosk already owns it, so
the wall draws offscreen and is seen as ``<output>/wall1.png``, rewritten at
most once a second and at once for each new call (written to a temporary
name and renamed, so a viewer never reads half a PNG). Its voice is the fake
engine unless told otherwise: what it would say is in ``app.announcer.spoken``.
For a window of its own, run ``paihao display --config FILE --id wall1
--windowed --broker HOST:PORT`` as a separate process.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from display.app import DisplayApp
from paihao.config import HallConfig
from paihao.device_config import Display, Voice


def demo_display_config(config: HallConfig, voice: str = "fake") -> HallConfig:
    """The config's first wall (or a 1920x1080 one), windowed, with the given voice engine."""
    walls = [d for d in config.displays if d.window is None]
    base = walls[0] if walls else Display(id="wall1")
    wall = base.model_copy(update={"fullscreen": False, "voice": Voice(engine=voice)})
    return config.model_copy(update={"displays": [wall]})


def start_demo_display(config: HallConfig, output: Path, now: Callable[[], datetime], *,
                       voice: str = "fake") -> DisplayApp:
    config = demo_display_config(config, voice)
    state = Path(tempfile.mkdtemp(prefix="paihao-demo-display-")) / "state.json"  # a fresh day each demo
    app = DisplayApp(config, config.displays[0].id, screenshots=output, now=now, state_path=state, offscreen=True)
    return app.start()
