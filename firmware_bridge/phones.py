"""Phone numbers on the bridge: what the modem dials, and what a log may show."""

from __future__ import annotations

from bus.privacy import mask_phone, normalize_phone


def dial_number(phone: str) -> str | None:
    """The number to put in the PDU: a mainland mobile as +86…, a service number (10086) as is."""
    mobile = normalize_phone(phone)
    if mobile:
        return "+86" + mobile
    digits = phone.strip()
    plain = digits[1:] if digits.startswith("+") else digits
    return digits if plain.isdigit() and plain.isascii() and 3 <= len(plain) <= 20 else None


def masked(phone: str) -> str:
    """138****5678 for a log, whatever form the number came in (+86 138 1234 5678, 008613…)."""
    return mask_phone(normalize_phone(phone) or phone.replace(" ", ""))
