"""Shared fixtures: Debian's PyTorch as the oracle, `serve` child processes, and the worst error seen.

torch is imported here, unconditionally: without python3-torch the run fails instead of skipping.
"""

from __future__ import annotations

import os
import socket

import numpy as np
import pytest
import torch

from streaming_rnn import export, serve
from streaming_rnn.server import default_host_dll

TOLERANCE = 1e-5  # fp32 parity with PyTorch, as everywhere in this project

# One thread per process: the server and the tests share two cores.
torch.set_num_threads(1)

_worst = {"error": 0.0, "where": ""}


def assert_close(served, expected, where: str) -> float:
    """Asserts |served - expected| <= TOLERANCE element-wise, and remembers the worst difference of the run."""
    served = np.asarray(served, dtype=np.float64)
    expected = expected.detach().double().numpy() if torch.is_tensor(expected) else np.asarray(expected, dtype=np.float64)
    assert served.shape == expected.shape, f"{where}: served shape {served.shape}, PyTorch's {expected.shape}"
    error = float(np.abs(served - expected).max()) if served.size else 0.0
    if error > _worst["error"]:
        _worst.update(error=error, where=where)
    assert error <= TOLERANCE, f"{where}: served outputs differ from PyTorch's by up to {error:.3g} (> {TOLERANCE})"
    return error


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(
        f"worst |served - PyTorch| over the run: {_worst['error']:.3g}" + (f" ({_worst['where']})" if _worst["where"] else ""))


@pytest.fixture(scope="session")
def host_dll() -> str:
    dll = default_host_dll()
    assert os.path.exists(dll), f"{dll} is missing: run 'dotnet build Streaming.sln -c Release' first (or set RNN_STREAMING_HOST_DLL)"
    return dll


class Served:
    """A model exported from a PyTorch module and served by a `serve` child process."""

    def __init__(self, module, exported, server):
        self.module = module
        self.exported = exported
        self.server = server

    @property
    def port(self) -> int:
        return self.server.port


def start(module, directory, name: str, host_dll: str, **export_options) -> Served:
    exported = export(module, os.path.join(directory, f"{name}.json"), **export_options)
    return Served(module, exported, serve(exported.manifest_path, host_dll=host_dll))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
