"""The TCP protocol of docs/protocol.md, version 1: every frame's layout, byte by byte, and nothing else (no I/O).

Client frames are encoded by the ``encode_*`` functions; server frames are decoded by :func:`decode` into the
small records below. Everything is little-endian. Float vectors go over the wire as float32.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Optional, Union

import numpy as np

from .errors import ProtocolViolation

VERSION = 1
MAGIC = b"RNNP"
MAX_SESSION_ID_BYTES = 128
LENGTH_FIELD_BYTES = 4
# The largest maximum frame size a server may announce (1 GiB); the limit in force before the Welcome.
LARGEST_FRAME_BYTES = 1 << 30
SMALLEST_FRAME_BYTES = 1024


class FrameType(IntEnum):
    HELLO = 0x01
    WELCOME = 0x02
    PING = 0x03
    PONG = 0x04
    ERROR = 0x05
    OPEN = 0x10
    TOKEN = 0x11
    SNAPSHOT_REQUEST = 0x12
    RESTORE = 0x13
    REPLAY = 0x14
    RESET = 0x15
    CLOSE = 0x16
    OUTPUT = 0x20
    SNAPSHOT_REPLY = 0x21
    REPLAY_OUTPUTS = 0x22
    ACK = 0x23


class TokenKind(IntEnum):
    VECTORS = 0
    IDS = 1


# ---------------------------------------------------------------- server -> client records


@dataclass(frozen=True)
class Welcome:
    """The server's answer to Hello: what the connection's default model takes and gives, and the limits in force."""

    version: int
    token_kind: TokenKind
    input_size: int  # floats per token (vectors), or the number of valid ids (ids)
    output_size: int  # floats per output step
    max_frame_bytes: int
    max_sessions: int
    max_in_flight: int  # Token and Replay frames of one session awaiting their answer
    idle_timeout_ms: int  # 0: never
    model: str


@dataclass(frozen=True)
class PingFrame:
    nonce: int


@dataclass(frozen=True)
class PongFrame:
    nonce: int


@dataclass(frozen=True)
class ErrorFrame:
    sequence: int
    session: str
    code: int
    message: str
    position: Optional[int]  # present exactly for codes 10, 11 and 14
    output: Optional[np.ndarray] = None  # DuplicateToken only: the token's original output, when the server kept it


@dataclass(frozen=True)
class OutputFrame:
    sequence: int
    session: str
    position: int
    output: np.ndarray  # (output size,) float32


@dataclass(frozen=True)
class SnapshotReplyFrame:
    sequence: int
    session: str
    snapshot: bytes


@dataclass(frozen=True)
class ReplayOutputsFrame:
    sequence: int
    session: str
    position: int  # stream position of this frame's first step
    outputs: np.ndarray  # (steps, width) float32


@dataclass(frozen=True)
class AckFrame:
    sequence: int
    session: str
    acknowledged: FrameType


ServerFrame = Union[Welcome, PingFrame, PongFrame, ErrorFrame, OutputFrame, SnapshotReplyFrame, ReplayOutputsFrame, AckFrame]

_ACKNOWLEDGEABLE = (FrameType.OPEN, FrameType.RESTORE, FrameType.RESET, FrameType.CLOSE)


# ---------------------------------------------------------------- client -> server encoding


def _frame(frame_type: FrameType, body: bytes) -> bytes:
    return struct.pack("<IB", 1 + len(body), frame_type) + body


def session_id_bytes(session: str) -> bytes:
    """The session id as UTF-8; ValueError unless it is 1 to 128 bytes."""
    if not isinstance(session, str):
        raise TypeError(f"a session id is a str; found {type(session).__name__}")
    raw = session.encode("utf-8")
    if not 1 <= len(raw) <= MAX_SESSION_ID_BYTES:
        raise ValueError(f"session id {session!r} is {len(raw)} UTF-8 byte(s); expected 1 to {MAX_SESSION_ID_BYTES}")
    return raw


def _header(sequence: int, session: bytes) -> bytes:
    return struct.pack("<QB", sequence, len(session)) + session


def _str16(text: str, what: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > 0xFFFF:
        raise ValueError(f"the {what} is {len(raw)} UTF-8 bytes; expected at most 65535")
    return struct.pack("<H", len(raw)) + raw


def _floats(values: np.ndarray) -> bytes:
    return struct.pack("<I", values.size) + values.astype("<f4", copy=False).tobytes()


def _position(position: int) -> bytes:
    if position < 0:
        raise ValueError(f"a position is the token's zero-based index in the session's stream; found {position}")
    return struct.pack("<q", position)


def encode_hello(version: int = VERSION) -> bytes:
    return _frame(FrameType.HELLO, MAGIC + struct.pack("<H", version))


def encode_ping(nonce: int) -> bytes:
    return _frame(FrameType.PING, struct.pack("<Q", nonce))


def encode_pong(nonce: int) -> bytes:
    return _frame(FrameType.PONG, struct.pack("<Q", nonce))


def encode_open(sequence: int, session: bytes, model: str, h0: np.ndarray, c0: np.ndarray) -> bytes:
    return _frame(FrameType.OPEN, _header(sequence, session) + _str16(model, "model name") + _floats(h0) + _floats(c0))


def encode_token_vector(sequence: int, session: bytes, vector: np.ndarray, position: Optional[int]) -> bytes:
    body = _header(sequence, session) + bytes([TokenKind.VECTORS]) + _floats(vector)
    return _frame(FrameType.TOKEN, body if position is None else body + _position(position))


def encode_token_id(sequence: int, session: bytes, token_id: int, position: Optional[int]) -> bytes:
    body = _header(sequence, session) + bytes([TokenKind.IDS]) + struct.pack("<i", token_id)
    return _frame(FrameType.TOKEN, body if position is None else body + _position(position))


def encode_snapshot_request(sequence: int, session: bytes) -> bytes:
    return _frame(FrameType.SNAPSHOT_REQUEST, _header(sequence, session))


def encode_reset(sequence: int, session: bytes) -> bytes:
    return _frame(FrameType.RESET, _header(sequence, session))


def encode_close(sequence: int, session: bytes) -> bytes:
    return _frame(FrameType.CLOSE, _header(sequence, session))


def encode_restore(sequence: int, session: bytes, snapshot: bytes) -> bytes:
    return _frame(FrameType.RESTORE, _header(sequence, session) + struct.pack("<I", len(snapshot)) + snapshot)


def encode_replay_vectors(sequence: int, session: bytes, inputs: np.ndarray, h0: np.ndarray, c0: np.ndarray) -> bytes:
    steps, width = inputs.shape
    body = (_header(sequence, session) + struct.pack("<BII", TokenKind.VECTORS, steps, width)
            + inputs.astype("<f4", copy=False).tobytes() + _floats(h0) + _floats(c0))
    return _frame(FrameType.REPLAY, body)


def encode_replay_ids(sequence: int, session: bytes, ids: np.ndarray, h0: np.ndarray, c0: np.ndarray) -> bytes:
    body = (_header(sequence, session) + struct.pack("<BI", TokenKind.IDS, ids.size)
            + ids.astype("<i4", copy=False).tobytes() + _floats(h0) + _floats(c0))
    return _frame(FrameType.REPLAY, body)


# ---------------------------------------------------------------- server -> client decoding


class _Reader:
    """Reads the fields of one frame's body; every shortfall or leftover is a ProtocolViolation naming the frame."""

    def __init__(self, body: memoryview, what: str):
        self.body = body
        self.at = 0
        self.what = what

    def take(self, count: int, field: str) -> memoryview:
        if count > len(self.body) - self.at:
            raise ProtocolViolation(
                f"{self.what}: the {field} needs {count} byte(s) but only {len(self.body) - self.at} remain")
        view = self.body[self.at:self.at + count]
        self.at += count
        return view

    def unpack(self, fmt: str, field: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), field))

    def u8(self, field: str) -> int:
        return self.unpack("<B", field)[0]

    def u16(self, field: str) -> int:
        return self.unpack("<H", field)[0]

    def u32(self, field: str) -> int:
        return self.unpack("<I", field)[0]

    def u64(self, field: str) -> int:
        return self.unpack("<Q", field)[0]

    def position(self, field: str = "position") -> int:
        value = self.unpack("<q", field)[0]
        if value < 0:
            raise ProtocolViolation(f"{self.what}: the {field} is {value}; expected 0 or more")
        return value

    def utf8(self, count: int, field: str) -> str:
        try:
            return bytes(self.take(count, field)).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProtocolViolation(f"{self.what}: the {field} is not valid UTF-8 ({e})") from None

    def str16(self, field: str) -> str:
        return self.utf8(self.u16(field + " length"), field)

    def f32s(self, count: int, field: str) -> np.ndarray:
        return np.frombuffer(self.take(4 * count, field), dtype="<f4").astype(np.float32)

    def header(self):
        sequence = self.u64("sequence")
        length = self.u8("session length")
        return sequence, self.utf8(length, "session id")

    def end(self) -> None:
        if self.at != len(self.body):
            raise ProtocolViolation(f"{self.what}: {len(self.body) - self.at} byte(s) follow the last field")


def frame_length(prefix: bytes, max_frame_bytes: int) -> int:
    """The byte count that follows a 4-byte length prefix; ProtocolViolation for 0 or for a frame over the maximum."""
    (length,) = struct.unpack("<I", prefix)
    if length == 0:
        raise ProtocolViolation("the server sent a frame whose length prefix is 0; expected at least 1 (the type byte)")
    if LENGTH_FIELD_BYTES + length > max_frame_bytes:
        raise ProtocolViolation(
            f"the server sent a frame of {LENGTH_FIELD_BYTES + length} bytes; the connection's maximum is {max_frame_bytes}")
    return length


def decode(frame: bytes) -> ServerFrame:
    """Decodes one frame (type byte and body, without the length prefix) sent by a server."""
    view = memoryview(frame)
    try:
        frame_type = FrameType(view[0])
    except ValueError:
        raise ProtocolViolation(f"the server sent a frame of unknown type 0x{view[0]:02X}") from None
    r = _Reader(view[1:], f"{frame_type.name.title().replace('_', '')} frame")
    decoded = _DECODERS.get(frame_type)
    if decoded is None:
        raise ProtocolViolation(f"the server sent a {frame_type.name} frame, which only a client sends")
    result = decoded(r)
    r.end()
    return result


def _welcome(r: _Reader) -> Welcome:
    version = r.u16("version")
    kind = r.u8("token kind")
    if kind not in (0, 1):
        raise ProtocolViolation(f"{r.what}: the token kind is {kind}; expected 0 (vectors) or 1 (ids)")
    input_size, output_size, max_frame, max_sessions, max_in_flight, idle = r.unpack("<6I", "sizes and limits")
    model = r.str16("model name")
    if not SMALLEST_FRAME_BYTES <= max_frame <= LARGEST_FRAME_BYTES or max_sessions < 1 or max_in_flight < 1:
        raise ProtocolViolation(
            f"{r.what}: limits out of range (max frame bytes {max_frame}, max sessions {max_sessions}, "
            f"max in flight {max_in_flight}); expected 1024 to 1 GiB, 1 or more, 1 or more")
    return Welcome(version, TokenKind(kind), input_size, output_size, max_frame, max_sessions, max_in_flight, idle, model)


def _error(r: _Reader) -> ErrorFrame:
    sequence, session = r.header()
    code = r.u16("code")
    message = r.str16("message")
    position = r.position() if code in (10, 11, 14) else None
    output = r.f32s(r.u32("original output count"), "original output") if code == 10 and r.at < len(r.body) else None
    return ErrorFrame(sequence, session, code, message, position, output)


def _output(r: _Reader) -> OutputFrame:
    sequence, session = r.header()
    position = r.position()
    return OutputFrame(sequence, session, position, r.f32s(r.u32("output count"), "output"))


def _snapshot_reply(r: _Reader) -> SnapshotReplyFrame:
    sequence, session = r.header()
    return SnapshotReplyFrame(sequence, session, bytes(r.take(r.u32("snapshot length"), "snapshot")))


def _replay_outputs(r: _Reader) -> ReplayOutputsFrame:
    sequence, session = r.header()
    position = r.position()
    steps = r.u32("steps")
    width = r.u32("width")
    if width < 1:
        raise ProtocolViolation(f"{r.what}: the width is 0; expected at least 1")
    return ReplayOutputsFrame(sequence, session, position, r.f32s(steps * width, "outputs").reshape(steps, width))


def _ack(r: _Reader) -> AckFrame:
    sequence, session = r.header()
    acknowledged = r.u8("acknowledged type")
    if acknowledged not in _ACKNOWLEDGEABLE:
        raise ProtocolViolation(f"{r.what}: acknowledges frame type 0x{acknowledged:02X}; expected Open, Restore, Reset or Close")
    return AckFrame(sequence, session, FrameType(acknowledged))


_DECODERS = {
    FrameType.WELCOME: _welcome,
    FrameType.PING: lambda r: PingFrame(r.u64("nonce")),
    FrameType.PONG: lambda r: PongFrame(r.u64("nonce")),
    FrameType.ERROR: _error,
    FrameType.OUTPUT: _output,
    FrameType.SNAPSHOT_REPLY: _snapshot_reply,
    FrameType.REPLAY_OUTPUTS: _replay_outputs,
    FrameType.ACK: _ack,
}
