"""The client's side of one connection, without I/O: sequence numbers, matching replies to requests, and the
per-session limit on frames in flight. The blocking and the asyncio client both drive one of these.

A request's answer is matched by its sequence number (numbered per connection from 1, so every Error can be
matched). Token and Replay frames count against the Welcome's ``max_in_flight`` per session: a request that would
exceed it waits in its session's queue (with every later request of that session, so the session's order holds)
and is sent when an answer frees a place. Nothing here blocks: each call returns the frames to send now and the
requests that completed, which the caller resolves outside any lock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

import numpy as np

from . import protocol as p
from .errors import ConnectionLost, ProtocolViolation, ServerError, server_error

# (request, result, exception): exactly one of result and exception is meaningful.
Completion = Tuple["Request", Any, Optional[BaseException]]


@dataclass(eq=False)
class Request:
    """One request: how to encode it once numbered, and how to turn its answer into the caller's result."""

    frame_type: p.FrameType
    session: str
    encode: Callable[[int], bytes]
    finish: Callable[[Any], Any] = lambda reply: reply
    steps: int = 0  # Replay: the steps whose outputs answer it
    handle: Any = None  # the caller's future
    sequence: int = 0
    parts: List[np.ndarray] = field(default_factory=list)
    received: int = 0

    @property
    def counts_in_flight(self) -> bool:
        return self.frame_type in (p.FrameType.TOKEN, p.FrameType.REPLAY)


@dataclass(eq=False)
class _Lane:
    in_flight: int = 0
    waiting: Deque[Tuple[Request, bytes]] = field(default_factory=deque)


class ConnectionCore:
    def __init__(self, welcome: p.Welcome):
        self.welcome = welcome
        self._next_sequence = 1
        self._next_nonce = 1
        self._pending: Dict[int, Request] = {}
        self._pings: Dict[int, Request] = {}
        self._lanes: Dict[str, _Lane] = {}
        self.closed: Optional[ConnectionLost] = None
        self.stray_error: Optional[ServerError] = None

    @property
    def pending_count(self) -> int:
        return len(self._pending) + len(self._pings)

    def submit(self, request: Request) -> List[bytes]:
        """Numbers and encodes the request; returns it to send now, or nothing when its session's queue holds it."""
        if self.closed is not None:
            raise ConnectionLost(f"cannot send a {request.frame_type.name} for session '{request.session}'", self.closed.error) from self.closed
        sequence = self._next_sequence
        frame = request.encode(sequence)
        if len(frame) > self.welcome.max_frame_bytes:
            raise ValueError(
                f"the {request.frame_type.name} frame for session '{request.session}' takes {len(frame)} bytes; "
                f"the server's maximum frame size is {self.welcome.max_frame_bytes} (split a replay into shorter ones)")
        self._next_sequence += 1
        request.sequence = sequence
        self._pending[sequence] = request
        lane = self._lanes.setdefault(request.session, _Lane())
        if lane.waiting or (request.counts_in_flight and lane.in_flight >= self.welcome.max_in_flight):
            lane.waiting.append((request, frame))
            return []
        if request.counts_in_flight:
            lane.in_flight += 1
        return [frame]

    def submit_ping(self, request: Request) -> List[bytes]:
        if self.closed is not None:
            raise ConnectionLost("cannot ping", self.closed.error) from self.closed
        nonce = self._next_nonce
        self._next_nonce += 1
        self._pings[nonce] = request
        return [request.encode(nonce)]

    def received(self, frame: p.ServerFrame) -> Tuple[List[bytes], List[Completion]]:
        """Handles one frame from the server; ProtocolViolation when it breaks the protocol."""
        if isinstance(frame, p.PingFrame):
            return [p.encode_pong(frame.nonce)], []
        if isinstance(frame, p.PongFrame):
            request = self._pings.pop(frame.nonce, None)
            return [], ([(request, None, None)] if request else [])
        if isinstance(frame, p.ErrorFrame):
            return self._error(frame)
        if isinstance(frame, p.Welcome):
            raise ProtocolViolation("the server sent a second Welcome")
        request = self._pending.get(frame.sequence)
        if request is None:
            raise ProtocolViolation(
                f"the server sent a {type(frame).__name__} with sequence {frame.sequence}, which answers no request in flight")
        if frame.session != request.session:
            raise ProtocolViolation(
                f"the server answered request {frame.sequence} of session '{request.session}' for session '{frame.session}'")
        if isinstance(frame, p.ReplayOutputsFrame) and request.frame_type == p.FrameType.REPLAY:
            request.parts.append(frame.outputs)
            request.received += frame.outputs.shape[0]
            if request.received > request.steps:
                raise ProtocolViolation(
                    f"the server sent {request.received} replay output step(s) for session '{request.session}'; the replay had {request.steps}")
            if request.received < request.steps:
                return [], []
            return self._complete(request, np.concatenate(request.parts, axis=0) if len(request.parts) > 1 else request.parts[0])
        expected = {
            p.FrameType.TOKEN: p.OutputFrame,
            p.FrameType.SNAPSHOT_REQUEST: p.SnapshotReplyFrame,
        }.get(request.frame_type, p.AckFrame)
        if not isinstance(frame, expected) or (isinstance(frame, p.AckFrame) and frame.acknowledged != request.frame_type):
            raise ProtocolViolation(
                f"the server answered a {request.frame_type.name} of session '{request.session}' with {frame}")
        return self._complete(request, frame)

    def fail_all(self, error: ConnectionLost) -> List[Completion]:
        """Ends the connection: every request not yet answered fails with ``error``."""
        if self.closed is None:
            self.closed = error
        requests = list(self._pending.values()) + list(self._pings.values())
        self._pending.clear()
        self._pings.clear()
        self._lanes.clear()
        return [(r, None, error) for r in requests]

    def _error(self, frame: p.ErrorFrame) -> Tuple[List[bytes], List[Completion]]:
        error = server_error(frame.code, frame.message, frame.session, frame.sequence, frame.position, frame.output)
        if error.ends_connection:
            return [], self.fail_all(ConnectionLost("the server ended the connection", error))
        request = self._pending.get(frame.sequence)
        if request is None:
            # Answers nothing we sent (sequence 0: a frame the server could not read). Our frames are always
            # readable, so no request of ours waits for it; it is kept for inspection, not raised.
            self.stray_error = error
            return [], []
        return self._complete(request, None, error)

    def _complete(self, request: Request, reply: Any, error: Optional[ServerError] = None) -> Tuple[List[bytes], List[Completion]]:
        del self._pending[request.sequence]
        to_send: List[bytes] = []
        lane = self._lanes.get(request.session)
        if lane is None:
            return self._result(request, reply, error, to_send)
        if request.counts_in_flight:
            lane.in_flight -= 1
            while lane.waiting:
                head, frame = lane.waiting[0]
                if head.counts_in_flight and lane.in_flight >= self.welcome.max_in_flight:
                    break
                lane.waiting.popleft()
                if head.counts_in_flight:
                    lane.in_flight += 1
                to_send.append(frame)
        if not lane.in_flight and not lane.waiting:
            del self._lanes[request.session]
        return self._result(request, reply, error, to_send)

    @staticmethod
    def _result(request: Request, reply: Any, error: Optional[ServerError], to_send: List[bytes]) -> Tuple[List[bytes], List[Completion]]:
        if error is not None:
            return to_send, [(request, None, error)]
        try:
            return to_send, [(request, request.finish(reply), None)]
        except Exception as e:  # a reply the caller's conversion refuses (a malformed snapshot, say)
            return to_send, [(request, None, e)]
