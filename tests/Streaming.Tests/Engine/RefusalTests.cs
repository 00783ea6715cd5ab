using Streaming.Cells.Model;

namespace Streaming.Tests.Engine;

public sealed class RefusalTests
{
    private sealed record BadCase(ModelSpec Spec, Func<RecurrentEngine, Task> Send, EngineErrorCode Code, params string[] MessageParts);

    private static readonly SessionSnapshot OtherModelsSnapshot = new(
        TestModels.Create(TestModels.Lstm2, seed: 99, name: "other").Identity, 3,
        [new LayerState(new float[8], new float[8]), new LayerState(new float[8], new float[8])]);

    private static BadCase Case(string name) => name switch
    {
        "wrong length" => new(TestModels.Lstm2, e => e.PushAsync("victim", Token.Vector(new float[4])), EngineErrorCode.InvalidInput,
            "'victim'", "has 4 values; expected input_size 5"),
        "NaN" => new(TestModels.Lstm2, e => e.PushAsync("victim", Token.Vector(new[] { 0f, 1f, float.NaN, 0f, 0f })), EngineErrorCode.InvalidInput,
            "value NaN at index 2", "finite"),
        "infinity" => new(TestModels.Lstm2, e => e.PushAsync("victim", Token.Vector(new[] { 0f, 0f, 0f, 0f, float.NegativeInfinity })), EngineErrorCode.InvalidInput,
            "at index 4", "finite"),
        "id to a vector model" => new(TestModels.Lstm2, e => e.PushAsync("victim", Token.Id(3)), EngineErrorCode.InvalidInput,
            "is the id 3", "no embedding", "input_size 5"),
        "vector to an id model" => new(TestModels.EmbeddingHead, e => e.PushAsync("victim", Token.Vector(new float[6])), EngineErrorCode.InvalidInput,
            "vector of 6 values", "takes token ids", "0..19"),
        "id out of range" => new(TestModels.EmbeddingHead, e => e.PushAsync("victim", Token.Id(20)), EngineErrorCode.InvalidInput,
            "is the id 20", "expected an id in 0..19"),
        "negative id" => new(TestModels.EmbeddingHead, e => e.PushAsync("victim", Token.Id(-1)), EngineErrorCode.InvalidInput,
            "is the id -1"),
        "unknown session" => new(TestModels.Lstm2, e => e.PushAsync("ghost", Token.Vector(new float[5])), EngineErrorCode.UnknownSession,
            "'ghost'", "not open"),
        "already open" => new(TestModels.Lstm2, e => e.OpenAsync("victim"), EngineErrorCode.SessionAlreadyOpen,
            "'victim'", "already open"),
        "another model's snapshot" => new(TestModels.Lstm2, e => e.RestoreAsync("victim", OtherModelsSnapshot), EngineErrorCode.ModelMismatch,
            "'other'", "'test-model'"),
        "a snapshot of another shape" => new(TestModels.Lstm2,
            e => e.RestoreAsync("victim", OtherModelsSnapshot with { Model = e.Model, Layers = [OtherModelsSnapshot.Layers[0]] }), EngineErrorCode.ModelMismatch,
            "1 layer(s)", "num_layers = 2"),
        "a snapshot with NaN in h" => new(TestModels.Lstm2,
            e => e.RestoreAsync("victim", OtherModelsSnapshot with { Model = e.Model, Layers = [Poisoned(h: 3, value: float.NaN), OtherModelsSnapshot.Layers[1]] }),
            EngineErrorCode.InvalidState, "layer 0 h[3] is NaN", "finite"),
        "a snapshot with infinity in c" => new(TestModels.Lstm2,
            e => e.RestoreAsync("victim", OtherModelsSnapshot with { Model = e.Model, Layers = [OtherModelsSnapshot.Layers[0], Poisoned(c: 7, value: float.PositiveInfinity)] }),
            EngineErrorCode.InvalidState, "layer 1 c[7] is ", "finite"),
        "a snapshot with a negative position" => new(TestModels.Lstm2,
            e => e.RestoreAsync("victim", OtherModelsSnapshot with { Model = e.Model, Position = -1 }), EngineErrorCode.MalformedSnapshot,
            "position is -1", "expected 0 or more"),
        "bad h0" => new(TestModels.Lstm2, e => e.OpenAsync("newcomer", new InitialState(new float[3], default)), EngineErrorCode.InvalidState,
            "h0 has 3 values; expected 16"),
        "bad replay input" => new(TestModels.Lstm2,
            e => e.ReplayAsync("victim", [Token.Vector(new float[5]), Token.Vector(new float[5]), Token.Vector(new float[2])]), EngineErrorCode.InvalidInput,
            "inputs[2] has 2 values; expected input_size 5"),
        "empty replay" => new(TestModels.Lstm2, e => e.ReplayAsync("victim", []), EngineErrorCode.InvalidInput, "no inputs"),
        "replay to an unknown session" => new(TestModels.Lstm2, e => e.ReplayAsync("ghost", [Token.Vector(new float[5])]), EngineErrorCode.UnknownSession,
            "'ghost'"),
        "snapshot of an unknown session" => new(TestModels.Lstm2, e => e.SnapshotAsync("ghost"), EngineErrorCode.UnknownSession, "'ghost'"),
        "reset of an unknown session" => new(TestModels.Lstm2, e => e.ResetAsync("ghost"), EngineErrorCode.UnknownSession, "'ghost'"),
        "close of an unknown session" => new(TestModels.Lstm2, e => e.CloseAsync("ghost"), EngineErrorCode.UnknownSession, "'ghost'"),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown case"),
    };

    private static LayerState Poisoned(int h = -1, float value = 0, int c = -1)
    {
        var hs = new float[8];
        var cs = new float[8];
        if (h >= 0)
        {
            hs[h] = value;
        }

        if (c >= 0)
        {
            cs[c] = value;
        }

        return new LayerState(hs, cs);
    }

    public static TheoryData<string> Cases() =>
    [
        "wrong length", "NaN", "infinity", "id to a vector model", "vector to an id model", "id out of range", "negative id",
        "unknown session", "already open", "another model's snapshot", "a snapshot of another shape", "a snapshot with NaN in h",
        "a snapshot with infinity in c", "a snapshot with a negative position", "bad h0", "bad replay input",
        "empty replay", "replay to an unknown session", "snapshot of an unknown session", "reset of an unknown session",
        "close of an unknown session",
    ];

    // Two sessions stream one token at a time (so batches are identical from run to run); the bad operation, when
    // given, goes in before every third victim token.
    private static async Task<(float[][] Good, float[][] Victim, long VictimPosition)> RunAsync(BadCase? bad, ModelSpec spec)
    {
        await using var scope = await EngineScope.StartAsync(spec);
        var engine = scope.Engine;
        var random = new Random(21);
        var good = TestModels.RandomSequence(spec, random, 9);
        var victim = TestModels.RandomSequence(spec, random, 9);
        await engine.OpenAsync("good");
        await engine.OpenAsync("victim");
        var goodOutputs = new List<float[]>();
        var victimOutputs = new List<float[]>();
        for (var t = 0; t < good.Length; t++)
        {
            goodOutputs.Add((await engine.PushAsync("good", good[t])).Output.ToArray());
            if (bad is not null && t % 3 == 0)
            {
                var error = await Assert.ThrowsAsync<EngineException>(() => bad.Send(engine));
                Assert.Equal(bad.Code, error.Code);
                Assert.All(bad.MessageParts, part => Assert.Contains(part, error.Message, StringComparison.Ordinal));
            }

            victimOutputs.Add((await engine.PushAsync("victim", victim[t])).Output.ToArray());
        }

        var position = (await engine.SnapshotAsync("victim")).Position;
        return (goodOutputs.ToArray(), victimOutputs.ToArray(), position);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_refused_operation_names_the_problem_and_changes_no_session(string name)
    {
        var bad = Case(name);
        var clean = await RunAsync(null, bad.Spec);
        var spoiled = await RunAsync(bad, bad.Spec);

        Assert.Equal(clean.VictimPosition, spoiled.VictimPosition);
        for (var t = 0; t < clean.Good.Length; t++)
        {
            Expect.BitExact(clean.Good[t], spoiled.Good[t], $"good session, step {t}");
            Expect.BitExact(clean.Victim[t], spoiled.Victim[t], $"victim session, step {t}");
        }
    }

    [Fact]
    public async Task Operations_after_disposal_are_refused_as_engine_stopped()
    {
        var scope = await EngineScope.StartAsync(TestModels.Lstm2);
        await scope.Engine.OpenAsync("a");
        await scope.DisposeAsync();

        var error = await Assert.ThrowsAsync<EngineException>(() => scope.Engine.PushAsync("a", Token.Vector(new float[5])));
        Assert.Equal(EngineErrorCode.EngineStopped, error.Code);
        Assert.Contains("stopped", error.Message, StringComparison.Ordinal);
        Assert.Equal(EngineErrorCode.EngineStopped, (await Assert.ThrowsAsync<EngineException>(() => scope.Engine.OpenAsync("b"))).Code);
    }

    [Fact]
    public async Task A_failing_stage_fails_pending_operations_as_engine_stopped_instead_of_hanging()
    {
        await using var scope = await EngineScope.StartAsync(TestModels.Lstm2);
        var engine = scope.Engine;
        await engine.OpenAsync("a");
        await engine.OpenAsync("b");
        await engine.PushAsync("a", Token.Vector(new float[5]));

        // A disposed backend throws inside the layer stage, which fails the pipeline.
        engine.Backend.Dispose();
        var pending = Enumerable.Range(0, 20).Select(i => engine.PushAsync(i % 2 == 0 ? "a" : "b", Token.Vector(new float[5]))).ToArray();
        foreach (var push in pending)
        {
            var error = await Assert.ThrowsAsync<EngineException>(() => push);
            Assert.Equal(EngineErrorCode.EngineStopped, error.Code);
        }

        var later = await Assert.ThrowsAsync<EngineException>(() => engine.SnapshotAsync("a"));
        Assert.Equal(EngineErrorCode.EngineStopped, later.Code);
        Assert.Contains("pipeline failed", later.Message, StringComparison.Ordinal);
    }
}
