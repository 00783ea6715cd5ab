using Streaming.Cells.Backends;

namespace Streaming.Tests.Engine;

public sealed class ReplayTests
{
    [Theory]
    [InlineData(BackendKind.Managed)]
    [InlineData(BackendKind.Torch)]
    public async Task Replay_equals_incremental_tokens_and_leaves_the_same_state(BackendKind backend)
    {
        var spec = TestModels.Lstm2;
        var (identity, weights) = TestModels.Create(spec);
        await using var scope = await EngineScope.StartAsync(identity, weights, new EngineOptions { Backend = new BackendOptions(backend) });
        var tokens = TestModels.RandomSequence(spec, new Random(6), 17);
        await scope.Engine.OpenAsync("incremental");
        await scope.Engine.OpenAsync("replayed");
        var incremental = await Task.WhenAll(tokens.Select(t => scope.Engine.PushAsync("incremental", t)));
        var replayed = await scope.Engine.ReplayAsync("replayed", tokens);

        Assert.Equal(17, replayed.Position);
        Assert.Equal(17, replayed.Outputs.Count);
        for (var t = 0; t < tokens.Length; t++)
        {
            Expect.Close(incremental[t].Output.Span, replayed.Outputs[t].Span, $"step {t}");
        }

        var a = await scope.Engine.SnapshotAsync("incremental");
        var b = await scope.Engine.SnapshotAsync("replayed");
        Assert.Equal(a.Position, b.Position);
        Expect.Close(a.HiddenState(), b.HiddenState(), "h");
        Expect.Close(a.CellState(), b.CellState(), "c");
    }

    [Theory]
    [InlineData(BackendKind.Managed)]
    [InlineData(BackendKind.Torch)]
    public async Task Concurrent_replays_of_ragged_lengths_among_pushed_tokens_each_equal_their_sequence_alone(BackendKind backend)
    {
        // Replays sent at once mostly share batches, which each layer runs as a packed sequence (proven path by path in
        // PackedReplayTests); here through the whole engine, among other sessions' tokens.
        var spec = TestModels.EmbeddingHead;
        var backendOptions = new BackendOptions(backend);
        var (identity, weights) = TestModels.Create(spec);
        using var reference = new Reference(weights, backendOptions);
        await using var scope = await EngineScope.StartAsync(identity, weights, new EngineOptions { Backend = backendOptions });
        var random = new Random(21);
        const int replaying = 48, pushing = 16;
        var sequences = Enumerable.Range(0, replaying + pushing).Select(s => TestModels.RandomSequence(spec, random, 1 + random.Next(24))).ToArray();
        await Task.WhenAll(Enumerable.Range(0, replaying + pushing).Select(s => scope.Engine.OpenAsync($"s{s}")));

        var replays = Enumerable.Range(0, replaying).Select(s => scope.Engine.ReplayAsync($"s{s}", sequences[s])).ToArray();
        var pushes = Enumerable.Range(replaying, pushing).Select(s => Task.WhenAll(sequences[s].Select(t => scope.Engine.PushAsync($"s{s}", t)))).ToArray();
        await Task.WhenAll(replays);
        await Task.WhenAll(pushes);

        for (var s = 0; s < replaying + pushing; s++)
        {
            var expected = reference.Run(sequences[s]);
            var outputs = s < replaying ? replays[s].Result.Outputs.ToArray() : pushes[s - replaying].Result.Select(o => o.Output).ToArray();
            Assert.Equal(sequences[s].Length, outputs.Length);
            for (var t = 0; t < outputs.Length; t++)
            {
                Expect.Close(expected.Outputs[t], outputs[t].Span, $"session {s}, step {t}");
            }

            var state = await scope.Engine.SnapshotAsync($"s{s}");
            Assert.Equal(sequences[s].Length, state.Position);
            Expect.Close(expected.H, state.HiddenState(), $"session {s}: h_n");
            Expect.Close(expected.C, state.CellState(), $"session {s}: c_n");
        }
    }

    [Fact]
    public async Task Tokens_after_a_replay_continue_from_its_final_state()
    {
        var spec = TestModels.EmbeddingHead;
        var (identity, weights) = TestModels.Create(spec);
        using var reference = new Reference(weights, BackendOptions.Managed);
        await using var scope = await EngineScope.StartAsync(identity, weights);
        var tokens = TestModels.RandomSequence(spec, new Random(9), 20);
        var expected = reference.Run(tokens);
        await scope.Engine.OpenAsync("a");

        // Tokens, then a replay from the session's current state, then tokens again: one sequence in three parts.
        var head = await Task.WhenAll(tokens[..4].Select(t => scope.Engine.PushAsync("a", t)));
        var middle = await scope.Engine.ReplayAsync("a", tokens[4..13]);
        var tail = await Task.WhenAll(tokens[13..].Select(t => scope.Engine.PushAsync("a", t)));

        var outputs = head.Select(o => o.Output).Concat(middle.Outputs).Concat(tail.Select(o => o.Output)).ToArray();
        for (var t = 0; t < tokens.Length; t++)
        {
            Expect.Close(expected.Outputs[t], outputs[t].Span, $"step {t}");
        }

        Assert.Equal(13, middle.Position);
        Assert.Equal(20, tail[^1].Position);
    }

    [Fact]
    public async Task Replay_from_a_given_state_equals_the_bulk_call_from_that_state()
    {
        var spec = TestModels.ProjectedLstm;
        var (identity, weights) = TestModels.Create(spec);
        using var reference = new Reference(weights, BackendOptions.Managed);
        await using var scope = await EngineScope.StartAsync(identity, weights);
        var random = new Random(10);
        var r = spec.Recurrent;
        var from = new InitialState(
            Enumerable.Range(0, r.NumLayers * r.OutputSize).Select(_ => (float)random.NextDouble() - 0.5f).ToArray(),
            Enumerable.Range(0, r.NumLayers * r.HiddenSize).Select(_ => (float)random.NextDouble() - 0.5f).ToArray());
        var tokens = TestModels.RandomSequence(spec, random, 11);
        await scope.Engine.OpenAsync("a");
        await scope.Engine.PushAsync("a", TestModels.RandomToken(spec, random));

        var replayed = await scope.Engine.ReplayAsync("a", tokens, from);
        var expected = reference.Run(tokens, from);
        for (var t = 0; t < tokens.Length; t++)
        {
            Expect.Close(expected.Outputs[t], replayed.Outputs[t].Span, $"step {t}");
        }

        var state = await scope.Engine.SnapshotAsync("a");
        Expect.Close(expected.H, state.HiddenState(), "h_n");
        Expect.Close(expected.C, state.CellState(), "c_n");
        Assert.Equal(12, state.Position);
    }

    [Theory]
    [InlineData(BackendKind.Managed)]
    [InlineData(BackendKind.Torch)]
    public async Task A_bidirectional_model_serves_replays_like_the_bulk_call_and_refuses_tokens(BackendKind backend)
    {
        var spec = TestModels.BidirectionalGru;
        var backendOptions = new BackendOptions(backend);
        var (identity, weights) = TestModels.Create(spec);
        using var reference = new Reference(weights, backendOptions);
        await using var scope = await EngineScope.StartAsync(identity, weights, new EngineOptions { Backend = backendOptions });
        var random = new Random(12);
        await scope.Engine.OpenAsync("a");
        var before = await scope.Engine.SnapshotAsync("a");

        var refused = await Assert.ThrowsAsync<EngineException>(() => scope.Engine.PushAsync("a", TestModels.RandomToken(spec, random)));
        Assert.Equal(EngineErrorCode.TokensNotSupported, refused.Code);
        Assert.Contains("bidirectional", refused.Message, StringComparison.Ordinal);
        Assert.Contains("replays (a Replay frame) only", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Async", refused.Message, StringComparison.Ordinal);
        var unchanged = await scope.Engine.SnapshotAsync("a");
        Assert.Equal(before.Position, unchanged.Position);
        Expect.BitExact(before.HiddenState(), unchanged.HiddenState(), "h after the refused token");

        var tokens = TestModels.RandomSequence(spec, random, 8);
        var replayed = await scope.Engine.ReplayAsync("a", tokens);
        var expected = reference.Run(tokens);
        for (var t = 0; t < tokens.Length; t++)
        {
            Assert.Equal(2 * spec.Recurrent.HiddenSize, replayed.Outputs[t].Length);
            Expect.Close(expected.Outputs[t], replayed.Outputs[t].Span, $"step {t}");
        }

        var after = await scope.Engine.SnapshotAsync("a");
        Expect.Close(expected.H, after.HiddenState(), "h_n, forward then reverse per layer");
        Assert.Equal(8, after.Position);
    }
}
