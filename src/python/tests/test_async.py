"""The asyncio client: many sessions at once on one connection, every operation, typed errors."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from conftest import assert_close, start
from models import build
from oracle import Oracle
from streaming_rnn import (AsyncClient, DuplicateTokenError, InvalidInputError, PositionAheadError,
                           SessionAlreadyOpenError, UnknownSessionError)


@pytest.fixture(scope="module")
def served(tmp_path_factory, host_dll):
    module = build("char-model")
    s = start(module, str(tmp_path_factory.mktemp("char")), "char", host_dll)
    s.oracle = Oracle(module)
    yield s
    s.server.stop()


def run(served, scenario):
    async def main():
        async with await AsyncClient.connect(port=served.port) as client:
            await scenario(client)

    asyncio.run(main())


def test_forty_sessions_streamed_at_once_each_match_the_modules_forward(served):
    rng = np.random.default_rng(7)
    sequences = {f"a{i}": served.oracle.random_inputs(int(rng.integers(3, 15)), rng) for i in range(40)}

    async def session(client, name, ids):
        await client.open(name)
        outputs = [(await client.push(name, int(t))) for t in ids]
        await client.close_session(name)
        return outputs

    async def scenario(client):
        assert client.welcome.token_kind == 1 and client.welcome.input_size == 20
        results = await asyncio.gather(*(session(client, n, ids) for n, ids in sequences.items()))
        for (name, ids), outputs in zip(sequences.items(), results):
            assert [o.position for o in outputs] == list(range(len(ids)))
            assert_close(np.stack([o.values for o in outputs]), served.oracle.run(ids)[0], f"async {name}")

    run(served, scenario)


def test_tokens_sent_all_at_once_beyond_the_in_flight_limit_keep_their_order(served):
    async def scenario(client):
        ids = np.random.default_rng(8).integers(0, 20, 2 * client.welcome.max_in_flight + 3)
        await client.open("burst")
        outputs = await asyncio.gather(*(client.push("burst", int(t)) for t in ids))
        assert [o.position for o in outputs] == list(range(len(ids)))
        assert_close(np.stack([o.values for o in outputs]), served.oracle.run(ids)[0], "async burst")
        assert_close(await client.push_many("burst", ids[:3]), served.oracle.run(np.concatenate([ids, ids[:3]]))[0][-3:],
                     "async push_many")

    run(served, scenario)


def test_replay_snapshot_restore_reset_and_ping(served):
    oracle = served.oracle

    async def scenario(client):
        ids = np.random.default_rng(9).integers(0, 20, 12)
        h0, c0 = oracle.random_state(np.random.default_rng(10))
        await client.ping()
        await client.open("r", h0, c0)
        assert_close(await client.replay("r", ids[:8]), oracle.run(ids[:8], h0, c0)[0], "async replay from h0/c0")
        snapshot = await client.snapshot("r")
        _, h_n, c_n = oracle.run(ids[:8], h0, c0)
        assert snapshot.position == 8
        assert_close(snapshot.h, h_n, "async h_n")
        assert_close(snapshot.c, c_n, "async c_n")
        await client.restore("r-copy", snapshot)
        expected = oracle.run(ids, h0, c0)[0][8:]
        assert_close(await client.push_many("r-copy", ids[8:], first_position=8), expected, "async after restore")
        await client.reset("r")
        assert_close(await client.push_many("r", ids[:4]), oracle.run(ids[:4])[0], "async after reset")
        await client.close_session("r")
        await client.close_session("r-copy")

    run(served, scenario)


def test_refusals_arrive_as_typed_errors_and_leave_the_session_untouched(served):
    oracle = served.oracle

    async def scenario(client):
        with pytest.raises(UnknownSessionError):
            await client.push("nobody", 1)
        await client.open("e")
        with pytest.raises(SessionAlreadyOpenError):
            await client.open("e")
        first = await client.push("e", 3, position=0)
        for bad in (20, -1, np.zeros(6, np.float32)):  # past the vocabulary, negative, a vector to an id model
            with pytest.raises(InvalidInputError):
                await client.push("e", bad)
        with pytest.raises(InvalidInputError):
            await client.replay("e", np.array([1, 2, 99]))
        with pytest.raises(DuplicateTokenError) as duplicate:
            await client.push("e", 3, position=0)
        with pytest.raises(PositionAheadError) as ahead:
            await client.push("e", 3, position=7)
        assert duplicate.value.position == ahead.value.position == 1
        second = await client.push("e", 5, position=1)
        assert_close(np.stack([first.values, second.values]), oracle.run(np.array([3, 5]))[0], "async after refusals")

    run(served, scenario)
