using System.Diagnostics;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Benchmarks;

/// <summary>
/// The whole in-process engine at workload W (1024 sessions x 64 tokens, each session pushing its tokens
/// one after another, all sessions at once): throughput against libtorch's bulk nn.LSTM and against a
/// per-session per-token libtorch loop, the batch sizes the stages formed, p50/p99 latency at half the
/// measured peak, and bytes per idle session.
/// </summary>
internal static class PipelineScenario
{
    private const int Sessions = 1024;

    public static string Run(bool quick)
    {
        var spec = Workloads.W;
        var tokens = quick ? 16 : 64;
        var weights = Workloads.Weights(spec, seed: 1);
        var model = ModelIdentity.Of("W", weights);
        var inputs = Workloads.Values(new Random(2), tokens * Sessions * spec.InputSize);
        var text = new StringBuilder();

        var bulkSeconds = LibtorchBulkSeconds(spec, inputs, tokens, quick ? 3 : 5);
        var loopTokensPerSecond = LibtorchPerSessionLoopTokensPerSecond(spec, inputs, quick ? 16 : 64, tokens);
        var bulkRate = tokens * Sessions / bulkSeconds;
        text.AppendLine($"### Engine at workload W: LSTM 2 x 256 -> 256, {Sessions} sessions x {tokens} tokens, in process");
        text.AppendLine();
        text.AppendLine("| measure | tokens/s | of peak | vs libtorch bulk | vs per-session libtorch loop | vs its backend's batched step | mean batch (per stage) | largest batch | stage busy (per stage) | target |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        text.AppendLine($"| libtorch bulk nn.LSTM | {bulkRate:N0} | {MatrixPeak.OfTokens(bulkRate, spec)} | 1.00 | {bulkRate / loopTokensPerSecond:F1}x | | | | | reference |");
        text.AppendLine($"| libtorch per-session per-token LSTMCell loop | {loopTokensPerSecond:N0} | {MatrixPeak.OfTokens(loopTokensPerSecond, spec)} | {loopTokensPerSecond / bulkRate:F2} | 1.0x | | | | | reference |");

        var latencyRows = new List<string>();
        var breakdownRows = new List<string>();
        var stepRate = 0.0;
        foreach (var (backend, layout) in new[] { BackendOptions.TorchCpu, BackendOptions.Managed }
            .SelectMany(b => new[] { (b, PipelineLayout.PerLayer), (b, PipelineLayout.Fused) }))
        {
            if (layout == PipelineLayout.PerLayer)
            {
                // The backend's own batched step over the same tokens, with every core: what the engine's stages can reach.
                using var stepping = RecurrentBackends.Create(weights, backend);
                var stepSeconds = Measure.MedianSeconds(() => BatchedStepScenario.StepAll(stepping, inputs, tokens, Sessions), quick ? 1 : 3);
                stepRate = tokens * Sessions / stepSeconds;
                text.AppendLine($"| {backend.Kind} backend, batched step (no engine) | {stepRate:N0} | {MatrixPeak.OfTokens(stepRate, spec)} | {stepRate / bulkRate:F2} | {stepRate / loopTokensPerSecond:F1}x | 1.00 | | | | reference |");
            }

            using var system = ActorSystem.Create("bench", Quiet);
            var options = EngineOptions.Default with { Backend = backend, Layout = layout };
            var engine = RecurrentEngine.StartAsync(system, model, weights, options).GetAwaiter().GetResult();
            try
            {
                var ids = Enumerable.Range(0, Sessions).Select(i => $"s{i}").ToArray();
                Task.WhenAll(ids.Select(id => engine.OpenAsync(id))).GetAwaiter().GetResult();
                // One untimed pass warms the JIT, the slabs and libtorch's kernels.
                Measure.WarmUp(() => PushAll(engine, ids, inputs, spec.InputSize, Math.Min(tokens, 8)), TimeSpan.FromSeconds(quick ? 1 : 3));
                var before = engine.Statistics;
                var timed = Stopwatch.StartNew();
                var seconds = Measure.MedianSeconds(() => PushAll(engine, ids, inputs, spec.InputSize, tokens), quick ? 1 : 3, warmup: 0);
                var wall = timed.Elapsed;
                var after = engine.Statistics;
                var rate = tokens * Sessions / seconds;
                var mean = string.Join(" / ", after.Stages.Zip(before.Stages, (a, b) => ((double)(a.Elements - b.Elements) / Math.Max(1, a.Batches - b.Batches)).ToString("F0")));
                var largest = after.Stages.Max(l => l.LargestBatch);
                // How much of the wall time each layer stage spent computing (both compute at once on different batches).
                var busy = string.Join(" / ", after.Stages.Zip(before.Stages, (a, b) => ((a.Busy - b.Busy) / wall).ToString("F2")));
                text.AppendLine($"| engine, {backend.Kind} backend, {layout} | {rate:N0} | {MatrixPeak.OfTokens(rate, spec)} | {rate / bulkRate:F2} | {rate / loopTokensPerSecond:F1}x | {rate / stepRate:F2} | {mean} | {largest} | {busy} | >= 0.9 of its batched step |");

                foreach (var share in new[] { 0.25, 0.5, 0.9 })
                {
                    var offered = rate * share;
                    var paced = Latency(engine, ids, inputs, spec.InputSize, offered, quick ? 1.5 : 4);
                    latencyRows.Add($"| {backend.Kind}, {layout} | {share:P0} | {offered:N0} | {paced.Achieved:N0} | {paced.P50 * 1e3:F2} ms | {paced.P99 * 1e3:F2} ms | {paced.P999 * 1e3:F2} ms | {paced.Collections} | {paced.ThreadsBefore} -> {paced.ThreadsAfter} | {paced.Pacing} | {(share == 0.5 ? "p99 <= 5 ms" : "")} |");
                }

                // Half the peak once more, traced, to split the latency of the slowest tokens into its parts.
                var breakdown = new LatencyBreakdown(engine, ids);
                var traced = breakdown.Run(PushOf(engine, ids, inputs, spec.InputSize), rate * 0.5, (int)(rate * 0.5 * (quick ? 1.5 : 4)));
                foreach (var (band, from, to) in new[] { ("slowest 1%", 0.99, 1.0), ("middle 10%", 0.45, 0.55) })
                {
                    var (parts, count, batch, perToken) = breakdown.Mean(from, to);
                    breakdownRows.Add($"| {backend.Kind}, {layout} | {traced.P50 * 1e3:F2} / {traced.P99 * 1e3:F2} ms; {traced.Collections}; {traced.Pacing} | {band} ({count:N0}) | {string.Join(" | ", parts.Select(p => p.ToString("F2")))} | {parts.Sum():F2} | {batch:F0} | {perToken:F1} |");
                }
            }
            finally
            {
                engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
                system.Terminate().Wait();
            }
        }

        text.AppendLine();
        text.AppendLine("Token latency (push to output) at 25%, 50% and 90% of the measured peak, paced open-loop over all sessions, with");
        text.AppendLine("what happened meanwhile that can make a tail (collections gen 0 / 1 / 2 and their total pause; thread-pool threads; how");
        text.AppendLine("late the pacer, which shares the cores, sent its calls at p99, and the most it sent at once after a late wake-up):");
        text.AppendLine();
        text.AppendLine("| backend, layout | of the engine's rate | offered tokens/s | completed tokens/s | p50 | p99 | p99.9 | collections, pause | pool threads | pacer late p99, largest burst | target |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- |");
        latencyRows.ForEach(r => text.AppendLine(r));
        text.AppendLine();
        text.AppendLine("Where the latency goes at half the peak: one more paced run with the pipeline's trace on (each element carries its");
        text.AppendLine("timestamps; the run's own p50 / p99 and collections are given), milliseconds on average over the slowest 1% of tokens");
        text.AppendLine("and over the middle 10%. Admission: the call until its element is in the channel; channel: until the first stage takes");
        text.AppendLine("it (it reads the channel only when it may start a batch, so this includes waiting for the first stage's batch before");
        text.AppendLine("to be computed); queue: waiting in the stages for a batch to start; compute: the batches that held it; hand-over: after a batch is");
        text.AppendLine("computed until the next stage takes the element, or after the last stage until the reply lane hands it back (one");
        text.AppendLine("after another); reply: the session's bookkeeping, the caller's task and its continuation on the thread pool.");
        text.AppendLine();
        text.AppendLine($"| backend, layout | traced run: p50 / p99; collections; pacer late p99, largest burst | tokens | {string.Join(" | ", LatencyBreakdown.Parts)} | total | its first stage's batch | us a token in that batch |");
        text.AppendLine($"| --- | --- | --- | {string.Join(" | ", LatencyBreakdown.Parts.Select(_ => "---:"))} | ---: | ---: | ---: |");
        breakdownRows.ForEach(r => text.AppendLine(r));
        text.AppendLine();
        text.AppendLine(IdleSessionBytes(weights, model, quick ? 2048 : 8192));
        return text.ToString();
    }

    internal static Config Quiet { get; } = ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING");

    // Every session pushes its tokens one after another; all sessions run at once, so each stage sees up
    // to one token per session in flight, as live streams would give it.
    internal static void PushAll(RecurrentEngine engine, string[] ids, float[] inputs, int inputSize, int tokens)
    {
        Task.WhenAll(ids.Select(async (id, s) =>
        {
            for (var t = 0; t < tokens; t++)
            {
                await engine.PushAsync(id, Token.Vector(inputs.AsMemory((t * ids.Length + s) * inputSize, inputSize))).ConfigureAwait(false);
            }
        })).GetAwaiter().GetResult();
    }

    private static PacedResult Latency(RecurrentEngine engine, string[] ids, float[] inputs, int inputSize, double rate, double seconds) =>
        Measure.Paced(PushOf(engine, ids, inputs, inputSize), rate, (int)(rate * seconds));

    // Call i pushes the next token of session i modulo the sessions, round after round over the inputs.
    private static Func<int, Task<TokenOutput>> PushOf(RecurrentEngine engine, string[] ids, float[] inputs, int inputSize)
    {
        var steps = inputs.Length / inputSize / ids.Length;
        return i =>
        {
            var s = i % ids.Length;
            var t = i / ids.Length % steps;
            return engine.PushAsync(ids[s], Token.Vector(inputs.AsMemory((t * ids.Length + s) * inputSize, inputSize)));
        };
    }

    private static string IdleSessionBytes(Cells.Weights.ModelWeights weights, ModelIdentity model, int sessions)
    {
        var spec = weights.Spec.Recurrent;
        var raw = spec.NumLayers * spec.Directions * (spec.OutputSize + (spec.HasCellState ? spec.HiddenSize : 0)) * 4;
        using var system = ActorSystem.Create("idle", Quiet);
        // Slabs reserved up front for every session (the warm-up ones too: a slab that doubles would count
        // reserved state, not what a session costs beyond it).
        const int warm = 64;
        var options = EngineOptions.Default with { Backend = BackendOptions.Managed, InitialSlots = sessions + warm };
        var engine = RecurrentEngine.StartAsync(system, model, weights, options).GetAwaiter().GetResult();
        try
        {
            Task.WhenAll(Enumerable.Range(0, warm).Select(i => engine.OpenAsync($"warm{i}"))).GetAwaiter().GetResult();
            var before = GC.GetTotalMemory(forceFullCollection: true);
            Task.WhenAll(Enumerable.Range(0, sessions).Select(i => engine.OpenAsync($"idle-session-{i:D6}"))).GetAwaiter().GetResult();
            var after = GC.GetTotalMemory(forceFullCollection: true);
            var perSession = (after - before) / (double)sessions;
            return $"Bytes per idle session beyond its raw state ({raw:N0} bytes of h and c, held in slabs reserved up front), " +
                   $"{sessions:N0} open sessions, Managed backend: **{perSession:N0} bytes** (target <= 1,024).\n";
        }
        finally
        {
            engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
            system.Terminate().Wait();
        }
    }

    internal static double LibtorchBulkSeconds(RecurrentSpec spec, float[] inputs, int tokens, int repetitions)
    {
        using var mode = torch.inference_mode();
        using var lstm = nn.LSTM(spec.InputSize, spec.HiddenSize, spec.NumLayers);
        using var x = torch.tensor(inputs, new long[] { tokens, Sessions, spec.InputSize });
        return Measure.MedianSeconds(() =>
        {
            using var scope = torch.NewDisposeScope();
            lstm.forward(x);
        }, repetitions);
    }

    // What users write by hand: each session's state in its own tensors, each token through LSTMCell per layer,
    // from a host vector. Timed over a subset of the sessions (the cost per token does not depend on how many).
    private static double LibtorchPerSessionLoopTokensPerSecond(RecurrentSpec spec, float[] inputs, int sessions, int tokens)
    {
        using var mode = torch.inference_mode();
        using var cell0 = nn.LSTMCell(spec.InputSize, spec.HiddenSize);
        using var cell1 = nn.LSTMCell(spec.HiddenSize, spec.HiddenSize);
        var seconds = Measure.MedianSeconds(() =>
        {
            using var scope = torch.NewDisposeScope();
            var states0 = Enumerable.Range(0, sessions).Select(_ => (torch.zeros(1, spec.HiddenSize), torch.zeros(1, spec.HiddenSize))).ToArray();
            var states1 = Enumerable.Range(0, sessions).Select(_ => (torch.zeros(1, spec.HiddenSize), torch.zeros(1, spec.HiddenSize))).ToArray();
            var output = new float[spec.HiddenSize];
            for (var t = 0; t < tokens; t++)
            {
                for (var s = 0; s < sessions; s++)
                {
                    using var x = torch.tensor(inputs.AsSpan((t * Sessions + s) * spec.InputSize, spec.InputSize).ToArray(), new long[] { 1, spec.InputSize });
                    states0[s] = cell0.forward(x, states0[s]);
                    states1[s] = cell1.forward(states0[s].Item1, states1[s]);
                    states1[s].Item1.data<float>().CopyTo(output, 0);
                }
            }
        }, 3);
        return sessions * tokens / seconds;
    }
}
