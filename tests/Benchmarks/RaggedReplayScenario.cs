using System.Text;
using Akka.Actor;
using Streaming.Cells.Backends;
using Streaming.Cells.Sequences;

namespace Streaming.Benchmarks;

/// <summary>
/// Bulk replay across sessions: 1,024 sessions each replay a sequence at once, of lengths from 1 to 64 as PyTorch's
/// packed sequences would hold them, through the engine (Managed backend), against one Managed bulk Forward over the
/// same batch padded to 64 steps, in the same run.
/// </summary>
internal static class RaggedReplayScenario
{
    private const int Sessions = 1024;

    public static string Run(bool quick)
    {
        var spec = Workloads.W;
        var longest = quick ? 16 : 64;
        var repetitions = quick ? 2 : 5;
        var weights = Workloads.Weights(spec, seed: 1);
        var random = new Random(7);
        var lengths = Enumerable.Range(0, Sessions).Select(_ => random.Next(1, longest + 1)).ToArray();
        var padded = Workloads.Values(new Random(8), longest * Sessions * spec.InputSize);
        var tokens = lengths.Sum();

        double forward;
        using (var model = new RecurrentModel(RecurrentBackends.Create(weights, BackendOptions.Managed)))
        {
            var request = SequenceInput.FromVectors(padded, longest, Sessions);
            forward = Measure.MedianSeconds(() => model.Forward(request), repetitions);
        }

        // Session s replays the first lengths[s] steps of column s of the padded batch.
        var sequences = Enumerable.Range(0, Sessions).Select(s => (IReadOnlyList<Token>)Enumerable.Range(0, lengths[s])
            .Select(t => Token.Vector(padded.AsMemory((t * Sessions + s) * spec.InputSize, spec.InputSize))).ToArray()).ToArray();
        double engineSeconds;
        using (var system = ActorSystem.Create("ragged", PipelineScenario.Quiet))
        {
            var engine = RecurrentEngine.StartAsync(system, ModelIdentity.Of("W", weights), weights, EngineOptions.Default with { Backend = BackendOptions.Managed })
                .GetAwaiter().GetResult();
            try
            {
                var ids = Enumerable.Range(0, Sessions).Select(i => $"r{i}").ToArray();
                Task.WhenAll(ids.Select(id => engine.OpenAsync(id))).GetAwaiter().GetResult();
                // Every replay starts from zeros, as the padded Forward does.
                engineSeconds = Measure.MedianSeconds(
                    () => Task.WhenAll(ids.Select((id, s) => engine.ReplayAsync(id, sequences[s], InitialState.Zeros))).GetAwaiter().GetResult(),
                    repetitions);
            }
            finally
            {
                engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
                system.Terminate().Wait();
            }
        }

        var text = new StringBuilder();
        text.AppendLine($"### Bulk replay across sessions: {Sessions} sessions at W, lengths 1 to {longest} ({tokens:N0} tokens, {longest * Sessions:N0} padded)");
        text.AppendLine();
        text.AppendLine("| measure | time | real tokens/s | of peak (real tokens) | vs padded Forward | target |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | --- |");
        text.AppendLine($"| Managed bulk Forward, batch padded to {longest} steps | {forward * 1e3:F1} ms | {tokens / forward:N0} | {MatrixPeak.OfTokens(tokens / forward, spec)} | 1.00 | reference |");
        text.AppendLine($"| engine, {Sessions} concurrent ReplayAsync (Managed) | {engineSeconds * 1e3:F1} ms | {tokens / engineSeconds:N0} | {MatrixPeak.OfTokens(tokens / engineSeconds, spec)} | {forward / engineSeconds:F2} | >= 0.9 |");
        return text.ToString();
    }
}
