"""MQTT 5 packets byte for byte (spec examples worked by hand), and by round trip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bus import wire


@pytest.mark.parametrize(("value", "encoded"), [
    (0, "00"), (127, "7f"), (128, "8001"), (16_383, "ff7f"), (16_384, "808001"),
    (2_097_151, "ffff7f"), (2_097_152, "80808001"), (268_435_455, "ffffff7f"),
])
def test_variable_byte_integer(value, encoded):
    assert wire.varint(value).hex() == encoded
    assert wire.read_varint(bytes.fromhex(encoded), 0) == (value, len(encoded) // 2)


def test_variable_byte_integer_out_of_range():
    with pytest.raises(ValueError):
        wire.varint(268_435_456)
    with pytest.raises(wire.MalformedPacket):
        wire.read_varint(bytes.fromhex("ffffffff7f"), 0)


@pytest.mark.parametrize(("packet", "expected"), [
    # CONNECT "c", keepalive 30, clean start: protocol name, level 5, flags, keepalive, no properties
    (wire.connect("c", 30), "100e00044d5154540502001e00000163"),
    # ... with a Last Will (QoS 1, retained) "s" = "off", user "u", password "p"
    (wire.connect("c", 30, will=("s", b"off"), username="u", password="p"),
     "101d00044d51545405ee001e00" "000163" "00" "000173" "00036f6666" "000175" "000170"),
    # ... with a Maximum Packet Size of 4 MiB
    (wire.connect("c", 30, max_packet=4 * 2**20), "101300044d5154540502001e052700400000000163"),
    (wire.publish(b"a/b", b"hi", qos=1, retain=True, mid=10), "330a0003612f62000a006869"),
    (wire.publish(b"a/b", b"hi", qos=0), "30080003612f62006869"),
    # a response topic "r" and correlation data 0x0102
    (wire.publish(b"t", b"", qos=1, mid=1, response_topic=b"r", correlation_data=b"\x01\x02"),
     "320f" "000174" "0001" "09" "08000172" "0900020102"),
    (wire.puback(513), "40020201"),
    (wire.subscribe(7, [("a/#", wire.options(1, no_local=True))]), "82090007000003612f2305"),
    (wire.PINGREQ_PACKET, "c000"),
    (wire.DISCONNECT_NORMAL, "e000"),
])
def test_packets_byte_for_byte(packet, expected):
    assert bytes(packet).hex() == expected


def test_connect_with_will_and_credentials_has_the_flags_of_spec_3_1_2():
    packet = wire.connect("c", 30, will=("s", b"off"), username="u", password="p")
    flags = packet[2 + 6 + 1]  # fixed header (2), protocol name (6), level (1)
    assert flags == 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02  # user, password, will retain, will QoS 1, will, clean


def test_parse_publish_reads_what_publish_wrote():
    packet = wire.publish("分/区".encode(), b"\x00payload", qos=1, retain=True, mid=65535,
                          response_topic="回/复".encode(), correlation_data=b"\xff" * 16)
    [(first, body)] = wire.FrameReader().feed(bytes(packet))
    assert wire.parse_publish(first, body) == wire.Publish(
        topic="分/区", payload=b"\x00payload", qos=1, retain=True, mid=65535,
        response_topic="回/复", correlation_data=b"\xff" * 16)


def test_parse_publish_skips_properties_it_does_not_need():
    # payload format (byte), message expiry (4 bytes), a user property (two strings), content type
    props = b"\x01\x01" + b"\x02\x00\x00\x00\x3c" + b"\x26\x00\x01k\x00\x01v" + b"\x03\x00\x04json" + b"\x08\x00\x01r"
    body = b"\x00\x01t" + b"\x00\x05" + wire.varint(len(props)) + props + b"{}"
    message = wire.parse_publish(0x32, body)
    assert (message.topic, message.mid, message.response_topic, message.correlation_data, message.payload) == \
        ("t", 5, "r", None, b"{}")


@pytest.mark.parametrize(("first", "body", "why"), [
    (0x36, b"\x00\x01t\x00\x01\x00", "QoS 3"),
    (0x30, b"\x00\x05t", "topic runs past the packet"),
    (0x30, b"\x00\x01\xff\x00", "topic not UTF-8"),
    (0x32, b"\x00\x01t\x00", "no packet id"),
    (0x30, b"\x00\x01t\x02\x7f\x00", "unknown property"),
    (0x30, b"\x00\x01t\x05\x08\x00\x09ab", "string runs past the packet"),
    (0x30, b"\x00\x01t\x03\x08\x00\x01rX", "property runs past its block"),
    (0x30, b"\x00\x01t", "no property length"),
])
def test_malformed_publish_is_refused(first, body, why):
    with pytest.raises(wire.MalformedPacket):
        wire.parse_publish(first, body)


@given(st.binary(max_size=64), st.integers(0, 255))
def test_any_bytes_parse_or_are_refused_as_malformed(body, first):
    try:
        wire.parse_publish(0x30 | (first & 0x0F), body)
    except wire.MalformedPacket:
        pass


@given(topic=st.text(min_size=1, max_size=40), payload=st.binary(max_size=300), qos=st.sampled_from([0, 1]),
       retain=st.booleans(), mid=st.integers(1, 65535), response=st.none() | st.text(max_size=30),
       correlation=st.none() | st.binary(max_size=40))
def test_publish_round_trip(topic, payload, qos, retain, mid, response, correlation):
    packet = wire.publish(topic.encode(), payload, qos=qos, retain=retain, mid=mid,
                          response_topic=None if response is None else response.encode(),
                          correlation_data=correlation)
    [(first, body)] = wire.FrameReader().feed(bytes(packet))
    assert wire.parse_publish(first, body) == wire.Publish(topic, payload, qos, retain, mid if qos else 0,
                                                           response, correlation)


@given(sizes=st.lists(st.integers(0, 20_000), min_size=1, max_size=5), cuts=st.lists(st.integers(0, 100_000)))
def test_frame_reader_finds_the_same_packets_however_the_stream_is_cut(sizes, cuts):
    packets = [bytes(wire.publish(b"t", bytes([n % 251]) * n, qos=1, mid=n + 1)) for n in sizes]
    stream = b"".join(packets)
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    reader, found = wire.FrameReader(), []
    for start, end in zip(points, points[1:]):
        found += reader.feed(stream[start:end])
    assert [bytes([first]) + wire.varint(len(body)) + body for first, body in found] == packets


def test_frame_reader_refuses_a_five_byte_length():
    with pytest.raises(wire.MalformedPacket):
        wire.FrameReader().feed(bytes.fromhex("30ffffffff7f"))


def test_frame_reader_refuses_a_packet_over_its_limit_before_its_body_comes():
    reader = wire.FrameReader(max_length=1000)
    assert reader.feed(bytes(wire.publish(b"t", b"x" * 990, qos=0)))  # 996 bytes: fine
    with pytest.raises(wire.MalformedPacket, match="more than the 1000"):
        reader.feed(bytes.fromhex("30e907"))  # 1001 bytes announced, none of them sent


def test_connack_with_properties():
    # session present 0, reason 0; Receive Maximum 20, Topic Alias Maximum 10, Server Keep Alive 60
    reason, props = wire.parse_connack(bytes.fromhex("00000921001422000a13003c"))
    assert reason == 0
    assert props == {wire.RECEIVE_MAXIMUM: 20, 0x22: 10, wire.SERVER_KEEP_ALIVE: 60}
    assert wire.parse_connack(bytes.fromhex("0087"))[0] == 0x87  # not authorised, no properties


def test_acks_and_disconnect():
    assert wire.parse_ack(bytes.fromhex("0201")) == (513, 0)
    assert wire.parse_ack(bytes.fromhex("020187")) == (513, 0x87)
    assert wire.parse_suback(bytes.fromhex("0007000180")) == (7, [1, 0x80])
    assert wire.parse_disconnect(b"") == (0, None)
    assert wire.parse_disconnect(bytes.fromhex("8e05" + "1f0002" + "6869")) == (0x8E, "hi")
