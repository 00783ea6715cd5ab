using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Akka.Actor;
using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Weights;

namespace Streaming.Benchmarks;

/// <summary>
/// The engine with 1k, 10k and 100k open sessions (LSTM 1 x 64, Managed backend): the time to open them all, the bytes
/// each costs beyond its raw state, and tokens/s and latency under one fixed offered load spread over all of them, so
/// that a cost growing with the number of idle sessions shows as a falling rate or a rising p99.
/// </summary>
internal static class ScaleScenario
{
    private const double OfferedTokensPerSecond = 20_000;

    public static string Run(bool quick)
    {
        var spec = new RecurrentSpec(RecurrentMode.Lstm, InputSize: 64, HiddenSize: 64);
        var weights = Workloads.Weights(spec, seed: 3);
        var raw = spec.HiddenSize * 2 * sizeof(float);
        var vectors = Enumerable.Range(0, 256).Select(i => Workloads.Values(new Random(i), spec.InputSize)).ToArray();
        var seconds = quick ? 1.5 : 4;
        var text = new StringBuilder();
        text.AppendLine($"### Scale with the number of sessions: LSTM 1 x 64, Managed backend, {OfferedTokensPerSecond:N0} tokens/s offered over all sessions for {seconds} s");
        text.AppendLine();
        text.AppendLine($"| open sessions | time to open all | bytes per session beyond raw state ({raw} B) | completed tokens/s | of peak | p50 | p99 | target |");
        text.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var count in quick ? new[] { 1_000, 10_000 } : new[] { 1_000, 10_000, 100_000 })
        {
            text.AppendLine(Row(count, weights, vectors, seconds));
        }

        return text.ToString();
    }

    // A method of its own, so that nothing of one engine is left on the caller's stack when the next one is measured: the
    // heap readings would count it, then not (it showed as -356 B a session at 10,000, and -17,532 B at 1,000 after 10,000).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string Row(int count, ModelWeights weights, float[][] vectors, double seconds)
    {
        using var system = ActorSystem.Create("scale", PipelineScenario.Quiet);
        var options = EngineOptions.Default with { Backend = BackendOptions.Managed, InitialSlots = count };
        var engine = RecurrentEngine.StartAsync(system, ModelIdentity.Of("scale", weights), weights, options).GetAwaiter().GetResult();
        try
        {
            var ids = Enumerable.Range(0, count).Select(i => $"scale-session-{i:D6}").ToArray();
            // Bytes a session: the heap's growth over the second half of the opening. The first half brings the engine's own
            // structures (the pipeline's queues, the directory's table) to their working size, which is not the sessions'.
            var half = count / 2;
            var opening = Stopwatch.StartNew();
            Task.WhenAll(ids[..half].Select(id => engine.OpenAsync(id))).GetAwaiter().GetResult();
            var openSeconds = opening.Elapsed.TotalSeconds;
            var before = GC.GetTotalMemory(forceFullCollection: true);
            opening.Restart();
            Task.WhenAll(ids[half..].Select(id => engine.OpenAsync(id))).GetAwaiter().GetResult();
            openSeconds += opening.Elapsed.TotalSeconds;
            var after = GC.GetTotalMemory(forceFullCollection: true);
            var perSession = (after - before) / (double)(count - half);
            var paced = Paced(engine, ids, vectors, seconds);
            return $"| {count:N0} | {openSeconds * 1e3:F0} ms | {perSession:N0} | {paced.Achieved:N0} | {MatrixPeak.OfTokens(paced.Achieved, weights.Spec.Recurrent)} | {paced.P50 * 1e3:F2} ms | {paced.P99 * 1e3:F2} ms | <= 512 B a session; rate and p99 flat |";
        }
        finally
        {
            engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
            system.Terminate().Wait();
        }
    }

    // Open loop at the offered rate, each token to a session drawn at random.
    private static PacedResult Paced(RecurrentEngine engine, string[] ids, float[][] vectors, double seconds)
    {
        var random = new Random(11);
        return Measure.Paced(
            i => engine.PushAsync(ids[random.Next(ids.Length)], Token.Vector(vectors[i % vectors.Length])),
            OfferedTokensPerSecond,
            (int)(OfferedTokensPerSecond * seconds));
    }
}
