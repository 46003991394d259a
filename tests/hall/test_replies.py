"""What a citizen's SMS reply means (hall/replies.py): a table of what people really type."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hall.replies import BASIC, OPT_OUT, SATISFIED, UNSATISFIED, parse_reply

TABLE = [
    # the digits, as typed on any phone
    ("1", SATISFIED), ("2", BASIC), ("3", UNSATISFIED),
    ("１", SATISFIED), ("２", BASIC), ("３", UNSATISFIED), ("①", SATISFIED),
    # spaces and punctuation around them
    (" 2 ", BASIC), ("1。", SATISFIED), ("【3】", UNSATISFIED), ("“1”", SATISFIED), ("1!", SATISFIED),
    ("\t3\n", UNSATISFIED), ("2\u200b", BASIC), ("👍1👍", SATISFIED), ("(2)", BASIC), ("1、", SATISFIED),
    # the words, simplified and traditional
    ("满意", SATISFIED), ("滿意", SATISFIED), ("基本满意", BASIC), ("基本滿意", BASIC),
    ("不满意", UNSATISFIED), ("不滿意", UNSATISFIED), ("满意！", SATISFIED), ("“不满意”", UNSATISFIED),
    # the national five-level words fold onto the three
    ("非常满意", SATISFIED), ("非常不满意", UNSATISFIED),
    # the option copied, digit and word agreeing
    ("1满意", SATISFIED), ("2基本滿意", BASIC), ("3、不满意", UNSATISFIED), ("3 不满意", UNSATISFIED),
    # a rating and the citizen's reasons
    ("不满意，等了两个小时", UNSATISFIED), ("3 态度差", UNSATISFIED), ("满意 谢谢", SATISFIED),
    # opting out, any case, full width too
    ("TD", OPT_OUT), ("td", OPT_OUT), ("Td", OPT_OUT), ("ＴＤ", OPT_OUT), ("ｔｄ", OPT_OUT), (" TD。", OPT_OUT),
    ("退订", OPT_OUT), ("退訂", OPT_OUT), ("TD 谢谢", OPT_OUT),
    # not ratings: they get the help text
    ("", None), ("   ", None), ("。", None), ("0", None), ("4", None), ("12", None), ("11", None), ("1.5", None),
    ("1号窗口很好", None), ("满意度低", None), ("很满意", None), ("不是很满意", None), ("好", None),
    ("1不满意", None), ("3满意", None), ("1 3", None), ("1 1", None), ("满意 3", None), ("满意 不满意", None),
    ("TDX", None), ("STD", None),
    ("ok", None), ("一", None), ("请问几点下班", None),
]


@pytest.mark.parametrize(("text", "meaning"), TABLE, ids=[repr(t) for t, _ in TABLE])
def test_reply_table(text, meaning):
    assert parse_reply(text) == meaning


def test_unsatisfied_is_never_read_as_the_satisfied_inside_it():
    for text in ("不满意", "不滿意", "非常不满意", "3不满意"):
        assert parse_reply(text) == UNSATISFIED


PADDING = st.text(st.sampled_from(" \t\n。，、！？!?.,:;()【】“”\"'-~…👍\u3000"), max_size=4)


@given(PADDING, st.sampled_from(["1", "２", "满意", "基本滿意", "不满意", "3不满意"]), PADDING)
def test_punctuation_and_spaces_around_a_rating_do_not_change_it(before, rating, after):
    assert parse_reply(before + rating + after) == parse_reply(rating) is not None


@given(st.text(max_size=40))
def test_any_text_has_one_meaning_or_none(text):
    assert parse_reply(text) in (SATISFIED, BASIC, UNSATISFIED, OPT_OUT, None)
