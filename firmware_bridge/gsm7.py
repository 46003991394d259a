"""The GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1) and septet packing.

A text is a list of septet codes: most characters are one code, the characters
of the extension table (``{ } [ ] ~ \\ ^ | €`` and form feed) are two, ESC and
the character's code. Packing puts septet *i* at bit ``7*i + fill`` of a
little-endian bit string — Python's big integers do that in two lines.
"""

from __future__ import annotations

ESC = 0x1B

# Code -> character; ESC (0x1B) is a placeholder, never a character of a text.
DEFAULT = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]",
             0x40: "|", 0x65: "€"}

assert len(DEFAULT) == 128

_ENCODE: dict[str, tuple[int, ...]] = {char: (code,) for code, char in enumerate(DEFAULT) if code != ESC}
_ENCODE.update({char: (ESC, code) for code, char in EXTENSION.items()})


def encodable(text: str) -> bool:
    """True if every character of ``text`` is in the default alphabet or its extension."""
    return all(char in _ENCODE for char in text)


def to_septets(text: str) -> list[int]:
    """The septet codes of ``text``; KeyError names the first character GSM 7-bit lacks."""
    codes: list[int] = []
    for char in text:
        codes.extend(_ENCODE[char])
    return codes


def char_septets(char: str) -> int:
    """How many septets one character takes: 1, or 2 for the extension table."""
    return len(_ENCODE[char])


def from_septets(codes: bytes | list[int]) -> str:
    """The text of a list of septet codes.

    An ESC before a code the extension table lacks stands for that code's default
    character, and a trailing ESC for a space (23.038: what a phone shows).
    """
    chars: list[str] = []
    escaped = False
    for code in codes:
        code &= 0x7F
        if escaped:
            chars.append(EXTENSION.get(code, DEFAULT[code] if code != ESC else " "))
            escaped = False
        elif code == ESC:
            escaped = True
        else:
            chars.append(DEFAULT[code])
    if escaped:
        chars.append(" ")
    return "".join(chars)


def pack(codes: list[int], fill_bits: int = 0) -> bytes:
    """Septets packed into octets, the first starting ``fill_bits`` into the first octet."""
    value = 0
    for index, code in enumerate(codes):
        value |= (code & 0x7F) << (7 * index + fill_bits)
    length = (7 * len(codes) + fill_bits + 7) // 8
    return value.to_bytes(length, "little")


def unpack(data: bytes, count: int, fill_bits: int = 0) -> bytes:
    """``count`` septet codes from packed octets; missing octets read as zero bits."""
    value = int.from_bytes(data, "little") >> fill_bits
    return bytes((value >> (7 * index)) & 0x7F for index in range(count))
