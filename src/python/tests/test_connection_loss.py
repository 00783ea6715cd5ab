"""When the connection fails, every request still waiting gets ConnectionLost, never a hang, with both clients:
the server gone, killed, stopped, or breaking off mid-request."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import torch

from conftest import free_port, start
from fake_server import FakeServer, error, read_frame, welcome
from streaming_rnn import AsyncClient, Client, ConnectionFailed, ConnectionLost, EngineStoppedError, ProtocolError


@pytest.fixture
def served(tmp_path, host_dll):
    torch.manual_seed(5)
    s = start(torch.nn.GRU(2, 3), str(tmp_path), "gru", host_dll)
    yield s
    s.server.kill()


def test_connecting_where_no_server_listens_fails_with_connection_failed():
    port = free_port()
    with pytest.raises(ConnectionFailed, match=f"127.0.0.1:{port}"):
        Client(port=port, connect_timeout=5)
    with pytest.raises(ConnectionFailed):
        asyncio.run(AsyncClient.connect(port=port, connect_timeout=5))


def test_a_refused_handshake_raises_the_servers_error():
    def refuse(connection, hello):
        connection.sendall(error(105, "this server speaks version 2"))

    with FakeServer(refuse) as fake, pytest.raises(ProtocolError) as refused:
        Client(port=fake.port)
    assert refused.value.code == 105 and "version 2" in str(refused.value)


def drop_after_first_request(connection, hello):
    connection.sendall(welcome())
    read_frame(connection)  # the request, never answered


def cut_inside_the_reply(connection, hello):
    connection.sendall(welcome())
    read_frame(connection)
    connection.sendall(b"\x20\x00\x00\x00\x20\x01")  # the first bytes of an Output, then nothing


def send_garbage(connection, hello):
    connection.sendall(welcome())
    read_frame(connection)
    connection.sendall(b"\x01\x00\x00\x00\x7f")  # frame type 0x7F does not exist


@pytest.mark.parametrize("script, reason", [(drop_after_first_request, "closed the connection"),
                                            (cut_inside_the_reply, "inside a frame"),
                                            (send_garbage, "broke the protocol")],
                         ids=["dropped", "cut-mid-frame", "garbage"])
def test_a_connection_lost_mid_request_fails_the_waiting_request_with_connection_lost(script, reason):
    with FakeServer(script) as fake:
        client = Client(port=fake.port, timeout=30)
        with pytest.raises(ConnectionLost, match=reason):
            client.push("s", np.zeros(2, np.float32))
        with pytest.raises(ConnectionLost):
            client.push("s", np.zeros(2, np.float32))  # and so does every later one, at once
        client.close()


@pytest.mark.parametrize("script, reason", [(drop_after_first_request, "closed the connection"),
                                            (send_garbage, "broke the protocol")], ids=["dropped", "garbage"])
def test_the_async_client_fails_a_request_lost_mid_way_with_connection_lost(script, reason):
    async def scenario(port):
        client = await AsyncClient.connect(port=port)
        with pytest.raises(ConnectionLost, match=reason):
            await client.push("s", np.zeros(2, np.float32))
        with pytest.raises(ConnectionLost):
            await client.open("t")
        await client.close()

    with FakeServer(script) as fake:
        asyncio.run(scenario(fake.port))


def test_a_killed_server_fails_requests_in_flight_and_later_ones_with_connection_lost(served):
    client = Client(port=served.port)
    client.open("k")
    pending = [client.push_nowait("k", np.zeros(2, np.float32)) for _ in range(200)]
    served.server.kill()
    answered = lost = 0
    for future in pending:
        try:
            future.result(30)
            answered += 1
        except ConnectionLost:
            lost += 1
    assert answered + lost == 200
    assert isinstance(client.wait_closed(30), ConnectionLost)
    with pytest.raises(ConnectionLost):
        client.push("k", np.zeros(2, np.float32))
    client.close()


def test_a_stopping_server_answers_what_it_read_then_ends_the_connection_with_engine_stopped(served):
    client = Client(port=served.port)
    client.open("stop")
    outputs = client.push_many("stop", np.ones((5, 2), np.float32))
    assert outputs.shape == (5, 3)
    assert served.server.stop() == 0
    ended = client.wait_closed(30)
    assert isinstance(ended, ConnectionLost) and isinstance(ended.error, EngineStoppedError)
    assert ended.error.code == 8 and ended.error.ends_connection
    with pytest.raises(ConnectionLost) as later:
        client.push("stop", np.zeros(2, np.float32))
    assert isinstance(later.value.error, EngineStoppedError)
    client.close()


def test_a_request_without_an_answer_times_out_and_leaves_the_connection_open():
    def silent(connection, hello):
        connection.sendall(welcome())
        read_frame(connection)
        request = read_frame(connection)  # the ping after the timeout
        connection.sendall(b"\x09\x00\x00\x00\x04" + request[5:13])  # its Pong
        read_frame(connection)

    with FakeServer(silent) as fake:
        client = Client(port=fake.port, timeout=0.3)
        with pytest.raises(TimeoutError):
            client.push("s", np.zeros(2, np.float32))
        client.ping()
        client.close()
