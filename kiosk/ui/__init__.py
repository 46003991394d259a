"""The kiosk's renderer: draws a view from kiosk/views.py into a pygame Surface.

`Renderer(surface, font_path).draw(view)` paints the whole screen and returns a
`Frame` saying where every text and every button landed; see renderer.py for
the layout rules and the minimum text sizes.
"""

import os

# pygame prints a banner on import unless told not to; set before any pygame import.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from kiosk.ui.fonts import Fonts
from kiosk.ui.renderer import Renderer

__all__ = ["Fonts", "Renderer"]
