using System.Collections.Concurrent;
using Streaming.Cluster;
using Streaming.Tests.Engine;

namespace Streaming.Tests.Cluster;

public sealed class ShardedSessionsTests
{
    [Fact]
    public async Task Sessions_spread_over_three_nodes_and_every_output_equals_a_single_engine()
    {
        var spec = TestModels.Lstm2;
        var (identity, weights) = TestModels.Create(spec);
        var random = new Random(5);
        var sequences = Enumerable.Range(0, 60).Select(_ => TestModels.RandomSequence(spec, random, 12)).ToArray();
        var expected = await SingleEngineOutputsAsync(identity, weights, sequences);

        await using var cluster = await TestCluster.StartAsync(3, identity, weights);
        var nodes = cluster.Nodes;
        // Each session is opened through one node and fed through the others in turn: every call may need routing.
        await Task.WhenAll(sequences.Select(async (sequence, s) =>
        {
            await nodes[s % 3].Sessions.OpenAsync($"s{s}");
            for (var t = 0; t < sequence.Length; t++)
            {
                var output = await nodes[(s + t) % 3].Sessions.PushAsync($"s{s}", sequence[t]);
                Assert.Equal($"s{s}", output.SessionId);
                Assert.Equal(t + 1, output.Position);
                Expect.BitExact(expected[s][t], output.Output.Span, $"session {s} step {t}");
            }
        }));

        var open = nodes.Select(n => n.Engine.Statistics.SessionsOpen).ToArray();
        Assert.All(open, count => Assert.True(count > 0, $"sessions per node: {string.Join(", ", open)}; expected every node to own some."));
        Assert.Equal(sequences.Length, open.Sum());
        Assert.Equal(sequences.Length * 12L, nodes.Sum(n => n.Engine.Statistics.TokensProcessed));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(0, 1)] // the oldest node: the shard coordinator moves too
    [InlineData(1, 4)] // each session keeps 4 tokens in flight
    public async Task A_node_leaving_while_tokens_flow_hands_its_sessions_over_with_nothing_lost_repeated_or_reordered(int leaver, int inFlight)
    {
        var spec = TestModels.Gru2;
        var (identity, weights) = TestModels.Create(spec);
        var random = new Random(17);
        const int sessions = 45, length = 60;
        var sequences = Enumerable.Range(0, sessions).Select(_ => TestModels.RandomSequence(spec, random, length)).ToArray();
        var expected = await SingleEngineOutputsAsync(identity, weights, sequences);

        await using var cluster = await TestCluster.StartAsync(3, identity, weights, sharding: new ShardingOptions { ResendAfter = TimeSpan.FromMilliseconds(300) });
        var nodes = cluster.Nodes;
        var leaving = nodes[leaver];
        var staying = nodes.Where(n => n != leaving).ToArray();
        for (var s = 0; s < sessions; s++)
        {
            await staying[s % 2].Sessions.OpenAsync($"s{s}");
        }

        var before = leaving.Engine.Statistics.SessionsOpen;
        Assert.True(before > 0, "the leaving node should own some sessions before it leaves");
        var pushed = 0;
        Task? leave = null;
        var outputs = new ConcurrentDictionary<int, List<TokenOutput>>();
        var feeding = Task.WhenAll(sequences.Select(async (sequence, s) =>
        {
            await Task.Yield();
            var received = outputs.GetOrAdd(s, _ => []);
            var window = new Queue<Task<TokenOutput>>();
            for (var t = 0; t < length; t++)
            {
                // With its position, a token dropped by the hand-off (sharding delivers at most once) is resent safely.
                // Awaited one by one, the tokens may alternate between nodes; in flight together, they keep to one node,
                // since calls through different nodes have no order between them.
                var via = staying[(inFlight == 1 ? s + t : s) % 2];
                window.Enqueue(via.Sessions.PushAsync($"s{s}", sequence[t] with { At = t }));
                if (window.Count == inFlight)
                {
                    received.Add(await window.Dequeue());
                }

                // The node starts leaving once a third of the tokens went through; the rest are pushed meanwhile.
                if (Interlocked.Increment(ref pushed) == sessions * length / 3)
                {
                    leave = Task.Run(leaving.LeaveAsync);
                }
            }

            while (window.Count > 0)
            {
                received.Add(await window.Dequeue());
            }
        }));

        await feeding;
        Assert.NotNull(leave);
        await leave;
        await leaving.System.WhenTerminated;

        Assert.Equal(0, leaving.Engine.Statistics.SessionsOpen);
        for (var s = 0; s < sessions; s++)
        {
            var received = outputs[s];
            Assert.Equal(length, received.Count);
            for (var t = 0; t < length; t++)
            {
                Assert.Equal(t + 1, received[t].Position);
                Expect.BitExact(expected[s][t], received[t].Output.Span, $"session {s} step {t}");
            }
        }

        Assert.Equal(sessions, staying.Sum(n => n.Engine.Statistics.SessionsOpen));
        // The survivors go on serving every session, including those the leaver owned.
        for (var s = 0; s < sessions; s++)
        {
            var snapshot = await staying[s % 2].Sessions.SnapshotAsync($"s{s}");
            Assert.Equal(length, snapshot.Position);
        }
    }

    [Fact]
    public async Task Every_operation_through_a_node_that_does_not_own_the_session_is_routed_to_its_owner()
    {
        var spec = TestModels.Lstm2;
        var (identity, weights) = TestModels.Create(spec);
        using var reference = new Reference(weights, Cells.Backends.BackendOptions.Managed);
        var random = new Random(3);
        var tokens = TestModels.RandomSequence(spec, random, 6);

        await using var cluster = await TestCluster.StartAsync(3, identity, weights);
        await cluster.Nodes[0].Sessions.OpenAsync("routed");
        var owner = await cluster.OwnerOfAsync("routed");
        Assert.InRange(owner, 0, 2);
        var other = cluster.Nodes[(owner + 1) % 3];
        var third = cluster.Nodes[(owner + 2) % 3];
        var otherTokens = other.Engine.Statistics.TokensProcessed;

        var first = await other.Sessions.PushAsync("routed", tokens[0]);
        var replayed = await third.Sessions.ReplayAsync("routed", tokens[1..4]);
        var snapshot = await other.Sessions.SnapshotAsync("routed");
        var last = await third.Sessions.PushAsync("routed", tokens[4]);

        var expected = reference.Run(tokens[..5]);
        Expect.Close(expected.Outputs[0], first.Output.Span, "first output");
        Assert.Equal(4, replayed.Position);
        for (var t = 0; t < 3; t++)
        {
            Expect.Close(expected.Outputs[t + 1], replayed.Outputs[t].Span, $"replayed step {t}");
        }

        Assert.Equal(4, snapshot.Position);
        Assert.Equal(identity, snapshot.Model);
        Expect.Close(reference.Run(tokens[..4]).H, snapshot.HiddenState(), "snapshot h");
        Assert.Equal(5, last.Position);
        Expect.Close(expected.Outputs[4], last.Output.Span, "last output");
        Assert.Equal(otherTokens, other.Engine.Statistics.TokensProcessed);
        Assert.Equal(5, cluster.Nodes[owner].Engine.Statistics.TokensProcessed);

        // Restore and reset through non-owners; the restored session continues bit for bit from the snapshot.
        await other.Sessions.ResetAsync("routed");
        Assert.Equal(1, (await third.Sessions.PushAsync("routed", tokens[0])).Position);
        await third.Sessions.RestoreAsync("routed", snapshot);
        var resumed = await other.Sessions.PushAsync("routed", tokens[4]);
        Assert.Equal(5, resumed.Position);
        Expect.BitExact(last.Output.Span, resumed.Output.Span, "output after the restore");

        // Close through a non-owner forgets the session everywhere; it can be opened again from zeros.
        await other.Sessions.CloseAsync("routed");
        var closed = await Assert.ThrowsAsync<EngineException>(() => third.Sessions.PushAsync("routed", tokens[0]));
        Assert.Equal(EngineErrorCode.UnknownSession, closed.Code);
        await third.Sessions.OpenAsync("routed", new InitialState(new float[16], new float[16]));
        var reopened = await other.Sessions.PushAsync("routed", tokens[0]);
        Expect.BitExact(first.Output.Span, reopened.Output.Span, "first output after reopening");
    }

    private static readonly string[] BadInputs =
    [
        "wrong length", "NaN", "id to a vector model", "bad h0", "bad c0 in a replay", "empty replay", "another model's snapshot",
        "unknown session", "already open", "duplicate token", "token ahead", "replay to an unknown session", "close of an unknown session",
    ];

    [Fact]
    public async Task Bad_input_through_a_node_that_does_not_own_the_session_gets_the_engines_own_error()
    {
        var spec = TestModels.Lstm2;
        var (identity, weights) = TestModels.Create(spec);
        var good = TestModels.RandomSequence(spec, new Random(8), 3);
        var otherModel = TestModels.Create(spec, seed: 99, name: "other").Identity;
        Func<ISessionService, Task> Send(string name, string victim) => name switch
        {
            "wrong length" => s => s.PushAsync(victim, Token.Vector(new float[4])),
            "NaN" => s => s.PushAsync(victim, Token.Vector(new[] { 0f, 1f, float.NaN, 0f, 0f })),
            "id to a vector model" => s => s.PushAsync(victim, Token.Id(3)),
            "bad h0" => s => s.OpenAsync("newcomer", new InitialState(new float[3], default)),
            "bad c0 in a replay" => s => s.ReplayAsync(victim, good, new InitialState(default, new float[5])),
            "empty replay" => s => s.ReplayAsync(victim, []),
            "another model's snapshot" => s => s.RestoreAsync(victim, new SessionSnapshot(otherModel, 3,
                [new LayerState(new float[8], new float[8]), new LayerState(new float[8], new float[8])])),
            "unknown session" => s => s.PushAsync("ghost", good[0]),
            "already open" => s => s.OpenAsync(victim),
            "duplicate token" => s => s.PushAsync(victim, good[0] with { At = 0 }),
            "token ahead" => s => s.PushAsync(victim, good[0] with { At = 7 }),
            "replay to an unknown session" => s => s.ReplayAsync("ghost", good),
            "close of an unknown session" => s => s.CloseAsync("ghost"),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown case"),
        };

        // The single engine's refusals are the oracle: same code, message, session and position.
        var engineErrors = new List<EngineException>();
        await using (var single = await EngineScope.StartAsync(identity, weights))
        {
            for (var i = 0; i < BadInputs.Length; i++)
            {
                await single.Engine.OpenAsync($"victim{i}");
                await single.Engine.PushAsync($"victim{i}", good[0]);
                await single.Engine.PushAsync($"victim{i}", good[1]);
                engineErrors.Add(await Assert.ThrowsAsync<EngineException>(() => Send(BadInputs[i], $"victim{i}")(single.Engine)));
            }
        }

        await using var cluster = await TestCluster.StartAsync(2, identity, weights);
        var routed = 0;
        for (var i = 0; i < BadInputs.Length; i++)
        {
            var victim = $"victim{i}";
            await cluster.Nodes[0].Sessions.OpenAsync(victim);
            await cluster.Nodes[0].Sessions.PushAsync(victim, good[0]);
            var owner = await cluster.OwnerOfAsync(victim);
            Assert.InRange(owner, 0, 1);
            routed += owner == 0 ? 1 : 0;
            var nonOwner = cluster.Nodes[1 - owner].Sessions;
            await nonOwner.PushAsync(victim, good[1]);

            var clusterError = await Assert.ThrowsAsync<EngineException>(() => Send(BadInputs[i], victim)(nonOwner));
            var what = $"case '{BadInputs[i]}'";
            Assert.True(engineErrors[i].Code == clusterError.Code, $"{what}: code {clusterError.Code}, expected {engineErrors[i].Code}");
            Assert.True(engineErrors[i].Message == clusterError.Message, $"{what}: message '{clusterError.Message}', expected '{engineErrors[i].Message}'");
            Assert.True(engineErrors[i].SessionId == clusterError.SessionId, $"{what}: session {clusterError.SessionId}, expected {engineErrors[i].SessionId}");
            Assert.True(engineErrors[i].Position == clusterError.Position, $"{what}: position {clusterError.Position}, expected {engineErrors[i].Position}");

            // The refusal harmed nothing: the session goes on at position 3.
            Assert.Equal(3, (await nonOwner.PushAsync(victim, good[2])).Position);
        }

        Assert.InRange(routed, 1, BadInputs.Length - 1);
    }

    [Fact]
    public async Task A_node_that_has_not_joined_its_cluster_is_not_ready_and_refuses_every_operation_NotReady_at_once()
    {
        var (identity, weights) = TestModels.Create(TestModels.Gru2);
        // A node that never joins a cluster has no shard coordinator: its region could place no session.
        var settings = TestCluster.Settings(0, 1) with { SeedNodes = [] };
        await using var node = await TestCluster.Node.StartAsync(settings, identity, weights, new EngineOptions(),
            new ShardingOptions { AskTimeout = TimeSpan.FromSeconds(30) });

        Assert.False(node.Sessions.IsReady);
        Assert.False(((ISessionService)node.Sessions).IsReady);
        var open = await Assert.ThrowsAsync<EngineException>(() => node.Sessions.OpenAsync("lonely"));
        var push = await Assert.ThrowsAsync<EngineException>(() => node.Sessions.PushAsync("lonely", Token.Vector(new float[TestModels.Gru2.InputSize]) with { At = 0 }));
        Assert.Equal((EngineErrorCode.NotReady, EngineErrorCode.NotReady), (open.Code, push.Code));
        Assert.Equal("lonely", open.SessionId);
        Assert.Contains("this node is not ready to serve sessions (it has not joined its cluster yet); nothing was applied", open.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_joined_node_says_it_is_ready_once_its_shard_region_serves()
    {
        var (identity, weights) = TestModels.Create(TestModels.Gru2);
        var port = TestCluster.FreePorts(1)[0];
        await using var node = await TestCluster.Node.StartAsync(TestCluster.Settings(port, port), identity, weights, new EngineOptions(), null);

        await node.Sessions.WhenReady.WaitAsync(TestCluster.Patience);

        Assert.True(node.Sessions.IsReady);
        Assert.Contains("the shard coordinator lists its region (1 region(s))", node.Sessions.Readiness, StringComparison.Ordinal);
        await node.Sessions.OpenAsync("a");
        Assert.Equal(1, (await node.Sessions.PushAsync("a", Token.Vector(new float[TestModels.Gru2.InputSize]) with { At = 0 })).Position);
    }

    [Fact]
    public async Task A_positioned_token_its_owner_never_answers_is_resent_until_its_deadline_then_refused_SessionUnavailable_with_its_position()
    {
        var (identity, weights) = TestModels.Create(TestModels.Gru2);
        var port = TestCluster.FreePorts(1)[0];
        // The owner cannot answer: the session's load never ends while the test holds it (as a shard that is moving).
        var store = new HeldLoadStore();
        var node = await TestCluster.Node.StartAsync(TestCluster.Settings(port, port), identity, weights, new EngineOptions { Store = store },
            new ShardingOptions { AskTimeout = TimeSpan.FromSeconds(1.5), ResendAfter = TimeSpan.FromMilliseconds(200) });
        try
        {
            await node.Sessions.WhenReady.WaitAsync(TestCluster.Patience);
            var token = Token.Vector(new float[TestModels.Gru2.InputSize]);

            var positioned = await Assert.ThrowsAsync<EngineException>(() => node.Sessions.PushAsync("moving", token with { At = 7 }));
            var anywhere = await Assert.ThrowsAsync<EngineException>(() => node.Sessions.PushAsync("moving-too", token));

            Assert.Equal((EngineErrorCode.SessionUnavailable, 7L, "moving"), (positioned.Code, positioned.Position!.Value, positioned.SessionId!));
            Assert.Contains("Resend from position 7", positioned.Message, StringComparison.Ordinal);
            Assert.Contains("though the token was sent", positioned.Message, StringComparison.Ordinal);
            // Without a position it may have been applied: never resent, and not said to be safe to resend.
            Assert.Equal((EngineErrorCode.EngineStopped, (long?)null), (anywhere.Code, anywhere.Position));
            Assert.Contains("may or may not have been applied", anywhere.Message, StringComparison.Ordinal);
        }
        finally
        {
            store.Release();
            await node.DisposeAsync();
        }
    }

    /// <summary>An in-memory store whose loads wait until <see cref="Release"/>.</summary>
    private sealed class HeldLoadStore : Streaming.Persistence.ISnapshotStore
    {
        private readonly Streaming.Persistence.InMemorySnapshotStore _inner = new();
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _released.TrySetResult();

        public async Task<Streaming.Persistence.StoredSession?> LoadAsync(string sessionId, CancellationToken cancellationToken = default)
        {
            await _released.Task.ConfigureAwait(false);
            return await _inner.LoadAsync(sessionId, cancellationToken).ConfigureAwait(false);
        }

        public Task SaveAsync(string sessionId, Streaming.Persistence.StoredSession stored, CancellationToken cancellationToken = default) =>
            _inner.SaveAsync(sessionId, stored, cancellationToken);

        public Task DeleteAsync(string sessionId, CancellationToken cancellationToken = default) => _inner.DeleteAsync(sessionId, cancellationToken);
    }

    private static async Task<float[][][]> SingleEngineOutputsAsync(ModelIdentity identity, Cells.Weights.ModelWeights weights, Token[][] sequences)
    {
        await using var single = await EngineScope.StartAsync(identity, weights);
        return await Task.WhenAll(sequences.Select(async (sequence, s) =>
        {
            await single.Engine.OpenAsync($"s{s}");
            var outputs = new float[sequence.Length][];
            for (var t = 0; t < sequence.Length; t++)
            {
                outputs[t] = (await single.Engine.PushAsync($"s{s}", sequence[t])).Output.ToArray();
            }

            return outputs;
        }));
    }
}
