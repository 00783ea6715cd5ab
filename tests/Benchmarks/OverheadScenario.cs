using System.Text;
using Akka.Actor;
using Streaming.Cells.Backends;
using Streaming.Cells.Model;

namespace Streaming.Benchmarks;

/// <summary>
/// The engine's per-token machinery alone: the pipeline scenario's traffic (1024 sessions, each pushing its tokens
/// one after another) through a model so small (LSTM 2 x 8) that compute is negligible. Wall time per token is
/// what the operations, hand-overs and replies cost; no libtorch reference applies. CPU time per token (the process's,
/// every thread) is printed beside it: on a shared machine it moves far less than wall time with other processes' load.
/// </summary>
internal static class OverheadScenario
{
    private const int Sessions = 1024;

    public static string Run(bool quick)
    {
        var spec = new RecurrentSpec(RecurrentMode.Lstm, InputSize: 8, HiddenSize: 8, NumLayers: 2);
        var tokens = quick ? 16 : 64;
        var weights = Workloads.Weights(spec, seed: 1);
        var model = ModelIdentity.Of("tiny", weights);
        var inputs = Workloads.Values(new Random(2), tokens * Sessions * spec.InputSize);
        var text = new StringBuilder();
        text.AppendLine($"### Per-token machinery: LSTM 2 x 8 (negligible compute), {Sessions} sessions x {tokens} tokens, in process");
        text.AppendLine();
        text.AppendLine("| backend | layout | tokens/s | of peak | wall us per token | CPU us per token (process, all threads) | cores busy | bytes allocated per token (process) | mean batch (per stage) | target |");
        text.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        var breakdown = new StringBuilder();
        using var sampler = new AllocationSampler();
        foreach (var (backend, layout) in new[] { BackendOptions.Managed, BackendOptions.TorchCpu }
            .SelectMany(b => new[] { (b, PipelineLayout.PerLayer), (b, PipelineLayout.Fused) }))
        {
            using var system = ActorSystem.Create("overhead", PipelineScenario.Quiet);
            var options = EngineOptions.Default with { Backend = backend, Layout = layout };
            var engine = RecurrentEngine.StartAsync(system, model, weights, options).GetAwaiter().GetResult();
            try
            {
                var ids = Enumerable.Range(0, Sessions).Select(i => $"s{i}").ToArray();
                Task.WhenAll(ids.Select(id => engine.OpenAsync(id))).GetAwaiter().GetResult();
                Measure.WarmUp(() => PipelineScenario.PushAll(engine, ids, inputs, spec.InputSize, tokens), TimeSpan.FromSeconds(quick ? 1 : 3));
                var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                PipelineScenario.PushAll(engine, ids, inputs, spec.InputSize, tokens);
                var allocated = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (double)(tokens * Sessions);
                // What those bytes are: three more runs under the allocation sampler.
                sampler.Clear();
                sampler.Start();
                for (var i = 0; i < 3; i++)
                {
                    PipelineScenario.PushAll(engine, ids, inputs, spec.InputSize, tokens);
                }

                sampler.Stop();
                breakdown.AppendLine($"| {backend.Kind} | {layout} | {string.Join("; ", sampler.Top(8, 3.0 * tokens * Sessions).Select(p => $"{p.Type} {p.BytesPerUnit:F0}"))} |");
                var before = engine.Statistics;
                var runs = quick ? 3 : 5;
                var (seconds, cpu, busy) = Measure.MedianSecondsAndCpu(() => PipelineScenario.PushAll(engine, ids, inputs, spec.InputSize, tokens), runs);
                var after = engine.Statistics;
                var rate = tokens * Sessions / seconds;
                var mean = string.Join(" / ", after.Stages.Zip(before.Stages, (a, b) => ((double)(a.Elements - b.Elements) / Math.Max(1, a.Batches - b.Batches)).ToString("F0")));
                var cpuPerToken = cpu * 1e6 / ((double)runs * tokens * Sessions);
                text.AppendLine($"| {backend.Kind} | {layout} | {rate:N0} | {MatrixPeak.OfTokens(rate, spec)} | {1e6 / rate:F2} | {cpuPerToken:F2} | {busy:F2} | {allocated:N0} | {mean} | {(backend.Kind == BackendKind.Managed ? "<= 1 us" : "")} |");
            }
            finally
            {
                engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
                system.Terminate().Wait();
            }
        }

        text.AppendLine();
        text.AppendLine("Where the bytes go: the types allocated most, in bytes per token, from the runtime's allocation ticks (one about every");
        text.AppendLine("100 KB, naming the object being allocated). An estimate: the tick fires when a thread's allocation buffer runs out, so a");
        text.AppendLine("type that a thread allocates rarely but first in a fresh buffer is over-counted (the batch stage's and the reply lane's");
        text.AppendLine("per-batch closures, the `<>c__DisplayClass` entries, are one object per batch of tens to hundreds of tokens):");
        text.AppendLine();
        text.AppendLine("| backend | layout | types, bytes per token |");
        text.AppendLine("| --- | --- | --- |");
        text.Append(breakdown);
        return text.ToString();
    }
}
