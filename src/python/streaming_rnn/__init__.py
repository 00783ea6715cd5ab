"""streaming_rnn: export PyTorch recurrent modules to the streaming server, and talk to it.

- :func:`export` writes a module as a manifest + safetensors weights (+ optionally a recording of its outputs).
- :class:`Client` (blocking, thread-safe) and :class:`AsyncClient` (asyncio) speak the TCP protocol of
  docs/protocol.md: open, push, replay, snapshot, restore, reset, close, ping; many sessions on one connection.
- :func:`serve` starts the server as a child process (development and tests).

Only numpy is required; torch is imported by :func:`export` alone.
"""

from .aio import AsyncClient
from .client import Client
from .errors import (
    ConnectionFailed,
    ConnectionLost,
    DuplicateTokenError,
    EngineStoppedError,
    ErrorCode,
    GenerationInterruptedError,
    GenerationNotSupportedError,
    InvalidInputError,
    InvalidStateError,
    MalformedSnapshotError,
    ModelMismatchError,
    PositionAheadError,
    ProtocolError,
    ProtocolViolation,
    ServerError,
    SessionAlreadyOpenError,
    SessionExpiredError,
    StoreFailedError,
    NotReadyError,
    SessionUnavailableError,
    StreamingError,
    TokensNotSupportedError,
    TooManySessionsError,
    TooManyTokensInFlightError,
    UnknownSessionError,
)
from .export import Exported, ExportError, export
from ._requests import Output
from .protocol import Welcome
from .server import LocalServer, serve
from .snapshot import Snapshot

__version__ = "0.1.0"

__all__ = [
    "AsyncClient", "Client", "ConnectionFailed", "ConnectionLost", "DuplicateTokenError", "EngineStoppedError",
    "ErrorCode", "ExportError", "Exported", "GenerationInterruptedError", "GenerationNotSupportedError", "InvalidInputError", "InvalidStateError", "LocalServer",
    "MalformedSnapshotError", "ModelMismatchError", "Output", "PositionAheadError", "ProtocolError",
    "ProtocolViolation", "ServerError", "SessionAlreadyOpenError", "SessionExpiredError", "Snapshot",
    "StoreFailedError", "NotReadyError", "SessionUnavailableError", "StreamingError", "TokensNotSupportedError", "TooManySessionsError",
    "TooManyTokensInFlightError", "UnknownSessionError", "Welcome", "export", "serve",
]
