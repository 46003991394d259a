"""What a citizen's SMS reply means: a rating, an opt-out, or neither.

People answer "1", "１", "1。", " 2 ", "【3】", "满意!", "滿意" (traditional), "1满意" (the
option copied), or "不满意，等了两个小时" (a rating with their reasons). The rule:

- full-width forms are folded (NFKC: "１" -> "1", "ＴＤ" -> "TD", "①" -> "1");
- leading and trailing spaces, punctuation and symbols are dropped;
- the text must then *begin* with a rating (or TD), and the rating must end the text or be
  followed by a space or a punctuation mark; what follows is the citizen's comment.
  So "1号窗口很好" or "满意度低" are not ratings, and "不满意" is never read as "满意":
  the longest word is tried first;
- a digit and a word together ("1满意", "3、不满意") count only when they agree; two
  ratings that disagree ("满意 3"), or a digit followed by more digits ("1.5", "1 2"),
  are not a rating.

The three levels, and the national five-level 好差评 words that map onto them
(docs/protocol.md, "The controller's side"): 1 满意 satisfied (also 非常满意),
2 基本满意 basic, 3 不满意 unsatisfied (also 非常不满意).
"""

from __future__ import annotations

import re
import unicodedata

SATISFIED, BASIC, UNSATISFIED = "satisfied", "basic", "unsatisfied"
RATINGS = (SATISFIED, BASIC, UNSATISFIED)
OPT_OUT = "opt_out"

DIGITS = {"1": SATISFIED, "2": BASIC, "3": UNSATISFIED}
WORDS = {
    "满意": SATISFIED, "滿意": SATISFIED, "非常满意": SATISFIED, "非常滿意": SATISFIED,
    "基本满意": BASIC, "基本滿意": BASIC,
    "不满意": UNSATISFIED, "不滿意": UNSATISFIED, "非常不满意": UNSATISFIED, "非常不滿意": UNSATISFIED,
}
OPT_OUT_WORDS = ("td", "退订", "退訂")

# Longest first, so that 不满意 and 基本满意 are tried before the 满意 inside them.
_WORD_RE = "|".join(sorted(map(re.escape, WORDS), key=len, reverse=True))
# A separator: anything that is not a letter or digit of any script (\W), or an underscore.
_END = r"(?=$|[\W_])"
_RATING = re.compile(rf"(?:(?P<digit>[123])(?:[\W_]*(?P<word_after>{_WORD_RE}))?|(?P<word>{_WORD_RE})){_END}")
_OPT_OUT = re.compile(rf"(?:{'|'.join(OPT_OUT_WORDS)}){_END}", re.IGNORECASE)


def core(text: str) -> str:
    """The text folded to half-width, without spaces, punctuation or symbols around it."""
    folded = unicodedata.normalize("NFKC", text)
    start, end = 0, len(folded)
    while start < end and not _kept(folded[start]):
        start += 1
    while end > start and not _kept(folded[end - 1]):
        end -= 1
    return folded[start:end]


def _kept(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"  # letters and numbers; not P, S, Z, C, M


def parse_reply(text: str) -> str | None:
    """``satisfied``, ``basic``, ``unsatisfied``, ``opt_out``, or None for anything else."""
    body = core(text)
    if _OPT_OUT.match(body):
        return OPT_OUT
    first = _rating(body)
    if first is None or not first[0]:
        return None
    rating, end = first
    rest = core(body[end:])
    if rest[:1].isdigit() and body[:1].isdigit():
        return None  # "1.5", "1 2", "1,000": a number, not a rating
    then = _rating(rest)
    if then is not None and then[0] != rating:
        return None  # "1不满意", "满意 3": which one did they mean? Ask again.
    return rating


def _rating(body: str) -> tuple[str, int] | None:
    """The rating the text begins with, and where it ends."""
    match = _RATING.match(body)
    if match is None:
        return None
    if match["word"]:
        return WORDS[match["word"]], match.end()
    rating = DIGITS[match["digit"]]
    if match["word_after"] and WORDS[match["word_after"]] != rating:
        return "", match.end()  # a digit and a word that disagree: no rating any caller accepts
    return rating, match.end()
