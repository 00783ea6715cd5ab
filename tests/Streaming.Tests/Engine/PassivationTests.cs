using Streaming.Cells.Backends;

namespace Streaming.Tests.Engine;

public sealed class PassivationTests
{
    [Theory]
    [InlineData(BackendKind.Managed)]
    [InlineData(BackendKind.Torch)]
    public async Task A_passivated_session_resumes_with_outputs_identical_to_a_never_passivated_one(BackendKind backend)
    {
        var spec = TestModels.Lstm2;
        var (identity, weights) = TestModels.Create(spec);
        var tokens = TestModels.RandomSequence(spec, new Random(13), 15);
        var backendOptions = new BackendOptions(backend);

        float[][] resident;
        await using (var steady = await EngineScope.StartAsync(identity, weights, new EngineOptions { Backend = backendOptions }))
        {
            await steady.Engine.OpenAsync("a");
            resident = new float[tokens.Length][];
            for (var t = 0; t < tokens.Length; t++)
            {
                resident[t] = (await steady.Engine.PushAsync("a", tokens[t])).Output.ToArray();
            }
        }

        var store = new ObservedStore();
        var options = new EngineOptions { Backend = backendOptions, PassivateAfter = TimeSpan.FromMilliseconds(50), Store = store };
        await using var scope = await EngineScope.StartAsync(identity, weights, options);
        await scope.Engine.OpenAsync("a");
        for (var t = 0; t < tokens.Length; t++)
        {
            if (t is 5 or 10)
            {
                // Idle now: the session passivates into the store and the next token brings it back. (On a busy
                // machine it may also have passivated earlier, between two tokens; those saves are skipped.)
                SessionSnapshot? stored;
                do
                {
                    Assert.Equal("a", await store.NextSaveAsync());
                    stored = (await store.LoadAsync("a"))?.Snapshot;
                }
                while (stored is null || stored.Position < t);

                Assert.Equal(t, stored.Position);
                Assert.Equal(identity, stored.Model);
            }

            var output = await scope.Engine.PushAsync("a", tokens[t]);
            Assert.Equal(t + 1, output.Position);
            Expect.BitExact(resident[t], output.Output.Span, $"step {t}");
        }

        Assert.Equal(1, scope.Engine.Statistics.SessionsOpen);
        await scope.Engine.CloseAsync("a");
        Assert.Equal(0, store.Count);
        Assert.Equal(0, scope.Engine.Statistics.SessionsOpen);
        var closed = await Assert.ThrowsAsync<EngineException>(() => scope.Engine.PushAsync("a", tokens[0]));
        Assert.Equal(EngineErrorCode.UnknownSession, closed.Code);
    }

    [Fact]
    public async Task Sessions_passivate_and_resume_while_others_stream_and_all_match_the_bulk_call()
    {
        var spec = TestModels.Gru2;
        var (identity, weights) = TestModels.Create(spec);
        using var reference = new Reference(weights, BackendOptions.Managed);
        var store = new ObservedStore();
        var options = new EngineOptions { PassivateAfter = TimeSpan.FromMilliseconds(30), Store = store };
        await using var scope = await EngineScope.StartAsync(identity, weights, options);
        var random = new Random(17);
        const int sleepers = 10, streamers = 30, length = 24;
        var sequences = Enumerable.Range(0, sleepers + streamers).Select(_ => TestModels.RandomSequence(spec, random, length)).ToArray();
        for (var s = 0; s < sequences.Length; s++)
        {
            await scope.Engine.OpenAsync($"s{s}");
        }

        // Sleepers send half their tokens and fall idle; streamers keep the pipeline busy throughout.
        var outputs = sequences.Select(_ => new List<Task<TokenOutput>>()).ToArray();
        var streaming = Task.Run(async () =>
        {
            for (var t = 0; t < length; t++)
            {
                var step = Enumerable.Range(sleepers, streamers).Select(s => scope.Engine.PushAsync($"s{s}", sequences[s][t])).ToArray();
                for (var s = 0; s < streamers; s++)
                {
                    outputs[sleepers + s].Add(step[s]);
                }

                await Task.WhenAll(step);
            }
        });
        for (var s = 0; s < sleepers; s++)
        {
            outputs[s].AddRange(sequences[s][..(length / 2)].Select(token => scope.Engine.PushAsync($"s{s}", token)));
        }

        await Task.WhenAll(outputs.Take(sleepers).SelectMany(o => o));
        var saved = new HashSet<string>();
        while (!Enumerable.Range(0, sleepers).All(s => saved.Contains($"s{s}")))
        {
            saved.Add(await store.NextSaveAsync());
        }

        for (var s = 0; s < sleepers; s++)
        {
            outputs[s].AddRange(sequences[s][(length / 2)..].Select(token => scope.Engine.PushAsync($"s{s}", token)));
        }

        await streaming;
        for (var s = 0; s < sequences.Length; s++)
        {
            var expected = reference.Run(sequences[s]);
            for (var t = 0; t < length; t++)
            {
                var output = await outputs[s][t];
                Assert.Equal(t + 1, output.Position);
                Expect.Close(expected.Outputs[t], output.Output.Span, $"session {s} step {t}");
            }
        }
    }
}
