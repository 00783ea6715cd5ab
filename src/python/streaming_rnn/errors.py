"""Errors: one class per error code of docs/protocol.md, plus what can go wrong with the connection itself.

Every error this package raises about the server or the connection is a :class:`StreamingError`.
An Error frame from the server becomes a :class:`ServerError` subclass chosen by its code (an unknown
code gives :class:`ServerError` itself), carrying ``code``, ``message``, ``session``, ``sequence`` and, for
DuplicateToken (10) and PositionAhead (11), the session's ``position``.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Optional


class ErrorCode(IntEnum):
    """The u16 code of an Error frame (docs/protocol.md, "Error codes")."""

    INVALID_INPUT = 1
    UNKNOWN_SESSION = 2
    SESSION_ALREADY_OPEN = 3
    TOKENS_NOT_SUPPORTED = 4
    MODEL_MISMATCH = 5
    INVALID_STATE = 6
    SESSION_EXPIRED = 7
    ENGINE_STOPPED = 8
    MALFORMED_SNAPSHOT = 9
    DUPLICATE_TOKEN = 10
    POSITION_AHEAD = 11
    STORE_FAILED = 12
    NOT_READY = 13
    SESSION_UNAVAILABLE = 14
    GENERATION_NOT_SUPPORTED = 15
    GENERATION_INTERRUPTED = 16
    FRAME_TOO_LARGE = 100
    TRUNCATED_FRAME = 101
    UNKNOWN_FRAME_TYPE = 102
    MALFORMED_FRAME = 103
    BAD_HANDSHAKE = 104
    UNSUPPORTED_VERSION = 105
    INVALID_SESSION_ID = 106
    TOO_MANY_SESSIONS = 107
    TOO_MANY_TOKENS_IN_FLIGHT = 108
    UNEXPECTED_FRAME = 109
    IDLE_TIMEOUT = 110
    INTERNAL_ERROR = 111
    TOO_MANY_CONNECTIONS = 112


# The codes of an Error frame that is the server's last on a connection (with sequence 0 and no session).
CONNECTION_ENDING_CODES = frozenset(range(100, 107)) | {ErrorCode.IDLE_TIMEOUT, ErrorCode.TOO_MANY_CONNECTIONS, ErrorCode.ENGINE_STOPPED}


class StreamingError(Exception):
    """Base of every error about the server or the connection."""


class ServerError(StreamingError):
    """The server refused a request with an Error frame.

    Attributes: ``code`` (int), ``message`` (the server's text), ``session`` (empty for a connection-level
    error), ``sequence`` (the refused frame's sequence number; 0 when the server could not read it) and
    ``position`` (the session's position for DuplicateToken and PositionAhead, the token's own for
    SessionUnavailable, else None) and ``output`` (DuplicateToken: the token's original output as a float32 array,
    when the server still kept it, else None).
    """

    def __init__(self, code: int, message: str, session: str = "", sequence: int = 0, position: Optional[int] = None,
                 output=None):
        self.code = code
        self.message = message
        self.session = session
        self.sequence = sequence
        self.position = position
        self.output = output
        try:
            name = ErrorCode(code).name
        except ValueError:
            name = "error"
        where = f" for session '{session}'" if session else ""
        at = f" (session position {position})" if position is not None else ""
        super().__init__(f"{name} ({code}){where}: {message}{at}")

    @property
    def ends_connection(self) -> bool:
        """Whether this is the server's last frame on the connection (docs/protocol.md, "How a connection ends")."""
        return self.sequence == 0 and self.session == "" and self.code in CONNECTION_ENDING_CODES


class InvalidInputError(ServerError, ValueError):
    """1: a token or replay input of the wrong length, a NaN or infinity, an id outside the vocabulary, or the wrong kind."""


class UnknownSessionError(ServerError, KeyError):
    """2: the session is not open."""

    __str__ = Exception.__str__  # KeyError would quote the message


class SessionAlreadyOpenError(ServerError):
    """3: an open named a session that is open."""


class TokensNotSupportedError(ServerError):
    """4: a token for a model with a bidirectional layer, which serves replay only."""


class ModelMismatchError(ServerError):
    """5: a snapshot of another model or shape, or an open naming a model the server does not serve."""


class InvalidStateError(ServerError, ValueError):
    """6: an h0/c0 of the wrong size or with non-finite values, or a c0 for a model without a cell state."""


class SessionExpiredError(ServerError):
    """7: the session was idle past its time-to-live and has been deleted; an open starts it afresh."""


class EngineStoppedError(ServerError):
    """8: the server is shutting down."""


class MalformedSnapshotError(ServerError, ValueError):
    """9: a restore's bytes are not a valid snapshot."""


class DuplicateTokenError(ServerError):
    """10: the token's position is below the session's: it was applied already. ``position`` is the next one the session
    accepts; ``output`` is the token's original output when the server kept it (its most recent tokens'), so a resend
    after lost answers still delivers every output."""


class PositionAheadError(ServerError):
    """11: the token's position is beyond the session's: earlier tokens are missing. Resend from ``position``."""


class StoreFailedError(ServerError):
    """12: the server's snapshot store failed; the message says what became of the request."""


class NotReadyError(ServerError):
    """13: the server is not ready (a cluster node not yet joined, or leaving); nothing was applied. Retry later or elsewhere."""


class SessionUnavailableError(ServerError):
    """14: the session's owner did not answer before the token's deadline (its shard is moving). Resend from ``position`` later."""


class GenerationNotSupportedError(ServerError):
    """15: the model cannot generate, or the server does not serve generation (a cluster node, for now)."""


class GenerationInterruptedError(ServerError):
    """16: a close, shutdown or eviction of the session stopped its generation; every step sent before it stays valid."""


class ProtocolError(ServerError):
    """A protocol code (100 and up): the server found fault with a frame or with the connection's limits."""


class TooManySessionsError(ProtocolError):
    """107: an open or restore would exceed the sessions allowed per connection."""


class TooManyTokensInFlightError(ProtocolError):
    """108: a token or replay would exceed the frames allowed in flight for its session."""


_BY_CODE = {
    ErrorCode.INVALID_INPUT: InvalidInputError,
    ErrorCode.UNKNOWN_SESSION: UnknownSessionError,
    ErrorCode.SESSION_ALREADY_OPEN: SessionAlreadyOpenError,
    ErrorCode.TOKENS_NOT_SUPPORTED: TokensNotSupportedError,
    ErrorCode.MODEL_MISMATCH: ModelMismatchError,
    ErrorCode.INVALID_STATE: InvalidStateError,
    ErrorCode.SESSION_EXPIRED: SessionExpiredError,
    ErrorCode.ENGINE_STOPPED: EngineStoppedError,
    ErrorCode.MALFORMED_SNAPSHOT: MalformedSnapshotError,
    ErrorCode.DUPLICATE_TOKEN: DuplicateTokenError,
    ErrorCode.POSITION_AHEAD: PositionAheadError,
    ErrorCode.STORE_FAILED: StoreFailedError,
    ErrorCode.NOT_READY: NotReadyError,
    ErrorCode.SESSION_UNAVAILABLE: SessionUnavailableError,
    ErrorCode.GENERATION_NOT_SUPPORTED: GenerationNotSupportedError,
    ErrorCode.GENERATION_INTERRUPTED: GenerationInterruptedError,
    ErrorCode.TOO_MANY_SESSIONS: TooManySessionsError,
    ErrorCode.TOO_MANY_TOKENS_IN_FLIGHT: TooManyTokensInFlightError,
}


def server_error(code: int, message: str, session: str = "", sequence: int = 0, position: Optional[int] = None,
                 output=None) -> ServerError:
    """The ServerError subclass for ``code``: the class of the table above, ProtocolError for other codes from 100, else ServerError."""
    cls = _BY_CODE.get(code) or (ProtocolError if code >= 100 else ServerError)
    return cls(code, message, session, sequence, position, output)


class ConnectionFailed(StreamingError, ConnectionError):
    """The client could not connect, or the server closed the connection during the handshake.

    A server that refuses the handshake with an Error (BadHandshake, UnsupportedVersion, EngineStopped) raises that
    error's ServerError instead.
    """


class ConnectionLost(StreamingError, ConnectionError):
    """The connection ended before the request was answered (the server closed it, crashed or became unreachable).

    The request may or may not have been applied: resend tokens with positions to find out
    (docs/protocol.md, "Resending after a failure"). ``error`` is the server's last Error frame when it sent
    one (EngineStopped on shutdown, IdleTimeout, a framing violation), else None.
    """

    def __init__(self, message: str, error: Optional[ServerError] = None):
        self.error = error
        super().__init__(message if error is None else f"{message}: {error}")


class ProtocolViolation(StreamingError):
    """The server sent bytes that do not follow docs/protocol.md; the client closes the connection."""
