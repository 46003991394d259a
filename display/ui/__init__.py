"""The display's renderer: region models (display/views.py) drawn into a pygame Surface,
each region only when its model changed."""

import os

# pygame prints a banner on import unless told not to; set before any pygame import.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
