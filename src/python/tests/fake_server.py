"""A scripted TCP peer that speaks just enough of the protocol to make a connection fail in a chosen way."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Callable


def welcome(input_size=2, output_size=3, max_frame=1 << 20, max_sessions=8, max_in_flight=4, idle_ms=0, model="fake") -> bytes:
    """A Welcome frame, laid out as docs/protocol.md says (offsets 5 to 32)."""
    name = model.encode()
    body = struct.pack("<HBIIIIIIH", 1, 0, input_size, output_size, max_frame, max_sessions, max_in_flight, idle_ms, len(name)) + name
    return struct.pack("<IB", 1 + len(body), 0x02) + body


def error(code: int, message: str, sequence: int = 0, session: str = "") -> bytes:
    text, sid = message.encode(), session.encode()
    body = struct.pack("<QB", sequence, len(sid)) + sid + struct.pack("<HH", code, len(text)) + text
    return struct.pack("<IB", 1 + len(body), 0x05) + body


def read_frame(connection: socket.socket) -> bytes:
    """One whole frame, prefix included; b'' when the peer closed."""
    prefix = _read(connection, 4)
    if len(prefix) < 4:
        return b""
    return prefix + _read(connection, struct.unpack("<I", prefix)[0])


def _read(connection: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return data


class FakeServer:
    """Accepts one connection and runs ``script(connection, hello)`` on it in a thread of its own."""

    def __init__(self, script: Callable[[socket.socket, bytes], None]):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.received = []
        self._thread = threading.Thread(target=self._run, args=(script,), daemon=True)
        self._thread.start()

    def _run(self, script):
        connection, _ = self._listener.accept()
        with connection:
            script(connection, read_frame(connection))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._thread.join(10)
        self._listener.close()
