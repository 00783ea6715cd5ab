"""Every kind of module, exported and served, gives PyTorch's outputs within 1e-5: streamed token by token over
many sessions on one connection, replayed in bulk, and continued from snapshots."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import assert_close, start
from models import build
from oracle import Oracle
from streaming_rnn import Client, InvalidStateError, TokensNotSupportedError

STREAMING = ["rnn-tanh", "rnn-relu-2-nobias", "lstm-3", "lstm-proj-2", "lstm-nobias-batch-first-dropout", "gru-2",
             "gru-3-batch-first", "char-model", "nested-gru", "regressor"]
BIDIRECTIONAL = ["lstm-bidirectional-2", "lstm-proj-bidirectional", "gru-bidirectional-3", "rnn-relu-bidirectional", "tagger"]


@pytest.fixture(scope="module", params=STREAMING + BIDIRECTIONAL)
def served(request, tmp_path_factory, host_dll):
    kind = request.param
    module = build(kind)
    s = start(module, str(tmp_path_factory.mktemp(kind)), kind, host_dll)
    s.kind = kind
    s.oracle = Oracle(module)
    yield s
    s.server.stop()


@pytest.fixture
def client(served):
    with Client(port=served.port) as c:
        yield c


def test_tokens_streamed_one_by_one_over_interleaved_sessions_match_the_modules_forward(served, client):
    oracle, rng = served.oracle, np.random.default_rng(1)
    if oracle.directions == 2:
        client.open("bi")
        with pytest.raises(TokensNotSupportedError) as refused:
            client.push("bi", oracle.random_inputs(1, rng)[0])
        assert refused.value.code == 4 and refused.value.session == "bi"
        return
    sessions = {}
    for i, steps in enumerate((7, 9, 5)):
        h0, c0 = oracle.random_state(rng) if i == 1 else (None, None)
        sessions[f"s{i}"] = (oracle.random_inputs(steps, rng), h0, c0)
        client.open(f"s{i}", h0, c0)
    futures = {name: [] for name in sessions}
    for t in range(max(len(x) for x, _, _ in sessions.values())):
        for name, (x, _, _) in sessions.items():
            if t < len(x):
                futures[name].append(client.push_nowait(name, x[t]))
    for name, (x, h0, c0) in sessions.items():
        outputs, h_n, c_n = oracle.run(x, h0, c0)
        answers = [f.result(30) for f in futures[name]]
        assert [a.position for a in answers] == list(range(len(x)))
        assert_close(np.stack([a.values for a in answers]), outputs, f"{served.kind} {name} tokens")
        snapshot = client.snapshot(name)
        assert snapshot.position == len(x)
        assert_close(snapshot.h, h_n, f"{served.kind} {name} h_n")
        if oracle.is_lstm:
            assert_close(snapshot.c, c_n, f"{served.kind} {name} c_n")
        else:
            assert snapshot.c is None
        client.close_session(name)


def test_replays_in_bulk_match_the_modules_forward_and_leave_its_final_state(served, client):
    oracle, rng = served.oracle, np.random.default_rng(2)
    x1, x2, x3 = (oracle.random_inputs(n, rng) for n in (6, 4, 5))
    client.open("r")
    outputs, h_n, c_n = oracle.run(x1)
    assert_close(client.replay("r", x1), outputs, f"{served.kind} replay from zeros")

    # From the state the replay left: by tokens where the model streams, by another replay where it does not.
    continued, h_n, c_n = oracle.run(x2, h_n.float().numpy(), None if c_n is None else c_n.float().numpy())
    if oracle.directions == 1:
        assert_close(client.push_many("r", x2), continued, f"{served.kind} tokens after a replay")
    else:
        assert_close(client.replay("r", x2), continued, f"{served.kind} replay after a replay")

    h0, c0 = oracle.random_state(rng)
    outputs, h_n, c_n = oracle.run(x3, h0, c0)
    assert_close(client.replay("r", x3, h0, c0), outputs, f"{served.kind} replay from h0/c0")
    snapshot = client.snapshot("r", num_directions=oracle.directions)
    assert snapshot.position == len(x1) + len(x2) + len(x3)
    assert_close(snapshot.h, h_n, f"{served.kind} h_n after a replay")
    if oracle.is_lstm:
        assert_close(snapshot.c, c_n, f"{served.kind} c_n after a replay")
    client.reset("r")
    outputs, _, _ = oracle.run(x1)
    assert_close(client.replay("r", x1), outputs, f"{served.kind} replay after reset")
    client.close_session("r")


def test_a_restored_snapshot_continues_where_the_session_was(served, client):
    oracle, rng = served.oracle, np.random.default_rng(3)
    x = oracle.random_inputs(10, rng)
    h0, c0 = oracle.random_state(rng)
    client.open("original", h0, c0)
    if oracle.directions == 2:
        # Replay only: the state after the first part is PyTorch's h_n/c_n, the second part starts from it.
        client.replay("original", x[:4])
        _, h_n, c_n = oracle.run(x[:4], h0, c0)
        expected, _, _ = oracle.run(x[4:], h_n.float().numpy(), None if c_n is None else c_n.float().numpy())
    else:
        client.push_many("original", x[:4])
        expected = oracle.run(x, h0, c0)[0][4:]
    snapshot = client.snapshot("original", num_directions=oracle.directions)
    assert snapshot.position == 4
    client.restore("copy", snapshot)
    client.restore("copy-from-bytes", snapshot.data)
    for name in ("original", "copy", "copy-from-bytes"):
        if oracle.directions == 2:
            assert_close(client.replay(name, x[4:]), expected, f"{served.kind} {name} replay after restore")
        else:
            answers = [client.push(name, token, position=4 + i) for i, token in enumerate(x[4:])]
            assert [a.position for a in answers] == list(range(4, 10))
            assert_close(np.stack([a.values for a in answers]), expected, f"{served.kind} {name} after restore")
        client.close_session(name)


def test_a_cell_state_is_refused_for_a_model_without_one_and_a_state_of_the_wrong_size_for_any(served, client):
    oracle = served.oracle
    if not oracle.is_lstm:
        with pytest.raises(InvalidStateError) as refused:
            client.open("c0", c0=np.zeros((oracle.rows, oracle.rnn.hidden_size), np.float32))
        assert refused.value.code == 6
    with pytest.raises(InvalidStateError):
        client.open("h0", h0=np.zeros(oracle.rows * oracle.output_size + 1, np.float32))
    client.open("h0")  # the refused opens left nothing behind
    client.close_session("h0")
