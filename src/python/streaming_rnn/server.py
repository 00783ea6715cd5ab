"""Starts the streaming server (``Streaming.Host.dll serve``) as a child process, for development and tests.

In production, run ``serve`` as README.md describes; this helper runs the same program on a free port with an
in-memory session store, and knows the port when the server says it listens.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from typing import List, Optional, Sequence

# Not STREAMING_*: serve reads every such variable as one of its settings and refuses names it does not know.
HOST_DLL_VARIABLE = "RNN_STREAMING_HOST_DLL"
_LISTENING = re.compile(r"at (\d+\.\d+\.\d+\.\d+|\[[0-9a-fA-F:.]+\]):(\d+) on the")


def default_host_dll() -> str:
    """``$RNN_STREAMING_HOST_DLL``, else the Release build of this repository (``src/Host/bin/Release/net10.0``)."""
    if os.environ.get(HOST_DLL_VARIABLE):
        return os.environ[HOST_DLL_VARIABLE]
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "Host", "bin", "Release", "net10.0", "Streaming.Host.dll"))


class LocalServer:
    """A running ``serve`` child process; ``host`` and ``port`` are where it listens. Stop it with :meth:`stop`."""

    def __init__(self, process: subprocess.Popen, host: str, port: int, lines: List[str]):
        self.process = process
        self.host = host
        self.port = port
        self._lines = lines

    @property
    def output(self) -> str:
        """Everything the server has printed so far."""
        return "\n".join(list(self._lines))

    def stop(self, timeout: float = 30.0) -> int:
        """Stops it gracefully (SIGTERM: it answers what it read, then ends every connection) and returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill(self) -> None:
        """Ends it at once (SIGKILL), as a crash would."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def __enter__(self) -> "LocalServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(model: str, *, port: int = 0, store: str = "memory", backend: Optional[str] = None,
          host_dll: Optional[str] = None, extra_args: Sequence[str] = (), start_timeout: float = 60.0,
          env: Optional[dict] = None) -> LocalServer:
    """Starts ``dotnet <host_dll> serve --model <model> --port <port> --store <store>`` and waits until it listens.

    ``host_dll`` defaults to :func:`default_host_dll` (build it with ``dotnet build Streaming.sln -c Release``).
    ``port`` 0 picks a free one. Raises RuntimeError, with the server's output, when it exits before listening.
    """
    dll = host_dll or default_host_dll()
    if not os.path.exists(dll):
        raise FileNotFoundError(
            f"the server program {dll} does not exist; build it with 'dotnet build Streaming.sln -c Release' "
            f"or set {HOST_DLL_VARIABLE} to Streaming.Host.dll")
    arguments = ["dotnet", dll, "serve", "--model", os.path.abspath(model), "--port", str(port), "--store", store]
    if backend:
        arguments += ["--backend", backend]
    arguments += list(extra_args)
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               text=True, env={**os.environ, **(env or {})})
    lines: List[str] = []
    found = threading.Event()
    where: List[tuple] = []

    def pump() -> None:
        # Reads every line, also after start-up, so the server never blocks on a full pipe.
        for text in process.stdout:
            lines.append(text.rstrip("\n"))
            match = _LISTENING.search(text)
            if match and not where:
                where.append((match.group(1).strip("[]"), int(match.group(2))))
                found.set()
        found.set()

    threading.Thread(target=pump, name="streaming-rnn serve output", daemon=True).start()
    found.wait(start_timeout)
    if not where:
        try:
            process.wait(5)  # its output ended: it is exiting
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise RuntimeError(f"serve did not report listening within {start_timeout} s:\n" + "\n".join(lines)) from None
        raise RuntimeError(f"serve exited with {process.returncode} before listening:\n" + "\n".join(lines))
    return LocalServer(process, where[0][0], where[0][1], lines)
