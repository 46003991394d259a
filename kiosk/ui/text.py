"""Fitting text into a box: wrap (Chinese between any two characters, English
at spaces), shrink down to the readability floor, then cut with "…".

Pure over a `measure(text, size, strong) -> width` function, and cached, since
the same view is laid out 30 times a second.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

Measure = Callable[[str, int, bool], int]
LineHeight = Callable[[int], int]

# A token is a run of whitespace, a run of non-CJK letters (an English word,
# a number), or one CJK character.
_TOKEN = re.compile(r"\n|[^\S\n]+|[^\s\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]+|.", re.DOTALL)
# Never at the start of a line (they stick to what precedes them) ...
_NO_START = set("，。、；：？！）》」』】〕〉”’…·,.;:!?)%")
# ... nor at the end of one (they stick to what follows).
_NO_END = set("（《「『【〔〈“‘(")
ELLIPSIS = "…"
SHRINK = 0.92  # each step of shrinking


class Block(NamedTuple):
    """One paragraph to fit: drawn at `size`, or smaller down to `min_size`."""

    text: str
    size: int
    min_size: int
    max_lines: int = 1
    strong: bool = False
    # shrink this far (a fraction of size) before wrapping onto another line; 0: down to min_size;
    # 1: wrap at full size, shrink only once max_lines are used
    shrink: float = 0.8


class Placed(NamedTuple):
    block: int  # index into the blocks given
    size: int
    lines: tuple[str, ...]


def tokens(text: str) -> list[str]:
    out: list[str] = []
    glue = False
    for match in _TOKEN.finditer(text):
        tok = match.group()
        joinable = out and not tok.isspace() and not out[-1].isspace()
        if joinable and (glue or tok[0] in _NO_START):
            out[-1] += tok
        else:
            out.append(tok)
        glue = not tok.isspace() and tok[-1] in _NO_END
    return out


def wrap(text: str, width: int, measure: Callable[[str], int]) -> list[str]:
    """Greedy line breaking; a word longer than a line is broken between characters.

    Widths are added up token by token (each token measured once, and cached by
    the caller), then every line is measured whole; should rounding have let a
    line run over, the text is wrapped again measuring every candidate whole.
    """
    one = " ".join(text.split())
    if "\n" not in text and measure(one) <= width:  # adding up overestimates a little: check the whole first
        return [one] if one else []
    lines = _wrap(text, width, measure, additive=True)
    if all(measure(line) <= width for line in lines):
        return lines
    return _wrap(text, width, measure, additive=False)


def _wrap(text: str, width: int, measure: Callable[[str], int], additive: bool) -> list[str]:
    lines: list[str] = []
    cur, cur_w = "", 0
    space = measure(" ") if additive else 0
    for tok in tokens(text):
        if tok == "\n":
            lines.append(cur.rstrip())
            cur, cur_w = "", 0
        elif tok.isspace():
            if cur:
                cur, cur_w = cur + " ", cur_w + space
        elif (cur_w + measure(tok) if additive else measure(cur + tok)) <= width:
            cur, cur_w = cur + tok, cur_w + (measure(tok) if additive else 0)
        else:
            if cur.strip():
                lines.append(cur.rstrip())
            while len(tok) > 1 and measure(tok) > width:
                cut = _longest_prefix(tok, width, measure)
                lines.append(tok[:cut])
                tok = tok[cut:]
            cur, cur_w = tok, measure(tok) if additive else 0
    if cur.strip():
        lines.append(cur.rstrip())
    return [line for line in lines if line]


def balanced(text: str, width: int, measure: Callable[[str], int]) -> list[str]:
    """As `wrap`, but with the lines as even as the same number of lines allows (no lone last character)."""
    lines = wrap(text, width, measure)
    if len(lines) < 2:
        return lines
    lo, hi = width // len(lines), width  # the narrowest width that still takes len(lines) lines
    while lo < hi:
        mid = (lo + hi) // 2
        if len(_wrap(text, mid, measure, additive=True)) <= len(lines):
            hi = mid
        else:
            lo = mid + 1
    return wrap(text, hi, measure)


def _longest_prefix(tok: str, width: int, measure: Callable[[str], int]) -> int:
    cut = 1
    while cut < len(tok) and measure(tok[: cut + 1]) <= width:
        cut += 1
    return cut


def ellipsize(line: str, width: int, measure: Callable[[str], int]) -> str:
    """`line` + "…", cut until it fits; "" if not even "…" fits."""
    line = line.rstrip()
    while line and measure(line + ELLIPSIS) > width:
        line = line[:-1].rstrip()
    return line + ELLIPSIS if measure(line + ELLIPSIS) <= width else ""


class Fitter:
    """Lays blocks out one beneath the other in a width x height box."""

    def __init__(self, measure: Measure, line_height: LineHeight, cache_size: int = 4096) -> None:
        self._measure = measure
        self._line_height = line_height
        self._cache: dict[tuple, tuple[Placed, ...]] = {}
        self._cache_size = cache_size

    def fit(self, blocks: tuple[Block, ...], width: int, height: int, gap: int = 0) -> tuple[Placed, ...]:
        """Sizes and lines for each non-empty block; blocks that cannot fit at all are left out."""
        key = (blocks, width, height, gap)
        placed = self._cache.get(key)
        if placed is None:
            placed = self._fit(blocks, width, height, gap)
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[key] = placed
        return placed

    def height(self, placed: tuple[Placed, ...], gap: int) -> int:
        lines = sum(self._line_height(p.size) * len(p.lines) for p in placed)
        return lines + gap * max(0, len(placed) - 1)

    def _fit(self, blocks: tuple[Block, ...], width: int, height: int, gap: int) -> tuple[Placed, ...]:
        live = [i for i, b in enumerate(blocks) if b.text.strip()]
        if width <= 0 or height <= 0 or not live:
            return ()
        placed: tuple[Placed, ...] = ()
        for lines in range(1, max(blocks[i].max_lines for i in live) + 1):
            # shrink each block down to its `shrink` before giving it another line, to its minimum at its last
            floors = {i: blocks[i].shrink if lines < blocks[i].max_lines else 0.0 for i in live}
            allowed = {i: blocks[i].max_lines if blocks[i].shrink >= 1 else min(lines, blocks[i].max_lines)
                       for i in live}
            scale = 1.0
            while True:
                sizes = {i: max(blocks[i].min_size, round(blocks[i].size * max(scale, floors[i]))) for i in live}
                laid = {i: self._wrap(blocks[i], sizes[i], width) for i in live}
                placed = tuple(Placed(i, sizes[i], tuple(laid[i])) for i in live)
                if all(len(laid[i]) <= allowed[i] and self._within(blocks[i], sizes[i], laid[i], width) for i in live) \
                        and self.height(placed, gap) <= height:
                    return placed
                if scale <= min(floors.values()) or all(
                        sizes[i] == max(blocks[i].min_size, round(blocks[i].size * floors[i])) for i in live):
                    break
                scale *= SHRINK
        return self._cut(blocks, placed, width, height, gap)

    def _within(self, block: Block, size: int, lines: list[str], width: int) -> bool:
        """False when a single character is wider than the box (wrapping cannot help)."""
        return all(self._measure(line, size, block.strong) <= width for line in lines)

    def _wrap(self, block: Block, size: int, width: int) -> list[str]:
        return balanced(block.text, width, lambda t: self._measure(t, size, block.strong))

    def _cut(self, blocks, placed: tuple[Placed, ...], width: int, height: int, gap: int) -> tuple[Placed, ...]:
        """At the smallest sizes: fewer lines and fewer blocks, until they fit."""
        counts = [min(len(p.lines), blocks[p.block].max_lines) for p in placed]

        def kept() -> tuple[Placed, ...]:
            out = []
            for p, n in zip(placed, counts, strict=True):
                if n == 0:
                    continue
                measure = lambda t, p=p: self._measure(t, p.size, blocks[p.block].strong)
                lines = list(p.lines[:n])
                if n < len(p.lines) or measure(lines[-1]) > width:
                    lines[-1] = ellipsize(lines[-1], width, measure)
                if lines[-1] and all(measure(line) <= width for line in lines):  # else not one character fits
                    out.append(Placed(p.block, p.size, tuple(lines)))
            return tuple(out)

        # Chinese comes first and is kept whole longest: the last block loses its lines, then itself,
        # before the one above it loses anything; the first is dropped only if not even a line of it fits.
        for i in reversed(range(len(counts))):
            while counts[i] > (1 if i == 0 else 0) and self.height(kept(), gap) > height:
                counts[i] -= 1
        if self.height(kept(), gap) > height:
            counts[0] = 0
        return kept()
