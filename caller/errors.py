"""The call-pad's own errors (GpioError, for the pins, lives with them in caller/gpio.py)."""

from __future__ import annotations

from paihao.errors import PaihaoError


class MissingLibrary(PaihaoError, ImportError):
    """The config names hardware whose Python library is not installed: said at start, with
    what to install, rather than a pad that runs for days without its keypad or LCD."""


class UsageError(PaihaoError, ValueError):
    """The command line asks for something that cannot be: the message says what to type."""
