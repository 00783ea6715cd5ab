"""A session's state as the server hands it out (SnapshotReply) and takes it back (Restore).

The bytes are the server's snapshot format, version 1 (docs/protocol.md, "Snapshot bytes"); a client may
keep them, restore them anywhere, and read the state they hold.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from .errors import ProtocolViolation

MAGIC = b"RNNSNAP1"


@dataclass(frozen=True)
class Snapshot:
    """A session's complete state after exactly the requests sent before the snapshot.

    ``data`` is what :meth:`Client.restore` sends back. ``layers`` holds per layer, from the input up, ``(h, c)``:
    h of shape ``(num_directions, output size)``, c of shape ``(num_directions, hidden_size)`` or None (RNN, GRU).
    The bytes do not say ``num_directions``; the rows are split by the one given to ``snapshot()`` (default 1).
    """

    data: bytes = field(repr=False)
    model: str
    weights_sha256: str
    position: int
    layers: List[tuple] = field(repr=False)

    @property
    def h(self) -> np.ndarray:
        """h of every layer in PyTorch's ``h_n`` layout without the batch axis: ``(num_layers * num_directions, output size)``."""
        return np.concatenate([h for h, _ in self.layers], axis=0)

    @property
    def c(self) -> Optional[np.ndarray]:
        """c in PyTorch's ``c_n`` layout without the batch axis, ``(num_layers * num_directions, hidden_size)``; None without a cell state."""
        if any(c is None for _, c in self.layers):
            return None
        return np.concatenate([c for _, c in self.layers], axis=0)

    @staticmethod
    def parse(data: bytes, num_directions: int = 1) -> "Snapshot":
        """Reads the snapshot bytes; ``num_directions`` (2 for a bidirectional model) shapes each layer's rows."""
        return _parse(bytes(data), num_directions)


def _parse(data: bytes, num_directions: int) -> Snapshot:
    at = 0

    def take(count: int, what: str) -> bytes:
        nonlocal at
        if count < 0 or count > len(data) - at:
            raise ProtocolViolation(f"snapshot: the {what} needs {count} byte(s) at byte {at} but the snapshot has {len(data)}")
        chunk = data[at:at + count]
        at += count
        return chunk

    def i32(what: str) -> int:
        return struct.unpack("<i", take(4, what))[0]

    if take(len(MAGIC), "magic") != MAGIC:
        raise ProtocolViolation(f"snapshot: the bytes do not start with {MAGIC.decode()}")
    model = take(i32("model name length"), "model name").decode("utf-8")
    weights = take(i32("weights hash length"), "weights hash").decode("utf-8")
    (position,) = struct.unpack("<q", take(8, "position"))
    layers = []
    for layer in range(i32("layer count")):
        h = np.frombuffer(take(4 * i32(f"layer {layer} h count"), f"layer {layer} h"), dtype="<f4").astype(np.float32)
        c = np.frombuffer(take(4 * i32(f"layer {layer} c count"), f"layer {layer} c"), dtype="<f4").astype(np.float32)
        layers.append((h.reshape(num_directions, -1), c.reshape(num_directions, -1) if c.size else None))
    if at != len(data):
        raise ProtocolViolation(f"snapshot: {len(data) - at} byte(s) follow the last layer")
    return Snapshot(data, model, weights, position, layers)
