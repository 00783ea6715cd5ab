"""The codec against docs/protocol.md, byte by byte (its own examples, read from the page), and the client's
bookkeeping of sequences and frames in flight, without a server."""

from __future__ import annotations

import os
import re
import struct

import numpy as np
import pytest

from fake_server import welcome
from streaming_rnn import ProtocolViolation, Snapshot
from streaming_rnn import protocol as p
from streaming_rnn._core import ConnectionCore
from streaming_rnn._requests import snapshot_request, token_request

DOC = open(os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "protocol.md"), encoding="utf-8").read()
NO_STATE = np.zeros(0, np.float32)


def documented(prefix: str) -> bytes:
    """The hex example that follows ``prefix`` on the page, as bytes."""
    match = re.search(re.escape(prefix) + r"\s*`([0-9A-F ]+)`", DOC)
    assert match, f"docs/protocol.md has no example after '{prefix}'"
    return bytes.fromhex(match.group(1))


def test_the_hello_is_the_documented_one():
    assert p.encode_hello() == documented("Example:")


def test_tokens_are_laid_out_as_the_documented_examples():
    assert p.encode_token_vector(5, b"a", np.array([1.0], np.float32), None) == documented("vector `[1.0]`:")
    assert p.encode_token_vector(5, b"a", np.array([1.0], np.float32), 3) == documented("The same token at position 3:")


def test_the_documented_duplicate_token_error_decodes_with_its_position():
    frame = documented("session position 3:")
    assert p.decode(frame[4:]) == p.ErrorFrame(sequence=5, session="a", code=10, message="x", position=3)


def test_the_documented_duplicate_token_error_with_its_original_output_decodes_with_both():
    decoded = p.decode(documented("with the token's original output `[1.0]`:")[4:])
    assert (decoded.code, decoded.position, decoded.output.tolist()) == (10, 3, [1.0])


def test_every_client_frame_has_its_documented_fields():
    header = struct.pack("<QB", 7, 1) + b"s"
    assert p.encode_open(7, b"s", "m", np.array([1.0], np.float32), NO_STATE) == \
        struct.pack("<IB", 1 + len(header) + 2 + 1 + 4 + 4 + 4, 0x10) + header + b"\x01\x00m" + struct.pack("<IfI", 1, 1.0, 0)
    assert p.encode_token_id(7, b"s", -2, None) == struct.pack("<IB", 1 + len(header) + 5, 0x11) + header + b"\x01" + struct.pack("<i", -2)
    for encode, frame_type in ((p.encode_snapshot_request, 0x12), (p.encode_reset, 0x15), (p.encode_close, 0x16)):
        assert encode(7, b"s") == struct.pack("<IB", 1 + len(header), frame_type) + header
    assert p.encode_restore(7, b"s", b"xyz") == struct.pack("<IB", 1 + len(header) + 7, 0x13) + header + struct.pack("<I", 3) + b"xyz"
    replay = p.encode_replay_vectors(7, b"s", np.array([[1, 2], [3, 4]], np.float32), NO_STATE, NO_STATE)
    assert replay[5:] == header + struct.pack("<BII4fII", 0, 2, 2, 1, 2, 3, 4, 0, 0)
    ids = p.encode_replay_ids(7, b"s", np.array([3, 1, 4]), NO_STATE, NO_STATE)
    assert ids[5:] == header + struct.pack("<BI3iII", 1, 3, 3, 1, 4, 0, 0)
    assert p.encode_ping(9) == bytes.fromhex("0900000003") + struct.pack("<Q", 9)


def test_server_frames_decode_and_what_breaks_their_layout_is_a_violation():
    w = p.decode(welcome(model="char")[4:])
    assert (w.version, w.token_kind, w.input_size, w.output_size, w.max_in_flight, w.model) == (1, 0, 2, 3, 4, "char")
    header = struct.pack("<QB", 7, 1) + b"s"
    outputs = p.decode(b"\x22" + header + struct.pack("<qII4f", 2, 2, 2, 1, 2, 3, 4))
    assert outputs.position == 2 and outputs.outputs.tolist() == [[1, 2], [3, 4]]
    assert p.decode(b"\x23" + header + b"\x16") == p.AckFrame(7, "s", p.FrameType.CLOSE)
    for bad, reason in [
        (welcome(max_in_flight=0)[4:], "limits out of range"),
        (b"\x23" + header + b"\x11", "acknowledges frame type 0x11"),
        (b"\x05" + header + struct.pack("<HH", 10, 0), "position needs 8 byte"),
        (b"\x05" + header + struct.pack("<HHq", 2, 0, 1), "follow the last field"),
        (b"\x20" + header + struct.pack("<qI", -1, 0), "position is -1"),
        (b"\x10" + header, "only a client sends"),
        (b"\x42", "unknown type 0x42"),
    ]:
        with pytest.raises(ProtocolViolation, match=reason):
            p.decode(bad)


def test_snapshot_bytes_read_as_the_page_lays_them_out():
    def block(data: bytes) -> bytes:
        return struct.pack("<i", len(data)) + data

    def floats(values) -> bytes:
        return struct.pack(f"<i{len(values)}f", len(values), *values)

    data = b"RNNSNAP1" + block(b"m") + block(b"ab12") + struct.pack("<qi", 9, 2) + \
        floats([1, 2, 3, 4]) + floats([5, 6, 7, 8]) + floats([9, 10, 11, 12]) + floats([13, 14, 15, 16])
    snapshot = Snapshot.parse(data, num_directions=2)
    assert (snapshot.model, snapshot.weights_sha256, snapshot.position) == ("m", "ab12", 9)
    assert snapshot.h.tolist() == [[1, 2], [3, 4], [9, 10], [11, 12]]
    assert snapshot.c.tolist() == [[5, 6], [7, 8], [13, 14], [15, 16]]
    with pytest.raises(ProtocolViolation, match="follow the last layer"):
        Snapshot.parse(data + b"\x00")


def test_a_sessions_frames_beyond_the_in_flight_limit_wait_in_order_and_leave_other_sessions_alone():
    core = ConnectionCore(p.decode(welcome(max_in_flight=2)[4:]))
    sent = []
    for t in range(4):
        sent += core.submit(token_request("a", t))
    sent += core.submit(snapshot_request("a"))
    sent += core.submit(token_request("b", 9))
    assert [p_sequence(f) for f in sent] == [1, 2, 6]  # a's 3rd and 4th token and its snapshot wait
    released, done = core.received(output(1, "a"))
    assert [p_sequence(f) for f in released] == [3] and done[0][1].position == 0
    released, _ = core.received(output(2, "a"))
    assert [p_sequence(f) for f in released] == [4, 5]  # the snapshot follows the token before it
    assert core.pending_count == 4  # a: two tokens and the snapshot; b: one token


def p_sequence(frame: bytes) -> int:
    return struct.unpack("<Q", frame[5:13])[0]


def output(sequence: int, session: str) -> p.OutputFrame:
    return p.OutputFrame(sequence, session, sequence - 1, np.zeros(3, np.float32))
