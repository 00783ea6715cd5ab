"""The asyncio client: the same operations as :class:`streaming_rnn.Client`, as coroutines on one event loop.

Concurrent coroutines share the connection: ``await asyncio.gather(*(c.push(s, x) for s in sessions))`` sends
every token at once and each answer resolves its own coroutine. A session's requests are sent in the order they
were made, never more in flight than the server allows (the rest wait in the client).
"""

from __future__ import annotations

import asyncio
from typing import Any, List, Optional, Union

import numpy as np

from . import _requests as rq
from . import protocol as p
from ._core import Completion, ConnectionCore, Request
from ._requests import Output
from .errors import ConnectionFailed, ConnectionLost, ProtocolViolation, server_error
from .snapshot import Snapshot


class AsyncClient:
    """A connection to a streaming server for asyncio code: ``client = await AsyncClient.connect(host, port)``.

    Use it as an async context manager, or ``await client.close()``. ``welcome`` says what the server's model takes
    and gives. Waits are unbounded; wrap a call in ``asyncio.wait_for`` to bound it.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, welcome: p.Welcome):
        self.welcome = welcome
        self._reader = reader
        self._writer = writer
        self._core = ConnectionCore(welcome)
        self._closing = False
        self._read_task = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def connect(cls, host: str = "127.0.0.1", port: int = 7700, *, connect_timeout: float = 10.0) -> "AsyncClient":
        """Connects and completes the handshake."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), connect_timeout)
        except (OSError, asyncio.TimeoutError) as e:
            raise ConnectionFailed(f"cannot connect to {host}:{port}: {e!r}") from e
        try:
            writer.write(p.encode_hello())
            body = await asyncio.wait_for(_read_frame(reader, p.LARGEST_FRAME_BYTES), connect_timeout)
            if body is None:
                raise ConnectionFailed(f"{host}:{port} closed the connection during the handshake")
            decoded = p.decode(body)
            if isinstance(decoded, p.ErrorFrame):
                raise server_error(decoded.code, decoded.message, decoded.session, decoded.sequence, decoded.position)
            if not isinstance(decoded, p.Welcome):
                raise ProtocolViolation(f"{host}:{port} answered Hello with {type(decoded).__name__}; expected Welcome")
        except BaseException:
            writer.close()
            raise
        return cls(reader, writer, decoded)

    # ------------------------------------------------------------ operations

    async def open(self, session: str, h0: Any = None, c0: Any = None, *, model: str = "") -> None:
        """Opens ``session`` from ``h0``/``c0`` (zeros when None), shaped ``(num_layers * num_directions, size)``."""
        await self._call(rq.open_request(session, h0, c0, model))

    async def push(self, session: str, token: Any, position: Optional[int] = None) -> Output:
        """Sends one token (an int id, or a vector) and returns its Output; ``position`` as in Client.push."""
        return await self._call(rq.token_request(session, token, position))

    async def push_many(self, session: str, tokens: Any, first_position: Optional[int] = None) -> np.ndarray:
        """Streams tokens one by one, pipelined; returns their outputs ``(tokens, output size)`` (see Client.push_many)."""
        items = rq.token_list(tokens)
        futures = [self._submit(rq.token_request(session, t, None if first_position is None else first_position + i))
                   for i, t in enumerate(items)]
        results = await asyncio.gather(*futures, return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                raise r
        return rq.stack([r.values for r in results], self.welcome.output_size)

    async def replay(self, session: str, inputs: Any, h0: Any = None, c0: Any = None) -> np.ndarray:
        """Runs a whole sequence in bulk; returns its outputs ``(steps, output size)`` (see Client.replay)."""
        return await self._call(rq.replay_request(session, inputs, h0, c0))

    async def snapshot(self, session: str, *, num_directions: int = 1) -> Snapshot:
        """The session's state after every request sent before this one."""
        return await self._call(rq.snapshot_request(session, num_directions))

    async def restore(self, session: str, snapshot: Union[Snapshot, bytes]) -> None:
        """Gives ``session`` (opened when it is not open) the snapshot's state and position."""
        await self._call(rq.restore_request(session, snapshot))

    async def reset(self, session: str) -> None:
        """Sets the session's state to zeros and its position to 0."""
        await self._call(rq.reset_request(session))

    async def close_session(self, session: str) -> None:
        """Ends the session on the server and frees its state."""
        await self._call(rq.close_request(session))

    async def ping(self) -> None:
        """Sends a Ping and waits for its Pong."""
        request = rq.ping_request()
        request.handle = asyncio.get_running_loop().create_future()
        self._write(self._core.submit_ping(request))
        await request.handle

    @property
    def connection_error(self) -> Optional[ConnectionLost]:
        """Why the connection ended (with the server's last Error, if it sent one), or None while it is open."""
        return self._core.closed

    async def wait_closed(self) -> Optional[ConnectionLost]:
        """Waits until the server ends the connection and returns :attr:`connection_error`."""
        await asyncio.shield(self._read_task)
        return self._core.closed

    async def close(self, timeout: float = 10.0) -> None:
        """Half-closes the connection, lets the server answer every request it read, then closes it."""
        if self._closing:
            return
        self._closing = True
        if self._core.closed is None:
            try:
                self._writer.write_eof()
            except OSError:
                pass
            try:
                await asyncio.wait_for(asyncio.shield(self._read_task), timeout)
            except asyncio.TimeoutError:
                pass
        self._shutdown(ConnectionLost("the client closed the connection"))
        try:
            await self._read_task
        except asyncio.CancelledError:
            pass

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # ------------------------------------------------------------ machinery

    def _submit(self, request: Request) -> "asyncio.Future":
        request.handle = asyncio.get_running_loop().create_future()
        if self._closing and self._core.closed is None:
            raise ConnectionLost(f"the client is closed; cannot send a {request.frame_type.name} for session '{request.session}'")
        self._write(self._core.submit(request))
        return request.handle

    async def _call(self, request: Request) -> Any:
        future = self._submit(request)
        try:
            await self._writer.drain()
        except ConnectionError:
            pass  # the read loop fails every waiting request with ConnectionLost
        return await future

    def _write(self, frames: List[bytes]) -> None:
        for frame in frames:
            self._writer.write(frame)

    async def _read_loop(self) -> None:
        try:
            while True:
                body = await _read_frame(self._reader, self.welcome.max_frame_bytes)
                if body is None:
                    self._shutdown(ConnectionLost("the server closed the connection before answering"))
                    return
                to_send, completions = self._core.received(p.decode(body))
                self._write(to_send)
                _resolve(completions)
                if self._core.closed is not None:
                    self._shutdown(self._core.closed)
                    return
        except ProtocolViolation as e:
            self._shutdown(ConnectionLost(f"the server broke the protocol ({e})"))
        except (OSError, asyncio.IncompleteReadError) as e:
            self._shutdown(ConnectionLost(f"the connection failed ({e!r})"))

    def _shutdown(self, error: ConnectionLost) -> None:
        self._closing = True
        _resolve(self._core.fail_all(error))
        self._writer.close()


async def _read_frame(reader: asyncio.StreamReader, max_frame_bytes: int) -> Optional[bytes]:
    """One frame's type byte and body; None at a clean end of the stream."""
    prefix = await reader.read(4)
    if not prefix:
        return None
    if len(prefix) < 4:
        prefix += await reader.readexactly(4 - len(prefix))
    length = p.frame_length(prefix, max_frame_bytes)
    return await reader.readexactly(length)


def _resolve(completions: List[Completion]) -> None:
    for request, result, error in completions:
        future: asyncio.Future = request.handle
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
