"""MQTT 5 packets as bytes: the small part of the protocol the hall controller speaks.

Pure functions, no I/O, so they are tested byte for byte and by round trip.
Why not paho's: paho builds a ``Properties`` object for every packet it
reads or writes and queues each packet through several layers; for the
controller that was three quarters of its CPU per request (bench/hall_cpu.py).
Here a PUBLISH is read by slicing and written by joining bytes.

Covered: CONNECT (with Last Will), CONNACK, PUBLISH at QoS 0/1 with a
response topic and correlation data, PUBACK, SUBSCRIBE/SUBACK, PINGREQ/
PINGRESP, DISCONNECT. Not QoS 2, AUTH or topic aliases: the client asks for
none of them, so a broker must not send them.
"""

from __future__ import annotations

from typing import NamedTuple

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = 8, 9, 10, 11, 12, 13, 14, 15

PINGREQ_PACKET = b"\xc0\x00"
DISCONNECT_NORMAL = b"\xe0\x00"  # reason 0: the Last Will is not sent
MAX_REMAINING = 268_435_455  # the largest length a 4-byte variable integer holds

# Property identifiers this module reads or writes by name.
RESPONSE_TOPIC, CORRELATION_DATA, SERVER_KEEP_ALIVE = 0x08, 0x09, 0x13
REASON_STRING, RECEIVE_MAXIMUM, MAXIMUM_QOS, MAXIMUM_PACKET_SIZE = 0x1F, 0x21, 0x24, 0x27

# Every MQTT 5 property and how its value is written (spec 2.2.2.2), so
# that the ones not needed can be skipped.
_BYTE, _TWO, _FOUR, _VARINT, _STRING, _BINARY, _PAIR = range(7)
PROPERTY_TYPES = {
    0x01: _BYTE, 0x02: _FOUR, 0x03: _STRING, 0x08: _STRING, 0x09: _BINARY, 0x0B: _VARINT,
    0x11: _FOUR, 0x12: _STRING, 0x13: _TWO, 0x15: _STRING, 0x16: _BINARY, 0x17: _BYTE,
    0x18: _FOUR, 0x19: _BYTE, 0x1A: _STRING, 0x1C: _STRING, 0x1F: _STRING, 0x21: _TWO,
    0x22: _TWO, 0x23: _TWO, 0x24: _BYTE, 0x25: _BYTE, 0x26: _PAIR, 0x27: _FOUR,
    0x28: _BYTE, 0x29: _BYTE, 0x2A: _BYTE,
}


class MalformedPacket(ValueError):
    """Bytes that are not a valid MQTT 5 packet: the connection cannot go on."""


# -- encoding ----------------------------------------------------------------
def varint(value: int) -> bytes:
    """The variable byte integer of spec 1.5.5."""
    if not 0 <= value <= MAX_REMAINING:
        raise ValueError(f"{value} does not fit a variable byte integer")
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def string(data: str | bytes) -> bytes:
    """A UTF-8 string or binary data with its two-byte length."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > 0xFFFF:
        raise ValueError("an MQTT string holds at most 65535 bytes")
    return len(raw).to_bytes(2, "big") + raw


def frame(first_byte: int, body: bytes) -> bytes:
    return bytes((first_byte,)) + varint(len(body)) + body


def connect(client_id: str, keepalive: int, *, clean_start: bool = True,
            will: tuple[str, bytes] | None = None, username: str | None = None,
            password: str | None = None, max_packet: int | None = None) -> bytes:
    """CONNECT; the will is published retained at QoS 1 if the connection is lost.

    With ``max_packet`` the broker sends nothing larger (it drops such a message for us).
    """
    flags = 0x02 if clean_start else 0
    payload = string(client_id)
    if will:
        flags |= 0x04 | 0x08 | 0x20  # will, will QoS 1, will retain
        payload += b"\x00" + string(will[0]) + string(will[1])  # no will properties
    if username:
        flags |= 0x80
        payload += string(username)
        if password is not None:
            flags |= 0x40
            payload += string(password)
    props = b"" if max_packet is None else bytes((MAXIMUM_PACKET_SIZE,)) + max_packet.to_bytes(4, "big")
    header = string("MQTT") + bytes((5, flags)) + keepalive.to_bytes(2, "big") + varint(len(props)) + props
    return frame(CONNECT << 4, header + payload)


def publish(topic: bytes, payload: bytes, *, qos: int = 1, retain: bool = False, mid: int = 0,
            response_topic: bytes | None = None, correlation_data: bytes | None = None) -> bytearray:
    """PUBLISH; a bytearray so that a resend can set the DUP flag in place."""
    if response_topic is None and correlation_data is None:
        properties = b"\x00"
    else:
        props = b""
        if response_topic is not None:
            props += b"\x08" + len(response_topic).to_bytes(2, "big") + response_topic
        if correlation_data is not None:
            props += b"\x09" + len(correlation_data).to_bytes(2, "big") + correlation_data
        properties = varint(len(props)) + props
    header = len(topic).to_bytes(2, "big") + topic
    if qos:
        header += mid.to_bytes(2, "big")
    length = len(header) + len(properties) + len(payload)
    out = bytearray((PUBLISH << 4 | qos << 1 | retain,))
    out += varint(length)
    out += header
    out += properties
    out += payload
    return out


def puback(mid: int) -> bytes:
    """PUBACK with reason 0 (success), which MQTT 5 lets one leave out."""
    return b"\x40\x02" + mid.to_bytes(2, "big")


def subscribe(mid: int, subscriptions: list[tuple[str, int]]) -> bytes:
    """SUBSCRIBE; each pattern with its options byte (``options()``)."""
    body = mid.to_bytes(2, "big") + b"\x00"
    for pattern, opts in subscriptions:
        body += string(pattern) + bytes((opts,))
    return frame(SUBSCRIBE << 4 | 0x02, body)


def options(qos: int = 1, *, no_local: bool = False) -> int:
    """Subscription options: maximum QoS, No Local; Retain As Published off, retained sent."""
    return qos | (0x04 if no_local else 0)


# -- decoding ------------------------------------------------------------------
class FrameReader:
    """Cuts a byte stream into packets: ``feed(data)`` returns the complete ones.

    A packet longer than ``max_length`` is refused as soon as its length is read,
    before its body is buffered.
    """

    def __init__(self, max_length: int = MAX_REMAINING) -> None:
        self._buffer = bytearray()
        self.max_length = max_length

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """(first byte, body) of each packet completed by ``data``; the rest is kept."""
        buffer = self._buffer
        buffer += data
        packets = []
        pos, end = 0, len(buffer)
        while end - pos >= 2:
            length, shift, i, complete = 0, 0, pos + 1, False
            while i < end:
                byte = buffer[i]
                i += 1
                length |= (byte & 0x7F) << shift
                if not byte & 0x80:
                    complete = True
                    break
                shift += 7
                if shift > 21:
                    raise MalformedPacket("remaining length longer than four bytes")
            if complete and length > self.max_length:
                raise MalformedPacket(f"a packet of {length} bytes, more than the {self.max_length} allowed")
            if not complete or i + length > end:
                break  # the length, or the body, is still on its way
            packets.append((buffer[pos], bytes(buffer[i:i + length])))
            pos = i + length
        if pos:
            del buffer[:pos]
        return packets

    def clear(self) -> None:
        self._buffer.clear()


class Publish(NamedTuple):
    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int
    response_topic: str | None
    correlation_data: bytes | None


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(data):
            raise MalformedPacket("truncated variable byte integer")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 21:
            raise MalformedPacket("variable byte integer longer than four bytes")


def read_properties(data: bytes, pos: int) -> tuple[dict[int, object], int]:
    """The property block at ``pos``: {identifier: value} (user properties as a list) and its end."""
    length, pos = read_varint(data, pos)
    end = pos + length
    if end > len(data):
        raise MalformedPacket("properties longer than the packet")
    found: dict[int, object] = {}
    while pos < end:
        ident = data[pos]
        kind = PROPERTY_TYPES.get(ident)
        if kind is None:
            raise MalformedPacket(f"unknown property 0x{ident:02x}")
        value, pos = _read_value(data, pos + 1, kind)
        if ident == 0x26:
            found.setdefault(ident, []).append(value)  # type: ignore[union-attr]
        else:
            found[ident] = value
    if pos != end:
        raise MalformedPacket("a property runs past its block")
    return found, end


def _read_value(data: bytes, pos: int, kind: int) -> tuple[object, int]:
    if kind == _BYTE:
        return _need(data, pos, 1)[0], pos + 1
    if kind == _TWO:
        return int.from_bytes(_need(data, pos, 2), "big"), pos + 2
    if kind == _FOUR:
        return int.from_bytes(_need(data, pos, 4), "big"), pos + 4
    if kind == _VARINT:
        return read_varint(data, pos)
    if kind == _PAIR:
        key, pos = _read_value(data, pos, _STRING)
        value, pos = _read_value(data, pos, _STRING)
        return (key, value), pos
    size = int.from_bytes(_need(data, pos, 2), "big")
    raw = _need(data, pos + 2, size)
    if kind == _BINARY:
        return raw, pos + 2 + size
    try:
        return raw.decode("utf-8"), pos + 2 + size
    except UnicodeDecodeError:
        raise MalformedPacket("a string property is not UTF-8") from None


def _need(data: bytes, pos: int, size: int) -> bytes:
    if pos + size > len(data):
        raise MalformedPacket("packet shorter than its fields")
    return data[pos:pos + size]


def parse_publish(first_byte: int, body: bytes) -> Publish:
    """The hot path of the controller (every request is one), so the two
    properties a request carries are read inline; any other goes the long way."""
    qos = (first_byte >> 1) & 0x03
    if qos == 3:
        raise MalformedPacket("PUBLISH with QoS 3")
    end = len(body)
    pos = 2 + int.from_bytes(_need(body, 0, 2), "big")
    if pos > end:
        raise MalformedPacket("topic runs past the packet")
    try:
        topic = body[2:pos].decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPacket("topic is not UTF-8") from None
    mid = 0
    if qos:
        mid = int.from_bytes(_need(body, pos, 2), "big")
        pos += 2
    response_topic = correlation = None
    length, pos = read_varint(body, pos)
    props_end = pos + length
    if props_end > end:
        raise MalformedPacket("properties longer than the packet")
    while pos < props_end:
        ident = body[pos]
        if ident == RESPONSE_TOPIC or ident == CORRELATION_DATA:
            value, pos = _read_value(body, pos + 1, _STRING if ident == RESPONSE_TOPIC else _BINARY)
            if ident == RESPONSE_TOPIC:
                response_topic = value
            else:
                correlation = value
        elif ident in PROPERTY_TYPES:
            _, pos = _read_value(body, pos + 1, PROPERTY_TYPES[ident])
        else:
            raise MalformedPacket(f"unknown property 0x{ident:02x}")
    if pos != props_end:
        raise MalformedPacket("a property runs past its block")
    return Publish(topic, body[pos:], qos, bool(first_byte & 0x01), mid, response_topic,  # type: ignore[arg-type]
                   correlation)  # type: ignore[arg-type]


def parse_connack(body: bytes) -> tuple[int, dict[int, object]]:
    """(reason code, properties); a reason of 0x80 or more is a refusal."""
    _need(body, 0, 2)
    props, _ = read_properties(body, 2) if len(body) > 2 else ({}, 2)
    return body[1], props


def parse_ack(body: bytes) -> tuple[int, int]:
    """(packet id, reason code) of a PUBACK; no reason code means success."""
    mid = int.from_bytes(_need(body, 0, 2), "big")
    return mid, body[2] if len(body) > 2 else 0


def parse_suback(body: bytes) -> tuple[int, list[int]]:
    mid = int.from_bytes(_need(body, 0, 2), "big")
    _, pos = read_properties(body, 2)
    return mid, list(body[pos:])


def parse_disconnect(body: bytes) -> tuple[int, str | None]:
    """(reason code, reason string) of a broker's DISCONNECT."""
    if not body:
        return 0, None
    props, _ = read_properties(body, 1) if len(body) > 1 else ({}, 1)
    return body[0], props.get(REASON_STRING)  # type: ignore[return-value]


# What a refusal means, in the words of the MQTT 5 specification (3.2.2.2), for the log.
CONNACK_REASONS = {
    0x80: "Unspecified error", 0x84: "Unsupported Protocol Version", 0x85: "Client Identifier not valid",
    0x86: "Bad User Name or Password", 0x87: "Not authorized", 0x88: "Server unavailable",
    0x89: "Server busy", 0x8A: "Banned", 0x8C: "Bad authentication method", 0x95: "Packet too large",
    0x97: "Quota exceeded", 0x9F: "Connection rate exceeded",
}
