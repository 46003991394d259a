"""Fixtures for the real display on a real mosquitto (test_display_app.py, test_wall_voice.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from display.app import DisplayApp
from display.voice.announcer import SilentPlayer
from display.voice.engines import FakeEngine
from tests.conftest import Monotonic

ARTEFACTS = Path(__file__).resolve().parents[2] / "artefacts" / "display-app"



@pytest.fixture
def mono() -> Monotonic:
    return Monotonic()


@pytest.fixture
def make_wall(request, clock, mono, tmp_path):
    apps: list[DisplayApp] = []

    def make(config, **options) -> DisplayApp:
        """``engine=None``: the one the config names; ``state_path=None``: the config's state_file."""
        options.setdefault("state_path", tmp_path / "wall1.json")
        options.setdefault("engine", FakeEngine())
        options.setdefault("player", SilentPlayer())
        app = DisplayApp(config, "wall1", screenshots=ARTEFACTS / request.node.name, now=clock, monotonic=mono,
                         **options)
        apps.append(app)
        return app.start()

    yield make
    for app in apps:
        app.close()
