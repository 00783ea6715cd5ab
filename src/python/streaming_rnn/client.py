"""The blocking client: one TCP connection, many sessions, usable from many threads at once.

Two threads serve the connection: a reader that matches answers to requests, and a writer that sends, so a
caller never blocks on the socket and the client always reads what the server answers (the server stops
reading a connection whose answers are not read). Every method waits for its answer; ``push_nowait`` and
``push_many`` pipeline tokens without waiting for each answer.
"""

from __future__ import annotations

import queue
import socket
import threading
from concurrent.futures import Future
from typing import Any, Iterable, List, Optional, Union

import numpy as np

from . import _requests as rq
from . import protocol as p
from ._core import Completion, ConnectionCore, Request
from ._requests import Output
from .errors import ConnectionFailed, ConnectionLost, ProtocolViolation, StreamingError, server_error
from .snapshot import Snapshot


class Client:
    """A connection to a streaming server.

    ``Client(host, port)`` connects and completes the handshake; ``welcome`` then says what the server's model
    takes and gives. ``timeout`` (seconds, default 60; None waits for ever) bounds each wait for an answer, and
    a wait that runs out raises TimeoutError (the request stays in flight). Use it as a context manager, or
    call :meth:`close`.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 7700, *, timeout: Optional[float] = 60.0,
                 connect_timeout: float = 10.0):
        self.timeout = timeout
        try:
            self._socket = socket.create_connection((host, port), timeout=connect_timeout)
        except OSError as e:
            raise ConnectionFailed(f"cannot connect to {host}:{port}: {e}") from e
        try:
            self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._socket.sendall(p.encode_hello())
            self.welcome = self._handshake(host, port)
            self._socket.settimeout(None)
        except BaseException:
            self._socket.close()
            raise
        self._core = ConnectionCore(self.welcome)
        self._lock = threading.Lock()
        self._outbox: "queue.Queue[Optional[bytes]]" = queue.Queue()
        self._closing = False
        self._reader = threading.Thread(target=self._read_loop, name=f"streaming-rnn reader {host}:{port}", daemon=True)
        self._writer = threading.Thread(target=self._write_loop, name=f"streaming-rnn writer {host}:{port}", daemon=True)
        self._reader.start()
        self._writer.start()

    # ------------------------------------------------------------ operations

    def open(self, session: str, h0: Any = None, c0: Any = None, *, model: str = "") -> None:
        """Opens ``session`` from ``h0``/``c0`` (zeros when None), shaped ``(num_layers * num_directions, size)`` as PyTorch's."""
        self._call(rq.open_request(session, h0, c0, model))

    def push(self, session: str, token: Any, position: Optional[int] = None) -> Output:
        """Sends one token (an int id, or a vector) and returns its :class:`Output`.

        With ``position`` (the token's zero-based index in the session's stream) the server applies it only there:
        DuplicateTokenError or PositionAheadError otherwise, each carrying the session's position.
        """
        return self._call(rq.token_request(session, token, position))

    def push_nowait(self, session: str, token: Any, position: Optional[int] = None) -> "Future[Output]":
        """Sends one token without waiting; the future gives its Output or raises its error."""
        return self._submit(rq.token_request(session, token, position))

    def push_many(self, session: str, tokens: Any, first_position: Optional[int] = None) -> np.ndarray:
        """Streams tokens one by one, pipelined, and returns their outputs ``(tokens, output size)``.

        ``tokens`` is a 1-D integer array of ids or a 2-D array of vectors. With ``first_position`` the tokens carry
        positions from there. The first refused token's error is raised after every answer has come; the tokens
        after it were still sent and applied.
        """
        items = rq.token_list(tokens)
        futures = [self.push_nowait(session, t, None if first_position is None else first_position + i)
                   for i, t in enumerate(items)]
        return rq.stack([f.values for f in self._gather(futures)], self.welcome.output_size)

    def replay(self, session: str, inputs: Any, h0: Any = None, c0: Any = None) -> np.ndarray:
        """Runs a whole sequence in bulk and returns its outputs ``(steps, output size)``.

        ``inputs``: ids (1-D integers) or vectors ``(steps, input size)``. Without h0 and c0 it starts from the
        session's state; with either, from them (None is zeros). The session keeps the final state.
        """
        return self._call(rq.replay_request(session, inputs, h0, c0))

    def snapshot(self, session: str, *, num_directions: int = 1) -> Snapshot:
        """The session's state after every request sent before this one (``num_directions`` 2 for a bidirectional model)."""
        return self._call(rq.snapshot_request(session, num_directions))

    def restore(self, session: str, snapshot: Union[Snapshot, bytes]) -> None:
        """Gives ``session`` (opened when it is not open) the snapshot's state and position."""
        self._call(rq.restore_request(session, snapshot))

    def reset(self, session: str) -> None:
        """Sets the session's state to zeros and its position to 0."""
        self._call(rq.reset_request(session))

    def close_session(self, session: str) -> None:
        """Ends the session on the server and frees its state."""
        self._call(rq.close_request(session))

    def ping(self) -> None:
        """Sends a Ping and waits for its Pong (a Ping also keeps an idle connection open)."""
        request = rq.ping_request()
        future: Future = Future()
        request.handle = future
        with self._lock:
            self._send(self._core.submit_ping(request))
        self._wait(future)

    @property
    def connection_error(self) -> Optional[ConnectionLost]:
        """Why the connection ended (with the server's last Error, if it sent one), or None while it is open."""
        return self._core.closed

    def wait_closed(self, timeout: Optional[float] = None) -> Optional[ConnectionLost]:
        """Waits until the server ends the connection (or ``timeout`` passes) and returns :attr:`connection_error`."""
        self._reader.join(timeout)
        return self._core.closed

    def close(self, timeout: Optional[float] = 10.0) -> None:
        """Closes the connection: half-closes it so the server answers every request it read, then closes it.

        Requests still unanswered after ``timeout`` seconds fail with ConnectionLost.
        """
        with self._lock:
            if self._closing:
                return
            self._closing = True
        self._outbox.put(None)
        self._reader.join(timeout)
        self._shutdown(ConnectionLost("the client closed the connection"))
        self._reader.join(1)
        self._writer.join(1)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ machinery

    def _handshake(self, host: str, port: int) -> p.Welcome:
        buffer = b""
        while True:
            frame = self._next_frame_blocking(buffer)
            if frame is not None:
                body, buffer = frame
                break
            chunk = self._socket.recv(65536)
            if not chunk:
                raise ConnectionFailed(f"{host}:{port} closed the connection during the handshake")
            buffer += chunk
        decoded = p.decode(body)
        if isinstance(decoded, p.ErrorFrame):
            raise server_error(decoded.code, decoded.message, decoded.session, decoded.sequence, decoded.position)
        if not isinstance(decoded, p.Welcome):
            raise ProtocolViolation(f"{host}:{port} answered Hello with {type(decoded).__name__}; expected Welcome")
        self._leftover = buffer
        return decoded

    @staticmethod
    def _next_frame_blocking(buffer: bytes, max_frame_bytes: int = p.LARGEST_FRAME_BYTES):
        if len(buffer) < 4:
            return None
        length = p.frame_length(buffer[:4], max_frame_bytes)
        if len(buffer) < 4 + length:
            return None
        return buffer[4:4 + length], buffer[4 + length:]

    def _submit(self, request: Request) -> Future:
        future: Future = Future()
        request.handle = future
        with self._lock:
            if self._closing and self._core.closed is None:
                raise ConnectionLost(f"the client is closed; cannot send a {request.frame_type.name} for session '{request.session}'")
            self._send(self._core.submit(request))
        return future

    def _call(self, request: Request) -> Any:
        return self._wait(self._submit(request))

    def _wait(self, future: Future) -> Any:
        return future.result(self.timeout)

    def _gather(self, futures: List[Future]) -> list:
        results, first_error = [], None
        for f in futures:
            try:
                results.append(self._wait(f))
            except StreamingError as e:
                first_error = first_error or e
        if first_error is not None:
            raise first_error
        return results

    def _send(self, frames: Iterable[bytes]) -> None:
        # Called under the lock, so frames enter the outbox in the order the core released them.
        for frame in frames:
            self._outbox.put(frame)

    def _write_loop(self) -> None:
        while True:
            frame = self._outbox.get()
            try:
                if frame is None:
                    self._socket.shutdown(socket.SHUT_WR)
                    return
                self._socket.sendall(frame)
            except OSError as e:
                self._shutdown(ConnectionLost(f"sending to the server failed ({e})"))
                return

    def _read_loop(self) -> None:
        buffer = bytearray(self._leftover)
        max_frame = self.welcome.max_frame_bytes
        try:
            while True:
                while len(buffer) >= 4:
                    length = p.frame_length(bytes(buffer[:4]), max_frame)
                    if len(buffer) < 4 + length:
                        break
                    body = bytes(buffer[4:4 + length])
                    del buffer[:4 + length]
                    self._dispatch(p.decode(body))
                chunk = self._socket.recv(1 << 16)
                if not chunk:
                    self._shutdown(ConnectionLost(
                        "the server closed the connection" + (" inside a frame" if buffer else "") + " before answering"))
                    return
                buffer += chunk
        except ProtocolViolation as e:
            self._shutdown(ConnectionLost(f"the server broke the protocol ({e})"))
        except OSError as e:
            self._shutdown(ConnectionLost(f"the connection failed ({e})"))

    def _dispatch(self, frame: p.ServerFrame) -> None:
        with self._lock:
            to_send, completions = self._core.received(frame)
            self._send(to_send)
            ended = self._core.closed
        _resolve(completions)
        if ended is not None:
            # The server's last frame (EngineStopped, IdleTimeout, a violation): close our side, as the protocol asks.
            self._shutdown(ended)

    def _shutdown(self, error: ConnectionLost) -> None:
        with self._lock:
            completions = self._core.fail_all(error)
            self._closing = True
        _resolve(completions)
        self._outbox.put(None)
        try:
            # shutdown, not just close: it wakes the reader thread blocked in recv.
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._socket.close()


def _resolve(completions: List[Completion]) -> None:
    for request, result, error in completions:
        future: Future = request.handle
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
