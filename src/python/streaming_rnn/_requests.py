"""Builds the requests of both clients from Python and numpy arguments: checks, encoding, result conversion."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional, Union

import numpy as np

from . import protocol as p
from ._core import Request
from .snapshot import Snapshot

_I32 = (-(1 << 31), (1 << 31) - 1)


class Output(NamedTuple):
    """The answer to one token: its zero-based position in the session's stream and the model's output for it."""

    position: int
    values: np.ndarray  # (output size,) float32


def as_numpy(value: Any, dtype=None) -> np.ndarray:
    """numpy view of an array-like, a torch tensor included (detached, on the CPU)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=dtype)


def _state(value: Any) -> np.ndarray:
    """h0/c0 flattened row-major, as the protocol carries them; None is the empty vector (zeros)."""
    if value is None:
        return np.zeros(0, np.float32)
    return as_numpy(value, np.float32).reshape(-1)


def _is_id(token: Any) -> bool:
    if isinstance(token, bool):
        return False
    if isinstance(token, (int, np.integer)):
        return True
    array = as_numpy(token)
    return array.ndim == 0 and array.dtype.kind in "iu"


def _check_id(token_id: int) -> int:
    token_id = int(token_id)
    if not _I32[0] <= token_id <= _I32[1]:
        raise ValueError(f"token id {token_id} does not fit the protocol's i32")
    return token_id


def open_request(session: str, h0: Any = None, c0: Any = None, model: str = "") -> Request:
    sid = p.session_id_bytes(session)
    h, c = _state(h0), _state(c0)
    return Request(p.FrameType.OPEN, session, lambda seq: p.encode_open(seq, sid, model, h, c), lambda ack: None)


def token_request(session: str, token: Any, position: Optional[int] = None) -> Request:
    sid = p.session_id_bytes(session)
    if position is not None:
        position = int(position)
    if _is_id(token):
        token_id = _check_id(token)
        encode = lambda seq: p.encode_token_id(seq, sid, token_id, position)
    else:
        vector = as_numpy(token, np.float32)
        if vector.ndim != 1:
            raise ValueError(f"a token is an id (int) or a vector (1-D); found an array of shape {vector.shape}")
        encode = lambda seq: p.encode_token_vector(seq, sid, vector, position)
    return Request(p.FrameType.TOKEN, session, encode, lambda frame: Output(frame.position, frame.output))


def snapshot_request(session: str, num_directions: int = 1) -> Request:
    sid = p.session_id_bytes(session)
    return Request(p.FrameType.SNAPSHOT_REQUEST, session, lambda seq: p.encode_snapshot_request(seq, sid),
                   lambda frame: Snapshot.parse(frame.snapshot, num_directions))


def restore_request(session: str, snapshot: Union[Snapshot, bytes]) -> Request:
    sid = p.session_id_bytes(session)
    data = snapshot.data if isinstance(snapshot, Snapshot) else bytes(snapshot)
    return Request(p.FrameType.RESTORE, session, lambda seq: p.encode_restore(seq, sid, data), lambda ack: None)


def replay_request(session: str, inputs: Any, h0: Any = None, c0: Any = None) -> Request:
    sid = p.session_id_bytes(session)
    h, c = _state(h0), _state(c0)
    array = as_numpy(inputs)
    if array.ndim == 1 and array.dtype.kind in "iu":
        ids = array.astype(np.int64)
        if ids.size and (ids.min() < _I32[0] or ids.max() > _I32[1]):
            raise ValueError("a replay's token ids must fit the protocol's i32")
        encode = lambda seq: p.encode_replay_ids(seq, sid, ids, h, c)
        steps = ids.size
    elif array.ndim == 2:
        vectors = np.ascontiguousarray(array, dtype=np.float32)
        if vectors.shape[1] < 1:
            raise ValueError(f"a replay's vectors have at least one value each; found shape {vectors.shape}")
        encode = lambda seq: p.encode_replay_vectors(seq, sid, vectors, h, c)
        steps = vectors.shape[0]
    else:
        raise ValueError(
            "a replay takes token ids (a 1-D integer array) or vectors (a 2-D array, one row per step); "
            f"found an array of shape {array.shape} and dtype {array.dtype}")
    if steps == 0:
        raise ValueError("a replay needs at least one step")
    return Request(p.FrameType.REPLAY, session, encode, lambda outputs: outputs, steps=steps)


def reset_request(session: str) -> Request:
    sid = p.session_id_bytes(session)
    return Request(p.FrameType.RESET, session, lambda seq: p.encode_reset(seq, sid), lambda ack: None)


def close_request(session: str) -> Request:
    sid = p.session_id_bytes(session)
    return Request(p.FrameType.CLOSE, session, lambda seq: p.encode_close(seq, sid), lambda ack: None)


def ping_request() -> Request:
    return Request(p.FrameType.PING, "", p.encode_ping, lambda pong: None)


def token_list(tokens: Any) -> list:
    """The tokens of push_many: a 1-D integer array of ids or a 2-D array of vectors, one row per token."""
    array = as_numpy(tokens)
    if array.ndim == 1 and array.dtype.kind in "iu":
        return [int(t) for t in array]
    if array.ndim == 2:
        return list(np.asarray(array, dtype=np.float32))
    raise ValueError(
        f"push_many takes token ids (a 1-D integer array) or vectors (a 2-D array, one row per token); found shape {array.shape}")


def stack(outputs: list, width: int) -> np.ndarray:
    return np.stack(outputs) if outputs else np.zeros((0, width), np.float32)
