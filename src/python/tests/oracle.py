"""The module's own forward pass, the reference every served output is compared with."""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from torch import nn


class Oracle:
    """Runs a module as PyTorch does, one unbatched sequence at a time, from a given state or zeros.

    From zeros the outputs come from the module's own ``forward``. From a given h0/c0 a wrapper's forward may
    take no state, so they come from its own submodules (embedding, recurrent, head) chained as its forward
    chains them; export checked that the two agree.
    """

    def __init__(self, module: nn.Module):
        self.module = module.eval()
        self.rnn = next(m for m in module.modules() if isinstance(m, nn.RNNBase))
        self.embedding = next((m for m in module.modules() if isinstance(m, nn.Embedding)), None)
        self.head = next((m for m in module.modules() if isinstance(m, nn.Linear)), None)
        self.is_lstm = self.rnn.mode == "LSTM"
        self.directions = 2 if self.rnn.bidirectional else 1
        self.rows = self.rnn.num_layers * self.directions
        self.output_size = self.rnn.proj_size or self.rnn.hidden_size

    def random_inputs(self, steps: int, generator: np.random.Generator) -> np.ndarray:
        if self.embedding is not None:
            return generator.integers(0, self.embedding.num_embeddings, steps)
        return (generator.standard_normal((steps, self.rnn.input_size)) * 0.7).astype(np.float32)

    def random_state(self, generator: np.random.Generator):
        h0 = generator.uniform(-0.5, 0.5, (self.rows, self.output_size)).astype(np.float32)
        c0 = generator.uniform(-0.5, 0.5, (self.rows, self.rnn.hidden_size)).astype(np.float32) if self.is_lstm else None
        return h0, c0

    def run(self, x: np.ndarray, h0: Optional[np.ndarray] = None, c0: Optional[np.ndarray] = None):
        """(outputs (steps, output size), h_n (rows, output size), c_n or None), as float64 tensors."""
        axis = 0 if self.rnn.batch_first else 1
        with torch.no_grad():
            batched = torch.as_tensor(x).unsqueeze(axis)
            state = None
            if h0 is not None or c0 is not None:
                h = torch.as_tensor(h0 if h0 is not None else np.zeros((self.rows, self.output_size), np.float32))
                if self.is_lstm:
                    c = torch.as_tensor(c0 if c0 is not None else np.zeros((self.rows, self.rnn.hidden_size), np.float32))
                    state = (h.unsqueeze(1), c.unsqueeze(1))
                else:
                    state = h.unsqueeze(1)
            embedded = self.embedding(batched) if self.embedding is not None else batched
            out, final = self.rnn(embedded, state)
            outputs = self.head(out) if self.head is not None else out
            if state is None and self.module is not self.rnn:
                own = self.module(batched)
                outputs = own[0] if isinstance(own, tuple) else own
            h_n, c_n = final if self.is_lstm else (final, None)
            return (outputs.squeeze(axis).double(), h_n.squeeze(1).double(),
                    None if c_n is None else c_n.squeeze(1).double())
