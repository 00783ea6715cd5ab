using Akka.Actor;
using Streaming.Cells.Backends;
using Streaming.Cells.Weights;

namespace Streaming.Tests.Engine;

public sealed class LifecycleTests
{
    [Fact]
    public async Task A_session_opened_from_h0_and_c0_continues_from_that_state()
    {
        var spec = TestModels.Lstm2;
        var (identity, weights) = TestModels.Create(spec);
        using var reference = new Reference(weights, BackendOptions.Managed);
        await using var scope = await EngineScope.StartAsync(identity, weights);
        var random = new Random(31);
        var from = new InitialState(
            Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble()).ToArray(),
            Enumerable.Range(0, 16).Select(_ => (float)-random.NextDouble()).ToArray());
        var tokens = TestModels.RandomSequence(spec, random, 6);
        await scope.Engine.OpenAsync("a", from);

        var expected = reference.Run(tokens, from);
        for (var t = 0; t < tokens.Length; t++)
        {
            var output = await scope.Engine.PushAsync("a", tokens[t]);
            Expect.Close(expected.Outputs[t], output.Output.Span, $"step {t}");
        }
    }

    [Fact]
    public async Task Reset_starts_the_session_over_like_a_fresh_one()
    {
        var spec = TestModels.Gru2;
        await using var scope = await EngineScope.StartAsync(spec);
        var tokens = TestModels.RandomSequence(spec, new Random(32), 5);
        await scope.Engine.OpenAsync("a");
        await scope.Engine.OpenAsync("fresh");
        foreach (var token in tokens)
        {
            await scope.Engine.PushAsync("a", token);
        }

        await scope.Engine.ResetAsync("a");
        var zeroed = await scope.Engine.SnapshotAsync("a");
        Assert.Equal(0, zeroed.Position);
        Assert.All(zeroed.HiddenState(), v => Assert.Equal(0f, v));
        foreach (var token in tokens)
        {
            var again = await scope.Engine.PushAsync("a", token);
            var fresh = await scope.Engine.PushAsync("fresh", token);
            Assert.Equal(fresh.Position, again.Position);
            Expect.BitExact(fresh.Output.Span, again.Output.Span, $"position {again.Position}");
        }
    }

    [Fact]
    public async Task A_closed_session_is_unknown_until_opened_again_from_zeros()
    {
        var spec = TestModels.RnnRelu;
        await using var scope = await EngineScope.StartAsync(spec);
        var token = TestModels.RandomToken(spec, new Random(33));
        await scope.Engine.OpenAsync("a");
        var first = await scope.Engine.PushAsync("a", token);
        await scope.Engine.PushAsync("a", token);
        Assert.Equal(1, scope.Engine.Statistics.SessionsOpen);

        await scope.Engine.CloseAsync("a");
        Assert.Equal(0, scope.Engine.Statistics.SessionsOpen);
        var unknown = await Assert.ThrowsAsync<EngineException>(() => scope.Engine.PushAsync("a", token));
        Assert.Equal(EngineErrorCode.UnknownSession, unknown.Code);
        Assert.Contains("not open", unknown.Message, StringComparison.Ordinal);

        await scope.Engine.OpenAsync("a");
        var reopened = await scope.Engine.PushAsync("a", token);
        Assert.Equal(1, reopened.Position);
        Expect.BitExact(first.Output.Span, reopened.Output.Span, "first output after reopening");
    }

    [Fact]
    public async Task Close_then_open_sent_back_to_back_both_apply_in_order()
    {
        var spec = TestModels.Lstm2;
        await using var scope = await EngineScope.StartAsync(spec);
        var token = TestModels.RandomToken(spec, new Random(34));
        await scope.Engine.OpenAsync("a");
        var first = await scope.Engine.PushAsync("a", token);

        // None awaited: the session's actor applies them in the order sent.
        var operations = new Task[] { scope.Engine.PushAsync("a", token), scope.Engine.CloseAsync("a"), scope.Engine.OpenAsync("a") };
        var afterReopen = scope.Engine.PushAsync("a", token);
        await Task.WhenAll(operations);

        var reopened = await afterReopen;
        Assert.Equal(1, reopened.Position);
        Expect.BitExact(first.Output.Span, reopened.Output.Span, "the reopened session starts from zeros");
    }

    [Fact]
    public async Task An_engine_starts_from_a_manifest_and_its_snapshots_name_the_manifests_model()
    {
        var spec = TestModels.EmbeddingHead;
        var weights = ModelWeights.CreateRandom(spec, 3);
        var folder = Directory.CreateTempSubdirectory("engine-manifest-");
        try
        {
            Safetensors.Write(Path.Combine(folder.FullName, "chars.safetensors"), weights.ToTensors());
            var manifest = Path.Combine(folder.FullName, "chars.json");
            await File.WriteAllTextAsync(manifest, """
                { "name": "chars", "weights": "chars.safetensors",
                  "recurrent": { "mode": "LSTM", "input_size": 6, "hidden_size": 9 },
                  "embedding": { "num_embeddings": 20, "embedding_dim": 6 },
                  "head": { "out_features": 20 } }
                """);
            var system = ActorSystem.Create("manifest-test");
            try
            {
                var engine = await RecurrentEngine.StartAsync(system, manifest);
                await using (engine)
                {
                    Assert.Equal(ModelIdentity.Of("chars", weights), engine.Model);
                    Assert.Equal(spec, engine.Spec);
                    await engine.OpenAsync("a");
                    Assert.Equal(20, (await engine.PushAsync("a", Token.Id(4))).Output.Length);
                    Assert.Equal(engine.Model, (await engine.SnapshotAsync("a")).Model);
                }
            }
            finally
            {
                await system.Terminate();
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Options_out_of_range_are_refused_by_name()
    {
        var (identity, weights) = TestModels.Create(TestModels.Gru2);
        var system = ActorSystem.Create("options-test");
        try
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() =>
                RecurrentEngine.StartAsync(system, identity, weights, new EngineOptions { MaxInFlightPerSession = 0 }));
            Assert.Contains("MaxInFlightPerSession is 0; expected 1 or more", error.Message, StringComparison.Ordinal);
            error = await Assert.ThrowsAsync<ArgumentException>(() =>
                RecurrentEngine.StartAsync(system, identity, weights, new EngineOptions { PassivateAfter = TimeSpan.Zero }));
            Assert.Contains("PassivateAfter", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await system.Terminate();
        }
    }
}
