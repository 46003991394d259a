"""SMS PDUs: published vectors (modem logs, 3GPP-style examples) and round trips."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge import gsm7, pdu
from firmware_bridge.fake_modem import join_parts

CHINA = timezone(timedelta(hours=8))

# (PDU as a modem shows it, kind, number, text, time stamp, concatenation (ref, total, seq))
DECODE_VECTORS = [
    # developershome.com's SMS-DELIVER example, GSM 7-bit, Hong Kong (+8 h)
    ("07915892000000F0040B915892214365F700007040213252242331493A283D0795C3F33C88FE06C9CB6132885EC6D341EDF27C1E3E97E7"
     "207B3A0C0A5241E377BB1D7693E72E", "deliver", "+85291234567", "It is easy to read text messages via AT commands.",
     "2007-04-12T23:25:42+08:00", None),
    # the extension table ({ }) and é of the default alphabet
    ("06917228195339040B917228214365F70000313062315352800A800D8A5E98D337A910", "deliver", "+27821234567",
     "@{tést}!", "2013-03-26T13:35:25+02:00", None),
    # a national sender (type 0x81), a one-part concatenation header and 7-bit fill bits
    ("0591721891F1400781721881F800003160526104848059050003C30101916536FB1DCABEEB2074D85E064941B19CAB060319A5C52228"
     "9C96D3D3ED32286C0FA7D96131BBEC024941B19CAB0603DDD36C36A88C87A7E565D0DB0D82C55EB0DB4B068BCD5C20", "deliver",
     "2781188", "Hello!You have R 19.50 FREE airtime available. R 19.50 will expire on 01/07/2013. ",
     "2013-06-25T16:40:48+02:00", (0xC3, 1, 1)),
    # China Mobile, UCS2: 你好
    ("0891683108501955F1040D91683118140276F8000841011251018123044F60597D", "deliver", "+8613814120678", "你好",
     "2014-10-21T15:10:18+08:00", None),
    # an alphanumeric sender, UTC
    ("0791448720003023240DD0E474D81C0EBB010000111011315214000BE474D81C0EBB5DE3771B", "deliver", "diafaan",
     "diafaan.com", "2011-01-11T13:25:41+00:00", None),
    # a zone west of Greenwich (-8 h: sign bit set)
    ("07915892208800F0040B915892241883F800009921810170002B0341E211", "deliver", "+85294281388", "ADG",
     "1999-12-18T10:07:00-08:00", None),
    # 10086 (China Mobile's service number, national type 0xA1), part 1 of 2, UCS2
    ("0891683108801505F94405A10180F60008512111901592238C0500035F02014E3A5E86795D8D355DDE79FB52A800340047002B8BD5554"
     "67528FF0C6211516C53F8672C6708541160A88D60900177015185514D8D39901A8BDD65F6957F00310030003000305206949FFF084EF750"
     "3C0032003000305143FF09FF0C4E0E60A851714EAB7CBE5F6979FB52A800340047751F6D3BFF016CE8FF1A8D60900165F6957F4EC59650",
     "deliver", "10086", "为庆祝贵州移动4G+试商用，我公司本月向您赠送省内免费通话时长1000分钟（价值200元），"
                         "与您共享精彩移动4G生活！注：赠送时长仅限", "2015-12-11T09:51:29+08:00", (0x5F, 2, 1)),
    # SMS-SUBMITs, as the fake modem reads what the bridge sends
    ("0891683108100005F011000D91683146110972F70008000A4E2D658777ED6D88606F", "submit", "+8613641190277", "中文短消息",
     None, None),
    ("0591721891F101000B917228214365F700040C48656C6C6F20776F726C6421", "submit", "+27821234567", "Hello world!",
     None, None),
    ("0045000B915121551532F40000A0050003000301986F79B90D4AC3E7F53688FC66BFE5A0799A0E0AB7CB741668FC76CFCB637A995E9783"
     "C2E4343C3D4F8FD3EE33A8CC4ED359A079990C22BF41E5747DDE7E9341F4721BFE9683D2EE719A9C26D7DD74509D0E6287C56F791954A6"
     "83C86FF65B5E06B5C36777181466A7E3F5B0AB4A0795DDE936284C06B5D3EE741B642FBBD3E1360B14AFA7DD", "submit",
     "+15125551234", "Lorem ipsum dolor sit amet, consectetur adipisicing elit, sed do eiusmod tempor incididunt ut "
                     "labore et dolore magna aliqua.Ut enim ad minim veniam, quin", None, (0, 3, 1)),
]

# A two-part UCS2 message from a Chinese carrier (ref 0x15), as two AT+CMGL entries.
TWO_PARTS = [
    "0891683108502905F0400D91683159298373F70008512141615053238C0500031502015C0A656C76845BA26237FF0C60A8597DFF0160A84E"
    "8E00320030003100355E740031003267080031003165E50031003870B900350038520670B964AD621663A565364E864E2D56FD79FB52A876"
    "84632F94C30032002E0030003051434E1A52A1FF0C8D448D390032002E00300030514330025982679C60A890475230672A653652305DF270B9",
    "0891683108502905F0440D91683159298373F70008512141615093238005000315020264AD4FE1606F3001653652304FE1606F4E0E5BA34F"
    "204E0D7B267B4995EE989862165BF9670D52A14E0D6EE1610FFF0C53EF57280031003267080031003165E50032003270B900330035520652"
    "4D56DE590D0032003500370033FF0C62114EEC5C064E0D653653D660A876848D39752830024E2D56FD79FB52A8",
]

ENCODE_VECTORS = [
    # (number, text, options, PDU as AT+CMGS takes it, its TPDU length)
    ("+27820001111", "Hello World!", {}, "0001000B917228001011F100000CC8329BFD065DDF72363904", 24),
    # dreamfabric.com's SMS-SUBMIT: relative validity 0xAA (4 days)
    ("+46708251358", "hellohello", {"validity": 0xAA}, "0011000B916407281553F80000AA0AE8329BFD4697D9EC37", 23),
    # UCS2, with a service centre and a validity of 0xF4
    ("+123456789", "世界您好！", {"smsc": "+44000000000", "validity": 0xF4},
     "07914400000000F01100099121436587F90008F40A4E16754C60A8597DFF01", 23),
]


@pytest.mark.parametrize("hex_pdu, kind, number, text, stamp, concat", DECODE_VECTORS)
def test_published_pdus_decode_to_their_number_text_and_time(hex_pdu, kind, number, text, stamp, concat):
    sms = pdu.decode(hex_pdu)
    assert (sms.kind, sms.number, sms.text) == (kind, number, text)
    assert (sms.timestamp.isoformat() if sms.timestamp else None) == stamp
    assert (astuple(sms.concat) if sms.concat else None) == concat


def astuple(concat: pdu.Concat) -> tuple[int, int, int]:
    return concat.ref, concat.total, concat.seq


def test_a_real_two_part_chinese_message_joins_into_one_text():
    parts = [pdu.decode(p) for p in reversed(TWO_PARTS)]  # the order they are read in does not matter
    assert [p.concat.seq for p in parts] == [2, 1] and {p.concat.ref for p in parts} == {0x15}
    [(number, text)] = join_parts(parts)
    assert number == "+8613959238377"
    assert text.startswith("尊敬的客户，您好！您于2015年12月11日18点58分点播或接收了中国移动的振铃2.00元业务")
    assert "如果您遇到未收到已点播信息、收到信息与宣传不符等问题" in text  # the seam between the parts
    assert text.endswith("我们将不收取您的费用。中国移动")


@pytest.mark.parametrize("number, text, options, expected, length", ENCODE_VECTORS)
def test_encoding_gives_the_published_pdus(number, text, options, expected, length):
    assert pdu.encode_submit(number, text, **options) == [pdu.OutgoingPdu(expected, length)]


def test_a_mainland_number_and_chinese_text_encode_as_international_ucs2():
    [part] = pdu.encode_submit("+8613812345678", "请回复1")
    # 请 U+8BF7 回 U+56DE 复 U+590D 1 U+0031; +86 13812345678: 13 digits, type 0x91, digits swapped
    assert part.hex == "00" "01" "00" "0D91683118325476F8" "00" "08" "08" "8BF756DE590D0031"
    assert part.length == len(part.hex) // 2 - 1


def test_the_time_stamp_carries_the_zone_in_quarter_hours():
    assert pdu.encode_timestamp(datetime(2007, 4, 12, 23, 25, 42, tzinfo=CHINA)).hex().upper() == "70402132522423"
    west = timezone(timedelta(hours=-8))
    assert pdu.encode_timestamp(datetime(2007, 4, 12, 23, 25, 42, tzinfo=west)).hex().upper() == "7040213252242B"
    assert pdu.decode_timestamp(bytes.fromhex("FF402132522423")) is None  # not a time: no exception
    with pytest.raises(pdu.PduError):
        pdu.encode_timestamp(datetime(2007, 4, 12))


@pytest.mark.parametrize("text, parts, encoding", [
    ("a" * 160, 1, "gsm7"),
    ("a" * 161, 2, "gsm7"),
    ("a" * 306, 2, "gsm7"),
    ("a" * 307, 3, "gsm7"),
    ("{" * 80, 1, "gsm7"),  # 160 septets: each { is two
    ("{" * 81, 2, "gsm7"),
    ("评" * 70, 1, "ucs2"),
    ("评" * 71, 2, "ucs2"),
    ("评" * 134, 2, "ucs2"),
    ("评" * 135, 3, "ucs2"),
    ("😀" * 35, 1, "ucs2"),  # 70 UTF-16 code units
    ("😀" * 36, 2, "ucs2"),
])
def test_texts_split_at_160_153_and_70_67(text, parts, encoding):
    got_encoding, chunks = pdu.split_text(text)
    assert (got_encoding, len(chunks)) == (encoding, parts)


def test_a_part_never_ends_inside_an_escape_or_a_surrogate_pair():
    _, chunks = pdu.split_text("a" * 152 + "€" + "b" * 10)  # € (ESC e) would straddle septets 153 and 154
    assert [len(c) for c in chunks] == [152, 12]
    _, chunks = pdu.split_text("评" * 66 + "😀" + "评" * 5)  # 😀 would straddle units 67 and 68
    assert [len(c) // 2 for c in chunks] == [66, 7]
    assert chunks[1].decode("utf-16-be") == "😀" + "评" * 5


def test_received_parts_that_split_a_surrogate_pair_are_joined_whole():
    units = "评".encode("utf-16-be") * 66 + "😀".encode("utf-16-be") + "评".encode("utf-16-be")
    stamp = datetime(2026, 11, 27, 9, 0, tzinfo=CHINA)
    first, second = (pdu.decode(p) for p in _deliver_units("+8613812345678", units[:134], units[134:], stamp))
    assert first.text.endswith("\ufffd")  # each half alone is not a character
    assert join_parts([second, first]) == [("+8613812345678", "评" * 66 + "😀" + "评")]


def _deliver_units(number: str, first: bytes, second: bytes, stamp: datetime) -> list[str]:
    """Two UCS2 parts cut where a sender might, not where we would."""
    out = []
    for seq, units in ((1, first), (2, second)):
        tpdu = bytes([0x44]) + pdu.encode_address(number) + bytes([0, 8]) + pdu.encode_timestamp(stamp)
        tpdu += bytes([6 + len(units), 5, 0, 3, 0x42, 2, seq]) + units
        out.append("00" + tpdu.hex().upper())
    return out


def test_the_gsm7_extension_table_and_its_fallback():
    assert gsm7.to_septets("€[") == [0x1B, 0x65, 0x1B, 0x3C]
    assert gsm7.from_septets(bytes([0x1B, 0x41, 0x42])) == "AB"  # ESC + a code without an extension: the code
    assert gsm7.from_septets(bytes([0x41, 0x1B])) == "A "  # a trailing ESC: a space
    assert not gsm7.encodable("评") and gsm7.encodable("@£$¥ΔΩ{}")


@pytest.mark.parametrize("bad, why", [
    ("0891683108", "truncated"),
    ("zz", "hexadecimal"),
    ("0002", "message type 2"),
    ("00040D91683118325476F80020", "compressed"),
    ("00440D91683118325476F8000862401261000023", "truncated"),
    ("00040D91683118325476F8000862401261000023FF4F60", "shorter than its length"),
    ("00040D91683118325476F80000624012610000230A41", "shorter than its length"),  # 10 septets in 1 octet
])
def test_broken_pdus_raise_a_pdu_error_that_says_why(bad, why):
    with pytest.raises(pdu.PduError, match=why):
        pdu.decode(bad)


def test_a_number_that_is_not_digits_is_refused_without_repeating_it():
    with pytest.raises(pdu.PduError) as caught:
        pdu.encode_submit("138-1234-5678", "x")
    assert "5678" not in str(caught.value)


def test_8bit_and_16bit_reference_concatenation_headers():
    stamp = datetime(2026, 11, 27, 9, 0, tzinfo=CHINA)
    base = bytes([0x44]) + pdu.encode_address("+8613812345678") + bytes([0, 4]) + pdu.encode_timestamp(stamp)
    eight = base + bytes([8, 5, 0, 3, 7, 2, 1]) + b"hi"
    sixteen = base + bytes([9, 6, 8, 4, 0x12, 0x34, 2, 2]) + b"ho"
    assert astuple(pdu.decode("00" + eight.hex()).concat) == (7, 2, 1)
    sms = pdu.decode("00" + sixteen.hex())
    assert astuple(sms.concat) == (0x1234, 2, 2) and sms.text == "ho" and sms.encoding == "8bit"


# -- properties --------------------------------------------------------------------------------------

gsm_text = st.text(alphabet=st.sampled_from(gsm7.DEFAULT.replace("\x1b", "") + "".join(gsm7.EXTENSION.values())),
                   min_size=1, max_size=700)
any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=600)
numbers = st.from_regex(r"\+?[0-9]{3,20}", fullmatch=True)


@settings(max_examples=150, deadline=None)
@given(number=numbers, text=st.one_of(gsm_text, any_text), ref=st.integers(0, 255))
def test_what_is_encoded_decodes_to_the_same_number_and_text(number, text, ref):
    parts = pdu.encode_submit(number, text, ref=ref)
    decoded = [pdu.decode(p.hex) for p in parts]
    assert join_parts(decoded) == [(number, text)]
    for part, sms in zip(parts, decoded):
        assert part.length == len(part.hex) // 2 - 1  # AT+CMGS's length: the TPDU without the SMSC octet
        if sms.encoding == "gsm7":
            assert len(sms.units) <= (153 if len(parts) > 1 else 160)
        else:
            assert len(sms.units) // 2 <= (67 if len(parts) > 1 else 70)
    if len(parts) > 1:
        assert [d.concat for d in decoded] == [pdu.Concat(ref, len(parts), n) for n in range(1, len(parts) + 1)]


@settings(max_examples=100, deadline=None)
@given(number=numbers, text=any_text,
       stamp=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2089, 12, 31),
                          timezones=st.sampled_from([CHINA, timezone.utc, timezone(timedelta(hours=-3, minutes=-30))])))
def test_a_delivered_message_decodes_to_its_sender_text_and_time(number, text, stamp):
    decoded = [pdu.decode(p) for p in pdu.encode_deliver(number, text, stamp)]
    assert join_parts(decoded) == [(number, text)]
    assert {d.timestamp for d in decoded} == {stamp.replace(microsecond=0)}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_decode_or_raise_a_pdu_error(data):
    try:
        pdu.decode(data.hex())
    except pdu.PduError:
        pass
