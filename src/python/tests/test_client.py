"""The blocking client against a served LSTM: every refusal arrives as its typed error with the protocol's code,
leaves the session as if the request had never been sent, and leaves the connection usable."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from conftest import assert_close, start
from oracle import Oracle
from streaming_rnn import (Client, DuplicateTokenError, ErrorCode, InvalidInputError, MalformedSnapshotError,
                           ModelMismatchError, PositionAheadError, ProtocolError, ServerError, SessionAlreadyOpenError,
                           UnknownSessionError)


@pytest.fixture(scope="module")
def served(tmp_path_factory, host_dll):
    torch.manual_seed(14)
    module = torch.nn.LSTM(4, 6, num_layers=2)
    s = start(module, str(tmp_path_factory.mktemp("lstm")), "lstm", host_dll)
    s.oracle = Oracle(module)
    yield s
    s.server.stop()


@pytest.fixture
def client(served):
    with Client(port=served.port) as c:
        yield c


def inputs(oracle, steps, seed):
    return oracle.random_inputs(steps, np.random.default_rng(seed))


def test_the_welcome_describes_the_served_model_and_the_limits(served, client):
    w = client.welcome
    assert (w.version, w.token_kind, w.input_size, w.output_size, w.model) == (1, 0, 4, 6, "lstm")
    assert w.max_frame_bytes >= 1024 and w.max_sessions >= 1 and w.max_in_flight >= 1
    client.ping()


def test_a_token_to_an_unknown_session_is_refused_with_code_2_naming_it(client):
    with pytest.raises(UnknownSessionError) as refused:
        client.push("never-opened", np.zeros(4, np.float32))
    e = refused.value
    assert (e.code, e.session, e.position) == (ErrorCode.UNKNOWN_SESSION, "never-opened", None)
    assert "never-opened" in str(e) and e.sequence > 0


@pytest.mark.parametrize("bad", [np.zeros(3, np.float32), np.zeros(5, np.float32),
                                 np.array([0, np.nan, 0, 0], np.float32), np.array([np.inf, 0, 0, 0], np.float32), 7],
                         ids=["short", "long", "nan", "infinity", "an-id-to-a-vector-model"])
def test_a_wrong_token_is_refused_with_code_1_and_the_session_goes_on_as_if_it_was_never_sent(served, client, bad):
    x = inputs(served.oracle, 5, 4)
    expected, _, _ = served.oracle.run(x)
    client.open("bad-input")
    first = client.push_many("bad-input", x[:2])
    with pytest.raises(InvalidInputError) as refused:
        client.push("bad-input", bad)
    assert refused.value.code == 1 and refused.value.session == "bad-input"
    rest = client.push_many("bad-input", x[2:])
    assert_close(np.concatenate([first, rest]), expected, "tokens around a refused one")
    client.close_session("bad-input")


def test_a_replay_of_the_wrong_width_is_refused_whole(served, client):
    client.open("bad-replay")
    with pytest.raises(InvalidInputError):
        client.replay("bad-replay", np.zeros((3, 5), np.float32))
    assert client.snapshot("bad-replay").position == 0
    client.close_session("bad-replay")


def test_positions_refuse_duplicates_and_gaps_and_carry_the_sessions_position(served, client):
    x = inputs(served.oracle, 5, 5)
    expected, _, _ = served.oracle.run(x)
    client.open("positions")
    outputs = [client.push("positions", x[i], position=i).values for i in range(3)]
    with pytest.raises(DuplicateTokenError) as duplicate:
        client.push("positions", x[1], position=1)
    assert (duplicate.value.code, duplicate.value.position) == (10, 3)
    # The resend carries the output the token got the first time, bit for bit.
    assert duplicate.value.output.tobytes() == outputs[1].tobytes()
    with pytest.raises(PositionAheadError) as ahead:
        client.push("positions", x[4], position=4)
    assert (ahead.value.code, ahead.value.position) == (11, 3)
    outputs += list(client.push_many("positions", x[3:], first_position=ahead.value.position))
    assert_close(np.stack(outputs), expected, "tokens resent from the position of a PositionAhead")
    client.close_session("positions")


def test_opening_an_open_session_naming_an_unknown_model_or_restoring_garbage_is_refused(client):
    client.open("twice")
    with pytest.raises(SessionAlreadyOpenError) as again:
        client.open("twice")
    assert again.value.code == 3
    with pytest.raises(ModelMismatchError) as model:
        client.open("other-model", model="no-such-model")
    assert model.value.code == 5
    with pytest.raises(MalformedSnapshotError) as garbage:
        client.restore("garbage", b"not a snapshot")
    assert garbage.value.code == 9
    client.close_session("twice")
    with pytest.raises(UnknownSessionError):
        client.close_session("twice")


def test_what_the_client_cannot_send_is_refused_before_it_is_sent_and_the_connection_goes_on(served, client):
    with pytest.raises(ValueError, match="1 to 128"):
        client.open("")
    with pytest.raises(ValueError, match="1 to 128"):
        client.open("x" * 129)
    with pytest.raises(ValueError, match="maximum frame size"):
        client.replay("too-big", np.zeros((client.welcome.max_frame_bytes // 16, 4), np.float32))
    with pytest.raises(ValueError, match="1-D"):
        client.push("any", np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="at least one step"):
        client.replay("any", np.zeros((0, 4), np.float32))
    client.ping()


def test_threads_share_one_connection_each_with_its_own_sessions(served, client):
    errors = []

    def worker(n):
        try:
            x = inputs(served.oracle, 6, 100 + n)
            client.open(f"thread-{n}")
            outputs = [client.push(f"thread-{n}", token).values for token in x]
            assert_close(np.stack(outputs), served.oracle.run(x)[0], f"thread {n}")
            client.close_session(f"thread-{n}")
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


def test_more_tokens_than_the_server_allows_in_flight_wait_in_the_client_and_keep_their_order(served, client):
    steps = 3 * client.welcome.max_in_flight + 5
    x = inputs(served.oracle, steps, 6)
    client.open("many")
    assert_close(client.push_many("many", x), served.oracle.run(x)[0], "tokens beyond the in-flight limit")
    client.close_session("many")


def test_an_unknown_error_code_is_still_a_server_error():
    from streaming_rnn.errors import server_error
    engine = server_error(77, "from the future", "s", 9)
    assert type(engine) is ServerError and engine.code == 77 and str(engine) == "error (77) for session 's': from the future"
    protocol = server_error(4242, "from the future")
    assert isinstance(protocol, ProtocolError) and protocol.code == 4242
