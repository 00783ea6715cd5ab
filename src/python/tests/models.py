"""The PyTorch modules the tests export: every recurrent kind, bare and wrapped."""

from __future__ import annotations

import torch
from torch import nn


class CharModel(nn.Module):
    """The usual language model: ids -> embedding -> LSTM -> Linear, as users write it."""

    def __init__(self, vocabulary=20, width=6, hidden=8, layers=2):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, width)
        self.rnn = nn.LSTM(width, hidden, num_layers=layers)
        self.head = nn.Linear(hidden, vocabulary)

    def forward(self, ids, state=None):
        out, state = self.rnn(self.embedding(ids), state)
        return self.head(out), state


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(5, 7, num_layers=2, batch_first=True)


class NestedGru(nn.Module):
    """Embedding and a GRU one level down, no head: the prefixes are 'tok.' and 'encoder.rnn.'."""

    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(11, 5)
        self.encoder = Encoder()

    def forward(self, ids):
        return self.encoder.rnn(self.tok(ids))[0]


class Regressor(nn.Module):
    """Vectors in, batch_first LSTM with a projection, a Linear head without bias, dropout between (inactive)."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 9, num_layers=2, proj_size=4, batch_first=True, dropout=0.25)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(4, 2, bias=False)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.out(self.drop(y))


class Tagger(nn.Module):
    """Embedding, bidirectional GRU, head on both directions: served for replay only."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(13, 4)
        self.rnn = nn.GRU(4, 5, bidirectional=True)
        self.head = nn.Linear(10, 3)

    def forward(self, ids):
        return self.head(self.rnn(self.embedding(ids))[0])


def build(kind: str) -> nn.Module:
    """A fresh module of the given kind, with weights from a seed of its own."""
    torch.manual_seed(sum(map(ord, kind)))
    factories = {
        "rnn-tanh": lambda: nn.RNN(4, 6),
        "rnn-relu-2-nobias": lambda: nn.RNN(4, 6, num_layers=2, nonlinearity="relu", bias=False),
        "lstm-3": lambda: nn.LSTM(5, 7, num_layers=3),
        "lstm-proj-2": lambda: nn.LSTM(4, 8, num_layers=2, proj_size=3),
        "lstm-nobias-batch-first-dropout": lambda: nn.LSTM(3, 5, num_layers=2, bias=False, batch_first=True, dropout=0.3),
        "gru-2": lambda: nn.GRU(4, 6, num_layers=2),
        "gru-3-batch-first": lambda: nn.GRU(3, 4, num_layers=3, batch_first=True),
        "lstm-bidirectional-2": lambda: nn.LSTM(3, 5, num_layers=2, bidirectional=True),
        "lstm-proj-bidirectional": lambda: nn.LSTM(3, 6, proj_size=2, bidirectional=True),
        "gru-bidirectional-3": lambda: nn.GRU(3, 4, num_layers=3, bidirectional=True),
        "rnn-relu-bidirectional": lambda: nn.RNN(3, 4, nonlinearity="relu", bidirectional=True),
        "char-model": CharModel,
        "nested-gru": NestedGru,
        "regressor": Regressor,
        "tagger": Tagger,
    }
    return factories[kind]()
