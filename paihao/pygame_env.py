"""What a pygame process (the kiosk, the wall) sets up before pygame is first imported.

Here, not in either app, because both apps and their benches need the same thing, in the
same order; and in ``paihao/`` because it must not import pygame itself (the controller
installs without it).

pygame's ``pygame.pkgdata`` imports setuptools' ``pkg_resources`` only to find pygame's own
window icon and default font, and falls back to plain file paths when that import fails.
Loading it costs a pygame process about 6 MB of its 80 MB (issue 3) and 150 ms of its start,
for nothing either app uses. So a process that has not imported pygame yet marks
``pkg_resources`` as not importable.
"""

from __future__ import annotations

import sys


def without_pkg_resources() -> None:
    """Keep pygame from loading ``pkg_resources``; call it before pygame is first imported.

    Does nothing once pygame is loaded (too late to matter), nor when something has loaded
    ``pkg_resources`` already (it may be in use). Meant for a process's entry point, not for
    a library: every later ``import pkg_resources`` in the process raises ImportError.
    """
    if "pygame" not in sys.modules:
        sys.modules.setdefault("pkg_resources", None)  # type: ignore[arg-type]
