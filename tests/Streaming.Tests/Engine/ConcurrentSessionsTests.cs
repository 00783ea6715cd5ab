using Streaming.Cells.Backends;
using Streaming.Cells.Model;

namespace Streaming.Tests.Engine;

public sealed class ConcurrentSessionsTests
{
    public static TheoryData<string, BackendKind, PipelineLayout> Cases()
    {
        var data = new TheoryData<string, BackendKind, PipelineLayout>();
        foreach (var model in new[] { "lstm2", "gru2", "rnn-relu", "projected-lstm", "embedding-head" })
        {
            data.Add(model, BackendKind.Managed, PipelineLayout.PerLayer);
            data.Add(model, BackendKind.Torch, PipelineLayout.PerLayer);
            data.Add(model, BackendKind.Managed, PipelineLayout.Fused);
        }

        data.Add("lstm2", BackendKind.Torch, PipelineLayout.Fused);
        data.Add("embedding-head", BackendKind.Torch, PipelineLayout.Fused);
        return data;
    }

    internal static ModelSpec Model(string name) => name switch
    {
        "lstm2" => TestModels.Lstm2,
        "gru2" => TestModels.Gru2,
        "rnn-relu" => TestModels.RnnRelu,
        "projected-lstm" => TestModels.ProjectedLstm,
        "embedding-head" => TestModels.EmbeddingHead,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown test model"),
    };

    /// <summary>Every token of every session, in a random global order that keeps each session's own order.</summary>
    internal static List<(int Session, int Step)> Interleave(IReadOnlyList<int> lengths, Random random)
    {
        var next = new int[lengths.Count];
        var live = Enumerable.Range(0, lengths.Count).ToList();
        var order = new List<(int, int)>();
        while (live.Count > 0)
        {
            var pick = random.Next(live.Count);
            var session = live[pick];
            order.Add((session, next[session]++));
            if (next[session] == lengths[session])
            {
                live[pick] = live[^1];
                live.RemoveAt(live.Count - 1);
            }
        }

        return order;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Five_hundred_interleaved_sessions_each_get_the_outputs_of_their_sequence_run_alone(string modelName, BackendKind backend, PipelineLayout layout)
    {
        var spec = Model(modelName);
        var backendOptions = new BackendOptions(backend);
        var (identity, weights) = TestModels.Create(spec, seed: 11);
        using var reference = new Reference(weights, backendOptions);
        var random = new Random(42);
        const int sessions = 500;
        var sequences = Enumerable.Range(0, sessions).Select(_ => TestModels.RandomSequence(spec, random, random.Next(1, 41))).ToArray();

        // A small in-flight limit makes most tokens wait in their session's queue first.
        var options = new EngineOptions { Backend = backendOptions, MaxInFlightPerSession = 4, InitialSlots = 16, Layout = layout };
        await using var scope = await EngineScope.StartAsync(identity, weights, options);
        var engine = scope.Engine;
        var opened = Enumerable.Range(0, sessions).Select(s => engine.OpenAsync($"s{s}")).ToArray();
        var outputs = sequences.Select(s => new Task<TokenOutput>[s.Length]).ToArray();
        foreach (var (session, step) in Interleave(sequences.Select(s => s.Length).ToArray(), random))
        {
            outputs[session][step] = engine.PushAsync($"s{session}", sequences[session][step]);
        }

        await Task.WhenAll(opened);
        await Task.WhenAll(outputs.SelectMany(o => o));
        for (var s = 0; s < sessions; s++)
        {
            var expected = reference.Run(sequences[s]);
            for (var t = 0; t < sequences[s].Length; t++)
            {
                var output = await outputs[s][t];
                Assert.Equal($"s{s}", output.SessionId);
                Assert.Equal(t + 1, output.Position);
                Expect.Close(expected.Outputs[t], output.Output.Span, $"session {s} step {t}");
            }
        }

        var statistics = engine.Statistics;
        Assert.Equal(sessions, statistics.SessionsOpen);
        Assert.Equal(sequences.Sum(s => (long)s.Length), statistics.TokensProcessed);
        Assert.Equal(0, statistics.ElementsInPipeline);
        var stages = Enumerable.Range(0, spec.Recurrent.NumLayers).Select(i => $"layer {i}").Concat(spec.Head is null ? [] : ["head"]);
        Assert.Equal(layout == PipelineLayout.Fused ? ["stack"] : stages, statistics.Stages.Select(s => s.Name));
    }
}
