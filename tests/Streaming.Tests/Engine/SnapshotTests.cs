using Streaming.Cells.Backends;

namespace Streaming.Tests.Engine;

public sealed class SnapshotTests
{
    public static TheoryData<string, BackendKind> Forms() => new()
    {
        { "bytes", BackendKind.Managed },
        { "json", BackendKind.Managed },
        { "bytes", BackendKind.Torch },
        { "json", BackendKind.Torch },
    };

    private static SessionSnapshot RoundTrip(SessionSnapshot snapshot, string form) =>
        form == "bytes" ? SessionSnapshot.FromBytes(snapshot.ToBytes()) : SessionSnapshot.FromJson(snapshot.ToJson());

    [Theory]
    [MemberData(nameof(Forms))]
    public async Task Snapshots_taken_while_other_sessions_stream_continue_bit_for_bit_in_a_fresh_engine(string form, BackendKind backend)
    {
        var spec = TestModels.Lstm2;
        var backendOptions = new BackendOptions(backend);
        var (identity, weights) = TestModels.Create(spec, seed: 5);
        using var reference = new Reference(weights, backendOptions);
        var random = new Random(8);
        const int sessions = 60, length = 30, snapshotted = 20;
        var sequences = Enumerable.Range(0, sessions).Select(_ => TestModels.RandomSequence(spec, random, length)).ToArray();
        // Sessions below `snapshotted` stream only up to their snapshot point; the others stream everything around them.
        var cut = Enumerable.Range(0, sessions).Select(s => s < snapshotted ? random.Next(1, length) : length).ToArray();

        var options = new EngineOptions { Backend = backendOptions };
        await using var original = await EngineScope.StartAsync(identity, weights, options);
        await using var fresh = await EngineScope.StartAsync(identity, weights, options);
        var pushes = new List<Task<TokenOutput>>();
        var snapshots = new Task<SessionSnapshot>[snapshotted];
        await Task.WhenAll(Enumerable.Range(0, sessions).Select(s => original.Engine.OpenAsync($"s{s}")));
        foreach (var (s, t) in ConcurrentSessionsTests.Interleave(cut, random))
        {
            pushes.Add(original.Engine.PushAsync($"s{s}", sequences[s][t]));
            if (t == cut[s] - 1 && s < snapshotted)
            {
                snapshots[s] = original.Engine.SnapshotAsync($"s{s}");
            }
        }

        await Task.WhenAll(pushes);
        for (var s = 0; s < snapshotted; s++)
        {
            var snapshot = await snapshots[s];
            Assert.Equal(cut[s], snapshot.Position);
            Assert.Equal(identity, snapshot.Model);
            var upToCut = reference.Run(sequences[s][..cut[s]]);
            Expect.Close(upToCut.H, snapshot.HiddenState(), $"session {s} h at {cut[s]}");
            Expect.Close(upToCut.C, snapshot.CellState(), $"session {s} c at {cut[s]}");

            await fresh.Engine.RestoreAsync($"copy{s}", RoundTrip(snapshot, form));
            var expected = reference.Run(sequences[s]);
            for (var t = cut[s]; t < length; t++)
            {
                // One token at a time in both engines, so both compute it in a batch of one.
                var continued = await original.Engine.PushAsync($"s{s}", sequences[s][t]);
                var restored = await fresh.Engine.PushAsync($"copy{s}", sequences[s][t]);
                Assert.Equal(t + 1, restored.Position);
                Expect.BitExact(continued.Output.Span, restored.Output.Span, $"session {s} step {t}");
                Expect.Close(expected.Outputs[t], restored.Output.Span, $"session {s} step {t} vs bulk");
            }
        }
    }

    [Fact]
    public async Task A_snapshot_holds_exactly_the_tokens_sent_before_it()
    {
        var spec = TestModels.Gru2;
        var (identity, weights) = TestModels.Create(spec);
        using var reference = new Reference(weights, BackendOptions.Managed);
        await using var scope = await EngineScope.StartAsync(identity, weights);
        var tokens = TestModels.RandomSequence(spec, new Random(2), 12);
        await scope.Engine.OpenAsync("a");

        // Nothing is awaited in between: order alone decides what the snapshot sees.
        var before = tokens[..7].Select(t => scope.Engine.PushAsync("a", t)).ToArray();
        var snapshot = scope.Engine.SnapshotAsync("a");
        var after = tokens[7..].Select(t => scope.Engine.PushAsync("a", t)).ToArray();
        await Task.WhenAll(before.Concat(after));

        var taken = await snapshot;
        Assert.Equal(7, taken.Position);
        Expect.Close(reference.Run(tokens[..7]).H, taken.HiddenState(), "h after 7 tokens");
        Assert.Empty(taken.CellState());
    }

    [Fact]
    public async Task Restoring_into_an_open_session_replaces_its_state_and_position()
    {
        var spec = TestModels.Lstm2;
        var (identity, weights) = TestModels.Create(spec);
        using var reference = new Reference(weights, BackendOptions.Managed);
        await using var scope = await EngineScope.StartAsync(identity, weights);
        var random = new Random(4);
        var first = TestModels.RandomSequence(spec, random, 5);
        var other = TestModels.RandomSequence(spec, random, 9);
        await scope.Engine.OpenAsync("a");
        await scope.Engine.OpenAsync("b");
        foreach (var token in first)
        {
            await scope.Engine.PushAsync("a", token);
        }

        foreach (var token in other)
        {
            await scope.Engine.PushAsync("b", token);
        }

        await scope.Engine.RestoreAsync("b", await scope.Engine.SnapshotAsync("a"));
        var next = TestModels.RandomToken(spec, random);
        var output = await scope.Engine.PushAsync("b", next);
        Assert.Equal(6, output.Position);
        Expect.Close(reference.Run([.. first, next]).Outputs[5], output.Output.Span, "b continues from a's state");
    }
}
