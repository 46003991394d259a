"""paihao/pygame_env.py: pygame still finds its own files without pkg_resources.

In a child process: the function changes ``sys.modules`` for the rest of a process's life.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYGAME_HIDE_SUPPORT_PROMPT": "1", "SDL_VIDEODRIVER": "dummy"})


def test_pygame_finds_its_icon_and_font_without_pkg_resources() -> None:
    done = run("""
        import sys
        from paihao.pygame_env import without_pkg_resources
        without_pkg_resources()
        import pygame, pygame.font, pygame.pkgdata
        assert sys.modules["pkg_resources"] is None, "pygame loaded pkg_resources"
        with pygame.pkgdata.getResource("pygame_icon.bmp") as icon:
            assert icon.read(2) == b"BM"
        pygame.font.init()
        assert pygame.font.Font(None, 12).size("x")[0] > 0  # the default font, found through pkgdata
    """)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("first", ["import pygame", "import pkg_resources"])
def test_too_late_does_nothing(first: str) -> None:
    done = run(f"""
        {first}
        from paihao.pygame_env import without_pkg_resources
        without_pkg_resources()
        import pkg_resources  # still importable: it may be in use already
    """)
    assert done.returncode == 0, done.stderr
