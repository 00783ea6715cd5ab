"""export: the files it writes are what the server loads, it refuses what the server cannot serve (naming the
module and the reason), and its recordings pass `replay` against the served model."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from models import CharModel, NestedGru, build
from streaming_rnn import ExportError, export
from streaming_rnn import safetensors


def test_a_wrappers_weights_are_written_under_its_own_state_dict_names_with_the_prefixes_in_the_manifest(tmp_path):
    module = CharModel()
    exported = export(module, str(tmp_path / "char.json"))
    manifest = json.loads((tmp_path / "char.json").read_text())
    assert manifest == exported.manifest
    assert manifest["weights"] == "char.safetensors"
    assert manifest["embedding"] == {"num_embeddings": 20, "embedding_dim": 6}
    assert manifest["head"] == {"out_features": 20, "bias": True}
    assert manifest["key_prefixes"] == {"recurrent": "rnn.", "embedding": "embedding.", "head": "head."}
    weights = safetensors.load(exported.weights_path)
    state = module.state_dict()
    assert sorted(weights) == sorted(state)
    for key, value in state.items():
        assert np.array_equal(weights[key], value.numpy()), key


def test_nested_parts_are_found_with_their_paths_as_prefixes(tmp_path):
    manifest = export(NestedGru(), str(tmp_path / "nested.json")).manifest
    assert manifest["key_prefixes"] == {"recurrent": "encoder.rnn.", "embedding": "tok."}
    assert manifest["recurrent"] == {"mode": "GRU", "input_size": 5, "hidden_size": 7, "num_layers": 2, "bias": True,
                                     "batch_first": True, "dropout": 0.0, "bidirectional": False, "proj_size": 0}
    assert "head" not in manifest


def test_a_bare_module_has_bare_keys_and_no_prefixes(tmp_path):
    exported = export(build("rnn-relu-2-nobias"), str(tmp_path / "m" / "rnn.json"))
    assert "key_prefixes" not in exported.manifest
    assert exported.manifest["recurrent"]["mode"] == "RNN_RELU" and exported.manifest["recurrent"]["bias"] is False
    assert sorted(safetensors.load(exported.weights_path)) == ["weight_hh_l0", "weight_hh_l1", "weight_ih_l0", "weight_ih_l1"]


def test_the_safetensors_file_follows_the_format_byte_for_byte(tmp_path):
    tensors = {"b": np.arange(3, dtype=np.float32), "a": np.ones((2, 2), np.float64)}
    raw = safetensors.dumps(tensors, {"format": "pt"})
    (length,) = struct.unpack("<Q", raw[:8])
    assert length % 8 == 0
    header = json.loads(raw[8:8 + length])
    assert header["a"] == {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}
    assert header["b"] == {"dtype": "F32", "shape": [3], "data_offsets": [16, 28]}
    assert header["__metadata__"] == {"format": "pt"}
    assert len(raw) == 8 + length + 28
    safetensors.save(str(tmp_path / "t.safetensors"), tensors)
    loaded = safetensors.load(str(tmp_path / "t.safetensors"))
    assert np.array_equal(loaded["a"], np.ones((2, 2))) and loaded["a"].dtype == np.float32


def test_export_leaves_the_modules_training_mode_as_it_was(tmp_path):
    module = build("regressor").train()
    export(module, str(tmp_path / "r.json"))
    assert module.training and module.lstm.training


class TwoRecurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.first, self.second = nn.LSTM(3, 4), nn.GRU(4, 4)


class Normalized(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn, self.norm = nn.GRU(3, 4), nn.LayerNorm(4)

    def forward(self, x):
        return self.norm(self.rnn(x)[0])


class Squashed(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn, self.head = nn.GRU(3, 4), nn.Linear(4, 2)

    def forward(self, x):
        return torch.tanh(self.head(self.rnn(x)[0]))


class NeedsLengths(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(3, 4)

    def forward(self, x, lengths):
        return self.rnn(x)[0]


class WithAuxiliary(nn.Module):
    """A second Linear that forward never uses (say, a training-only loss head)."""

    def __init__(self):
        super().__init__()
        self.rnn, self.head, self.aux = nn.LSTM(3, 4), nn.Linear(4, 2), nn.Linear(4, 9)

    def forward(self, x):
        return self.head(self.rnn(x)[0])


class WrongHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn, self.head = nn.LSTM(3, 4, bidirectional=True), nn.Linear(4, 2)


def weight_normed():
    return torch.nn.utils.weight_norm(nn.LSTM(3, 4), "weight_hh_l0")


def with_nan():
    module = nn.GRU(3, 4)
    with torch.no_grad():
        module.weight_hh_l0[0, 0] = float("nan")
    return module


@pytest.mark.parametrize("make, options, message", [
    (lambda: "not a module", {}, "export takes a torch.nn.Module; found str"),
    (lambda: nn.LSTMCell(3, 4), {}, "the module itself (LSTMCell) is a cell"),
    (lambda: nn.Sequential(nn.Linear(3, 3)), {}, "holds no nn.RNN, nn.LSTM or nn.GRU"),
    (TwoRecurrent, {}, "TwoRecurrent: it holds 2 modules of type nn.RNN, nn.LSTM or nn.GRU ('first' (LSTM), 'second' (GRU))"),
    (Normalized, {}, "Normalized: it has parameters the server has no place for ('norm' (LayerNorm): weight, bias)"),
    (Normalized, {"recurrent": "rnn"}, "Normalized: its forward differs from recurrent"),
    (Squashed, {}, "Squashed: its forward differs from recurrent -> head"),
    (NeedsLengths, {}, "Pass verify=False"),
    (WithAuxiliary, {}, "holds 2 modules of type nn.Linear"),
    (WrongHead, {}, "'head' (Linear): in_features is 4; the recurrent output is 8"),
    (lambda: CharModel(), {"embedding": "rnn"}, "embedding='rnn' is a LSTM; expected nn.Embedding"),
    (lambda: CharModel(), {"head": "decoder"}, "head='decoder' names no submodule"),
    (lambda: nn.Sequential(nn.Embedding(5, 3, max_norm=1.0), nn.LSTM(3, 4)), {}, "max_norm=1.0 renormalizes rows"),
    (lambda: nn.Sequential(nn.Embedding(5, 2), nn.LSTM(3, 4)), {}, "embedding_dim is 2 but the recurrent input_size is 3"),
    (weight_normed, {}, "weight_hh_l0_g"),
    (with_nan, {}, "weight 'weight_hh_l0' holds NaN or infinity"),
], ids=["not-a-module", "cell", "no-recurrent", "two-recurrent", "layernorm", "layernorm-named", "tanh-in-forward",
        "forward-needs-more", "two-linear", "head-size", "wrong-type-named", "unknown-name", "max-norm",
        "embedding-size", "weight-norm", "nan"])
def test_what_the_server_cannot_serve_is_refused_naming_the_module_and_the_reason(tmp_path, make, options, message):
    with pytest.raises(ExportError) as refused:
        export(make(), str(tmp_path / "m.json"), **options)
    assert message in str(refused.value)
    assert not os.listdir(tmp_path), "a refused export writes nothing"


def test_naming_the_parts_serves_a_wrapper_whose_forward_ignores_its_other_modules(tmp_path):
    exported = export(WithAuxiliary(), str(tmp_path / "aux.json"), head="head")
    assert exported.manifest["head"] == {"out_features": 2, "bias": True}
    assert "aux.weight" not in safetensors.load(exported.weights_path)


def test_a_forward_that_takes_more_is_exported_with_verify_off(tmp_path):
    exported = export(NeedsLengths(), str(tmp_path / "lengths.json"), verify=False)
    assert exported.manifest["key_prefixes"] == {"recurrent": "rnn."}


@pytest.mark.parametrize("kind", ["regressor", "tagger", "lstm-proj-2"])
def test_a_recording_of_the_modules_own_outputs_passes_replay_against_the_served_model(tmp_path, host_dll, kind):
    module = build(kind)
    rng = np.random.default_rng(11)
    if kind == "tagger":
        record = [rng.integers(0, 13, n) for n in (4, 7)]
    else:
        width = module.lstm.input_size if kind == "regressor" else module.input_size
        record = [rng.standard_normal((n, width)).astype(np.float32) for n in (5, 3)]
    exported = export(module, str(tmp_path / "models" / f"{kind}.json"), record=record,
                      recording_path=str(tmp_path / f"{kind}.jsonl"), tolerance=1e-5)
    lines = [json.loads(line) for line in open(exported.recording_path)]
    assert lines[0] == {"format": "rnn-recording/1", "model": f"models/{kind}.json", "tolerance": 1e-5}
    replay = subprocess.run(["dotnet", host_dll, "replay", exported.recording_path], capture_output=True, text=True, timeout=120)
    output = replay.stdout + replay.stderr
    assert replay.returncode == 0, output
    assert output.strip().endswith(f"{len(lines) - 1} passed, 0 failed"), output


def test_the_package_needs_only_numpy_until_export_is_called():
    # sys.modules['torch'] = None makes every `import torch` fail, as on a machine without it.
    code = ("import sys; sys.modules['torch'] = None\n"
            "import streaming_rnn, numpy\n"
            "from streaming_rnn import Client, AsyncClient, serve, Snapshot\n"
            "try:\n    streaming_rnn.export(None, 'x.json')\nexcept ImportError:\n    print('export needs torch')\n")
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=here, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "export needs torch"
