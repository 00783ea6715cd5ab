"""Export: one call turns a PyTorch module into a model the server serves.

:func:`export` writes a manifest (JSON, the format of ``src/Cells/Model/ModelManifest.cs``, documented in
docs/model-format.md) and the weights beside it as safetensors, named exactly as the module's ``state_dict`` names
them, and optionally a recording (rnn-recording/1, docs/recording-format.md) of the module's own outputs that
``replay`` checks a served model against. torch is imported only here, when export is called.

What the server serves is ``[nn.Embedding] -> nn.RNN | nn.LSTM | nn.GRU -> [nn.Linear]``, each step's output
through the head. Anything else is refused with an :class:`ExportError` that names the module and the reason.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from . import safetensors

_MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")


class ExportError(ValueError):
    """The module cannot be served as it is; the message names the module and the reason."""


@dataclass(frozen=True)
class Exported:
    """What :func:`export` wrote: paths, and the manifest as a dict."""

    manifest_path: str
    weights_path: str
    recording_path: Optional[str]
    manifest: Dict[str, Any]


@dataclass(frozen=True)
class _Parts:
    root: str  # the exported module's class name, for messages
    recurrent: Any
    recurrent_name: str
    embedding: Any = None
    embedding_name: str = ""
    head: Any = None
    head_name: str = ""

    @property
    def directions(self) -> int:
        return 2 if self.recurrent.bidirectional else 1

    @property
    def output_size(self) -> int:
        return getattr(self.recurrent, "proj_size", 0) or self.recurrent.hidden_size


def export(module: Any, path: str, *, name: Optional[str] = None, recurrent: Optional[str] = None,
           embedding: Optional[str] = None, head: Optional[str] = None, record: Optional[Sequence[Any]] = None,
           recording_path: Optional[str] = None, tolerance: float = 1e-4, verify: bool = True) -> Exported:
    """Writes ``module`` as a servable model: the manifest at ``path`` and its weights beside it (``.safetensors``).

    ``module`` is a bare ``nn.RNN``/``nn.LSTM``/``nn.GRU``, or a wrapper holding one of them, optionally an
    ``nn.Embedding`` before it and an ``nn.Linear`` head after it. The parts are found by type; name them (their
    paths in ``named_modules()``, e.g. ``recurrent="encoder.rnn"``) when there is more than one candidate or the
    wrapper holds other modules with parameters. ``name`` is the model's name (default: the manifest's file name).

    With ``verify`` (the default), a wrapper's own forward is run on a probe and must equal embedding -> recurrent
    -> head, so what is served is what the module computes. ``record``, a list of input sequences (each ``(steps,
    input_size)`` floats, or ``(steps,)`` ids for a model with an embedding), also writes a recording of the module's
    outputs on them (default path: the manifest's with ``.jsonl``) with the given ``tolerance``.
    """
    import torch

    parts = _find_parts(module, recurrent, embedding, head)
    _check(parts)
    manifest_path = os.path.abspath(os.fspath(path))
    stem = os.path.splitext(manifest_path)[0]
    weights_path = stem + ".safetensors"
    manifest = _manifest(parts, name or os.path.basename(stem), os.path.basename(weights_path))
    tensors = _tensors(parts)

    was_training = module.training
    module.eval()  # dropout is inactive at inference, as on the server
    try:
        with torch.no_grad():
            if verify:
                _verify(module, parts)
            os.makedirs(os.path.dirname(manifest_path), exist_ok=True)
            safetensors.save(weights_path, tensors, {"format": "pt"})
            with open(manifest_path, "w", encoding="utf-8") as f:
                json.dump(manifest, f, indent=2)
                f.write("\n")
            written = None
            if record is not None:
                written = os.path.abspath(os.fspath(recording_path)) if recording_path else stem + ".jsonl"
                _write_recording(written, manifest_path, parts, record, tolerance)
    finally:
        module.train(was_training)
    return Exported(manifest_path, weights_path, written, manifest)


# ---------------------------------------------------------------- finding and checking the parts


def _find_parts(module: Any, recurrent: Optional[str], embedding: Optional[str], head: Optional[str]) -> _Parts:
    from torch import nn

    if not isinstance(module, nn.Module):
        raise ExportError(f"export takes a torch.nn.Module; found {type(module).__name__}")
    root = type(module).__name__
    modules = dict(module.named_modules())
    named = any(n is not None for n in (recurrent, embedding, head))

    def label(path: str, m: Any) -> str:
        return f"'{path}' ({type(m).__name__})" if path else f"the module itself ({type(m).__name__})"

    def pick(given: Optional[str], kind: str, cls: type, what: str, required: bool):
        if given is not None:
            if given not in modules:
                raise ExportError(f"{root}: {kind}='{given}' names no submodule; its submodules are "
                                  f"{', '.join(repr(n) for n in modules if n) or 'none'}")
            m = modules[given]
            if not isinstance(m, cls):
                raise ExportError(f"{root}: {kind}='{given}' is a {type(m).__name__}; expected {what}")
            return given, m
        found = [(n, m) for n, m in modules.items() if isinstance(m, cls)]
        if len(found) > 1:
            raise ExportError(f"{root}: it holds {len(found)} modules of type {what} "
                              f"({', '.join(label(n, m) for n, m in found)}); the server serves one: name it with {kind}='...'")
        if not found:
            if required:
                cells = [(n, m) for n, m in modules.items() if isinstance(m, nn.RNNCellBase)]
                if cells:
                    n, m = cells[0]
                    raise ExportError(f"{root}: {label(n, m)} is a cell; the server serves nn.RNN, nn.LSTM and nn.GRU "
                                      f"(a cell's weights are those of a 1-layer nn.{type(m).__name__[:-4]} with keys ending in _l0)")
                raise ExportError(f"{root}: it holds no nn.RNN, nn.LSTM or nn.GRU; the server serves "
                                  "[nn.Embedding] -> recurrent -> [nn.Linear]")
            return "", None
        return found[0]

    rnn_name, rnn = pick(recurrent, "recurrent", nn.RNNBase, "nn.RNN, nn.LSTM or nn.GRU", True)
    emb_name, emb = pick(embedding, "embedding", nn.Embedding, "nn.Embedding", False)
    head_name, lin = pick(head, "head", nn.Linear, "nn.Linear", False)
    parts = _Parts(root, rnn, rnn_name, emb, emb_name, lin, head_name)

    if not named:
        served = {id(p) for m in (rnn, emb, lin) if m is not None for p in m.parameters()}
        extra: Dict[str, List[str]] = {}
        for param_name, param in module.named_parameters():
            if id(param) not in served:
                owner, _, leaf = param_name.rpartition(".")
                extra.setdefault(owner, []).append(leaf)
        if extra:
            listed = "; ".join(f"{label(o, modules[o])}: {', '.join(ps)}" for o, ps in list(extra.items())[:4])
            raise ExportError(
                f"{root}: it has parameters the server has no place for ({listed}); the server serves "
                "[nn.Embedding] -> nn.RNN/nn.LSTM/nn.GRU -> [nn.Linear]. If those parameters take no part in the "
                "forward pass, name the served parts (recurrent=, embedding=, head=) and the forward is checked")
    return parts


def _check(parts: _Parts) -> None:
    rnn, root = parts.recurrent, parts.root
    where = f"{root}: '{parts.recurrent_name}' ({type(rnn).__name__})" if parts.recurrent_name else f"{root}"
    if rnn.mode not in _MODES:
        raise ExportError(f"{where}: mode {rnn.mode!r} is not served; expected one of {', '.join(_MODES)}")
    for param_name, param in rnn.named_parameters():
        if not param.is_floating_point():
            raise ExportError(f"{where}: parameter {param_name} is {param.dtype}; expected a floating-point tensor")
    if parts.embedding is not None:
        e = parts.embedding
        label = f"{root}: '{parts.embedding_name}' (Embedding)"
        if e.max_norm is not None:
            raise ExportError(f"{label}: max_norm={e.max_norm} renormalizes rows as they are looked up; "
                              "the server looks rows up as they are. Renormalize the weight once and set max_norm=None")
        if e.embedding_dim != rnn.input_size:
            raise ExportError(f"{label}: embedding_dim is {e.embedding_dim} but the recurrent input_size is {rnn.input_size}")
    if parts.head is not None:
        expected = parts.directions * parts.output_size
        if parts.head.in_features != expected:
            raise ExportError(f"{root}: '{parts.head_name}' (Linear): in_features is {parts.head.in_features}; the "
                              f"recurrent output is {expected} (num_directions x {'proj_size' if rnn.proj_size else 'hidden_size'})")
    for key, tensor in _tensors(parts).items():
        if not np.isfinite(tensor).all():
            raise ExportError(f"{root}: weight '{key}' holds NaN or infinity")


def _recurrent_keys(rnn: Any) -> List[str]:
    keys = []
    for layer in range(rnn.num_layers):
        for suffix in ("", "_reverse")[: 2 if rnn.bidirectional else 1]:
            names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if rnn.bias else [])
            names += ["weight_hr"] if getattr(rnn, "proj_size", 0) else []
            keys += [f"{n}_l{layer}{suffix}" for n in names]
    return keys


def _prefix(name: str) -> str:
    return name + "." if name else ""


def _tensors(parts: _Parts) -> Dict[str, np.ndarray]:
    """The served weights, named as the whole module's state_dict names them."""
    rnn = parts.recurrent
    state = rnn.state_dict()
    expected = _recurrent_keys(rnn)
    if sorted(state) != sorted(expected):
        odd = sorted(set(state) ^ set(expected))
        raise ExportError(
            f"{parts.root}: '{parts.recurrent_name or type(rnn).__name__}' has state_dict keys the server does not expect "
            f"({', '.join(odd[:4])}); expected exactly {', '.join(expected[:4])}... (a parametrization or weight_norm "
            "renames them: remove it before exporting)")

    def f32(t: Any) -> np.ndarray:
        return t.detach().cpu().float().numpy()

    tensors = {_prefix(parts.recurrent_name) + k: f32(state[k]) for k in expected}
    if parts.embedding is not None:
        tensors[_prefix(parts.embedding_name) + "weight"] = f32(parts.embedding.weight)
    if parts.head is not None:
        tensors[_prefix(parts.head_name) + "weight"] = f32(parts.head.weight)
        if parts.head.bias is not None:
            tensors[_prefix(parts.head_name) + "bias"] = f32(parts.head.bias)
    return tensors


def _manifest(parts: _Parts, name: str, weights: str) -> Dict[str, Any]:
    rnn = parts.recurrent
    manifest: Dict[str, Any] = {
        "name": name,
        "weights": weights,
        "recurrent": {
            "mode": rnn.mode,
            "input_size": rnn.input_size,
            "hidden_size": rnn.hidden_size,
            "num_layers": rnn.num_layers,
            "bias": bool(rnn.bias),
            "batch_first": bool(rnn.batch_first),
            "dropout": float(rnn.dropout),
            "bidirectional": bool(rnn.bidirectional),
            "proj_size": int(getattr(rnn, "proj_size", 0)),
        },
    }
    if parts.embedding is not None:
        manifest["embedding"] = {"num_embeddings": parts.embedding.num_embeddings,
                                 "embedding_dim": parts.embedding.embedding_dim}
    if parts.head is not None:
        manifest["head"] = {"out_features": parts.head.out_features, "bias": parts.head.bias is not None}
    if parts.recurrent_name or parts.embedding is not None or parts.head is not None:
        prefixes = {"recurrent": _prefix(parts.recurrent_name)}
        if parts.embedding is not None:
            prefixes["embedding"] = _prefix(parts.embedding_name)
        if parts.head is not None:
            prefixes["head"] = _prefix(parts.head_name)
        manifest["key_prefixes"] = prefixes
    return manifest


# ---------------------------------------------------------------- the module's own outputs


def _dtype_device(parts: _Parts):
    weight = next(parts.recurrent.parameters())
    return weight.dtype, weight.device


def _served(parts: _Parts, x: Any, h0: Any = None):
    """What the server computes, with the module's own parts: x batched as the recurrent module's batch_first says."""
    y = parts.embedding(x) if parts.embedding is not None else x
    out, state = parts.recurrent(y, h0)
    if parts.head is not None:
        out = parts.head(out)
    return out, state


def _verify(module: Any, parts: _Parts) -> None:
    import torch

    if module is parts.recurrent and type(module).forward in (torch.nn.RNN.forward, torch.nn.LSTM.forward, torch.nn.GRU.forward):
        return
    dtype, device = _dtype_device(parts)
    generator = torch.Generator().manual_seed(0)
    steps, batch = 5, 2
    shape = (batch, steps) if parts.recurrent.batch_first else (steps, batch)
    if parts.embedding is not None:
        probe = torch.randint(0, parts.embedding.num_embeddings, shape, generator=generator).to(device)
    else:
        probe = torch.randn(*shape, parts.recurrent.input_size, generator=generator).to(device, dtype)
    expected, _ = _served(parts, probe)
    what = " -> ".join(n for n in (parts.embedding_name and "embedding", "recurrent", parts.head_name and "head") if n)
    try:
        found = module(probe)
    except Exception as e:  # its forward takes other arguments, or another layout
        raise ExportError(
            f"{parts.root}: could not check that its forward is {what}: calling it on a probe of shape "
            f"{tuple(probe.shape)} ({'batch_first' if parts.recurrent.batch_first else 'time first'}) raised {e!r}. "
            "Pass verify=False to export the parts as they are") from e
    if isinstance(found, (tuple, list)):
        found = found[0]
    if not torch.is_tensor(found) or tuple(found.shape) != tuple(expected.shape):
        raise ExportError(
            f"{parts.root}: its forward returned {type(found).__name__}{tuple(found.shape) if torch.is_tensor(found) else ''} "
            f"on a probe of shape {tuple(probe.shape)}; {what} gives a tensor of shape {tuple(expected.shape)}. "
            "The server serves only that composition")
    error = (found.double() - expected.double()).abs().max().item()
    scale = max(1.0, expected.abs().max().item())
    if not error <= 1e-5 * scale:
        raise ExportError(
            f"{parts.root}: its forward differs from {what} by up to {error:.3g}; the server serves only that "
            "composition (an activation, a normalization or a residual in forward is not served)")


def _write_recording(path: str, manifest_path: str, parts: _Parts, sequences: Sequence[Any], tolerance: float) -> None:
    import torch

    dtype, device = _dtype_device(parts)
    ids = parts.embedding is not None
    bidirectional = parts.recurrent.bidirectional
    is_lstm = parts.recurrent.mode == "LSTM"
    plans = []
    for i, sequence in enumerate(sequences):
        x = np.asarray(sequence.detach().cpu().numpy() if hasattr(sequence, "detach") else sequence)
        if ids and (x.ndim != 1 or x.dtype.kind not in "iu"):
            raise ExportError(f"{parts.root}: record[{i}] has shape {x.shape} and dtype {x.dtype}; a model with an "
                              "embedding takes a 1-D integer array of token ids per sequence")
        if not ids and (x.ndim != 2 or x.shape[1] != parts.recurrent.input_size):
            raise ExportError(f"{parts.root}: record[{i}] has shape {x.shape}; expected (steps, {parts.recurrent.input_size})")
        batched = torch.as_tensor(x).to(device)
        batched = batched.unsqueeze(0 if parts.recurrent.batch_first else 1)
        if not ids:
            batched = batched.to(dtype)
        out, state = _served(parts, batched)
        h, c = state if is_lstm else (state, None)
        plans.append((f"seq-{i}", x, _rows(out.squeeze(0 if parts.recurrent.batch_first else 1)),
                      _rows(h.squeeze(1)), None if c is None else _rows(c.squeeze(1))))

    def line(**fields: Any) -> str:
        return json.dumps(fields, separators=(",", ":"))

    def inputs_field(x: np.ndarray) -> Dict[str, Any]:
        return {"tokens": [int(t) for t in x]} if ids else {"inputs": _rows(x)}

    def snapshot(session: str, h: list, c: Optional[list]) -> str:
        return line(session=session, op="snapshot", expect_h=h, **({"expect_c": c} if c is not None else {}))

    lines = [line(format="rnn-recording/1", model=os.path.relpath(manifest_path, os.path.dirname(path)), tolerance=tolerance)]
    lines += [line(session=s, op="open") for s, *_ in plans]
    if bidirectional:
        for s, x, out, h, c in plans:
            first = {"token": int(x[0])} if ids else {"input": _rows(x[:1])[0]}
            lines.append(line(session=s, op="token", **first, expect_error=True))
    else:
        # Tokens of every session, interleaved as live traffic is.
        for t in range(max((len(x) for _, x, *_ in plans), default=0)):
            for s, x, out, _, _ in plans:
                if t < len(x):
                    token = {"token": int(x[t])} if ids else {"input": _rows(x[t:t + 1])[0]}
                    lines.append(line(session=s, op="token", **token, expect=out[t]))
        lines += [snapshot(s, h, c) for s, _, _, h, c in plans]
        lines += [line(session=s, op="reset") for s, *_ in plans]
    for s, x, out, h, c in plans:
        lines.append(line(session=s, op="replay", **inputs_field(x), expect=out))
        lines.append(snapshot(s, h, c))
        lines.append(line(session=s, op="close"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def _rows(t: Any) -> list:
    """float32 values as JSON numbers (a float64 repr reads back as the same float32)."""
    array = t.detach().cpu().float().numpy() if hasattr(t, "detach") else np.asarray(t, dtype=np.float32)
    return array.astype(np.float64).tolist()
