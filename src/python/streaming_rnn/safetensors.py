"""The safetensors format, written and read without the ``safetensors`` package.

Layout (as ``safetensors.torch.save_file`` writes it): an 8-byte little-endian header length N; N bytes of JSON,
``{"<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ..., "__metadata__": {...}}``, padded
with spaces to a multiple of 8 bytes; then the tensors' raw little-endian bytes, offsets counted from the end of
the header. The server's reader (src/Cells/Weights) reads F32, F16, BF16 and F64; this writer writes F32.
"""

from __future__ import annotations

import json
import os
import struct
from typing import Dict, Mapping, Optional

import numpy as np

_DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8", "I32": "<i4"}


def dumps(tensors: Mapping[str, np.ndarray], metadata: Optional[Mapping[str, str]] = None) -> bytes:
    """The safetensors bytes of ``tensors`` (each written as F32, in name order)."""
    header: Dict[str, object] = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4")
        raw = data.tobytes()
        header[name] = {"dtype": "F32", "shape": list(data.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = dict(metadata)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def save(path: str, tensors: Mapping[str, np.ndarray], metadata: Optional[Mapping[str, str]] = None) -> None:
    """Writes ``tensors`` to ``path``: beside it first, then moved over it, so no reader ever sees half a file."""
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "wb") as f:
        f.write(dumps(tensors, metadata))
    os.replace(temporary, path)


def load(path: str) -> Dict[str, np.ndarray]:
    """Reads a safetensors file (F32, F64, F16, I64, I32 tensors) into numpy arrays, keyed by name."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    data = memoryview(raw)[8 + length:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype=_DTYPES[entry["dtype"]]).reshape(entry["shape"]).copy()
    return tensors
