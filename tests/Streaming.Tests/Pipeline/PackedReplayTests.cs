using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Pipeline;
using Streaming.Tests.Engine;

namespace Streaming.Tests.Pipeline;

/// <summary>
/// Replays of several sessions in one batch, which each layer runs as a packed sequence (a batched step over the sessions
/// still running, a bulk call for the last one's tail), against each sequence run alone through the bulk call.
/// </summary>
public sealed class PackedReplayTests
{
    public static TheoryData<BackendKind, string> Models()
    {
        var data = new TheoryData<BackendKind, string>();
        foreach (var backend in new[] { BackendKind.Managed, BackendKind.Torch })
        {
            foreach (var model in new[] { "Lstm2", "Gru2", "RnnRelu", "ProjectedLstm", "EmbeddingHead", "BidirectionalGru" })
            {
                data.Add(backend, model);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Ragged_replays_in_one_batch_equal_each_sequence_alone_in_outputs_and_final_state(BackendKind backend, string model)
    {
        var spec = (ModelSpec)typeof(TestModels).GetProperty(model)!.GetValue(null)!;
        var r = spec.Recurrent;
        var (_, weights) = TestModels.Create(spec);
        var options = new BackendOptions(backend);
        using var reference = new Reference(weights, options);
        using var computed = RecurrentBackends.Create(weights, options);
        var processors = PipelineStage.Of(computed, initialSlots: 2).Select(s => s.CreateProcessor()).ToArray();
        var random = new Random(31);
        // Equal lengths, length 1, and a longest sequence whose tail runs alone (15 steps past the next longest).
        int[] lengths = [1, 5, 5, 12, 3, 27, 1, 7, 12, 2];
        var sessions = lengths.Length;
        var ids = Enumerable.Range(0, sessions).Select(s => $"s{s}").ToArray();
        Run(processors, ids.Select(id => new Element(ElementKind.Open, id, r.NumLayers)));

        // Odd sessions first take a few tokens one at a time (a unidirectional model's only), then replay from where that
        // left them; every third replays from a state it is given instead.
        var before = new Token[sessions][];
        for (var s = 0; s < sessions; s++)
        {
            before[s] = s % 2 == 1 && !r.Bidirectional ? TestModels.RandomSequence(spec, random, 1 + s % 4) : [];
        }

        for (var t = 0; t < before.Max(b => b.Length); t++)
        {
            Run(processors, Enumerable.Range(0, sessions).Where(s => t < before[s].Length).Select(s => TokenElement(spec, ids[s], before[s][t])));
        }

        var replays = lengths.Select(length => TestModels.RandomSequence(spec, random, length)).ToArray();
        var given = Enumerable.Range(0, sessions).Select(s => s % 3 == 0 ? RandomState(r, random) : null).ToArray();
        var elements = Enumerable.Range(0, sessions).Select(s => ReplayElement(spec, ids[s], replays[s], given[s]?.ToLayers(r))).ToArray();
        Run(processors, elements);
        var snapshots = ids.Select(id => new Element(ElementKind.Snapshot, id, r.NumLayers)).ToArray();
        Run(processors, snapshots);

        for (var s = 0; s < sessions; s++)
        {
            var whole = given[s] is null ? [.. before[s], .. replays[s]] : replays[s];
            var expected = reference.Run(whole, given[s]);
            var skipped = whole.Length - replays[s].Length;
            var size = spec.OutputSize;
            Assert.Equal(replays[s].Length * size, elements[s].Data.Length);
            for (var t = 0; t < replays[s].Length; t++)
            {
                Expect.Close(expected.Outputs[skipped + t], elements[s].Data.AsSpan(t * size, size), $"session {s} (length {lengths[s]}), step {t}");
            }

            Expect.Close(expected.H, snapshots[s].Collected!.SelectMany(l => l.H.ToArray()).ToArray(), $"session {s}: h_n");
            Expect.Close(expected.C, snapshots[s].Collected!.SelectMany(l => l.C.ToArray()).ToArray(), $"session {s}: c_n");
        }

        foreach (var processor in processors)
        {
            processor.Dispose();
        }
    }

    // One batch through every stage in turn, as the fused layout computes it.
    private static void Run(IBatchProcessor[] processors, IEnumerable<Element> batch)
    {
        var elements = batch.ToArray();
        foreach (var processor in processors)
        {
            processor.Process(elements);
        }
    }

    private static Element TokenElement(ModelSpec spec, string id, Token token) =>
        spec.TakesTokenIds
            ? new Element(ElementKind.Token, id, spec.Recurrent.NumLayers) { Ids = [token.TokenId] }
            : new Element(ElementKind.Token, id, spec.Recurrent.NumLayers) { Data = token.Values.ToArray() };

    private static Element ReplayElement(ModelSpec spec, string id, Token[] tokens, IReadOnlyList<LayerState>? from) =>
        spec.TakesTokenIds
            ? new Element(ElementKind.Replay, id, spec.Recurrent.NumLayers) { Ids = tokens.Select(t => t.TokenId).ToArray(), Steps = tokens.Length, States = from }
            : new Element(ElementKind.Replay, id, spec.Recurrent.NumLayers) { Data = tokens.SelectMany(t => t.Values.ToArray()).ToArray(), Steps = tokens.Length, States = from };

    private static InitialState RandomState(RecurrentSpec r, Random random) => new(
        Enumerable.Range(0, r.NumLayers * r.Directions * r.OutputSize).Select(_ => (float)random.NextDouble() - 0.5f).ToArray(),
        r.HasCellState ? Enumerable.Range(0, r.NumLayers * r.Directions * r.HiddenSize).Select(_ => (float)random.NextDouble() - 0.5f).ToArray() : ReadOnlyMemory<float>.Empty);
}
