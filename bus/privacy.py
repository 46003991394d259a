"""Phone numbers: validated where they enter, masked everywhere they leave."""

from __future__ import annotations

import re

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-()]")


def normalize_phone(raw: object) -> str | None:
    """A mainland mobile number as 11 digits, or None if it is not one.

    Accepts the forms people type: spaces or dashes inside, a +86 / 0086 prefix.
    """
    if not isinstance(raw, str) or len(raw) > 32:
        return None
    digits = _SEPARATORS.sub("", raw)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix):]
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]  # 86 typed without the plus
    return digits if _MOBILE.match(digits) else None


def mask_phone(phone: str) -> str:
    """13812345678 -> 138****5678: enough for a citizen to recognise their own."""
    if len(phone) < 8:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"
