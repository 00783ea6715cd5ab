using System.Diagnostics;
using System.Globalization;
using System.Text;
using Akka.Actor;
using Streaming.Cells.Backends;
using Streaming.Cells.Weights;
using Streaming.Client;

namespace Streaming.Benchmarks;

/// <summary>
/// TCP end to end on loopback: <c>serve</c> in a child process (workload W, the in-memory store, its default engine
/// settings), 8 client connections from this process multiplexing 1024 sessions, each pushing its tokens one after
/// another; against the same traffic through an engine in this process with the same settings, in the same run. Serve
/// runs twice: without checkpoints, as the in-process engine (which has no store), and with its default checkpoint
/// every 2 s. The two sides' CPU time is read apart (this process; the child's /proc/&lt;pid&gt;/stat), so the cores
/// each used show. Then the latency over TCP at half the TCP peak, paced open-loop.
/// </summary>
internal static class TcpScenario
{
    private const int Sessions = 1024;
    private const int Connections = 8;

    public static string Run(bool quick)
    {
        var spec = Workloads.W;
        var tokens = quick ? 16 : 64;
        var weights = Workloads.Weights(spec, seed: 1);
        var inputs = Workloads.Values(new Random(2), tokens * Sessions * spec.InputSize);
        var folder = Directory.CreateTempSubdirectory("tcp-bench-");
        try
        {
            var manifest = WriteModel(folder.FullName, weights);
            var text = new StringBuilder();
            text.AppendLine($"### TCP end to end: serve in a child process, {Connections} connections from this one, {Sessions} sessions x {tokens} tokens, workload W, loopback");
            text.AppendLine();
            text.AppendLine("| backend | serve's checkpoints | in-process engine tokens/s (of peak) | over TCP tokens/s (of peak) | TCP / in-process | cores: serve + client | p50 / p99 / p99.9 at half the TCP peak | targets |");
            text.AppendLine("| --- | --- | ---: | ---: | ---: | --- | --- | --- |");
            foreach (var backend in new[] { BackendOptions.TorchCpu, BackendOptions.Managed })
            {
                var inProcess = InProcess(weights, backend, inputs, spec.InputSize, tokens, quick);
                foreach (var checkpoints in new[] { "0", "2" })
                {
                    var tcp = OverTcp(manifest, backend, checkpoints, inputs, spec.InputSize, tokens, quick);
                    text.AppendLine($"| {backend.Kind} | {(checkpoints == "0" ? "off" : $"every {checkpoints} s")} | {inProcess:N0} ({MatrixPeak.OfTokens(inProcess, spec)}) | {tcp.Rate:N0} ({MatrixPeak.OfTokens(tcp.Rate, spec)}) | {tcp.Rate / inProcess:F2} | {tcp.ServeCores:F2} + {tcp.ClientCores:F2} | " +
                                    $"{tcp.Latency.P50 * 1e3:F2} / {tcp.Latency.P99 * 1e3:F2} / {tcp.Latency.P999 * 1e3:F2} ms ({tcp.Latency.Achieved:N0} tokens/s; {tcp.Latency.Collections} in the client; pacer late {tcp.Latency.LateP99 * 1e3:F2} ms at p99, bursts up to {tcp.Latency.LargestBurst}) | " +
                                    ">= 0.8 of in-process; p99 <= 10 ms |");
                }
            }

            text.AppendLine();
            text.AppendLine("Cores: CPU time over wall time during the timed runs, every thread, of serve (child) and of this process (the clients).");
            return text.ToString();
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static double InProcess(ModelWeights weights, BackendOptions backend, float[] inputs, int inputSize, int tokens, bool quick)
    {
        using var system = ActorSystem.Create("tcp-bench", PipelineScenario.Quiet);
        var engine = RecurrentEngine.StartAsync(system, ModelIdentity.Of("W", weights), weights, EngineOptions.Default with { Backend = backend }).GetAwaiter().GetResult();
        try
        {
            var ids = Enumerable.Range(0, Sessions).Select(i => $"s{i}").ToArray();
            Task.WhenAll(ids.Select(id => engine.OpenAsync(id))).GetAwaiter().GetResult();
            Measure.WarmUp(() => PipelineScenario.PushAll(engine, ids, inputs, inputSize, Math.Min(tokens, 8)), TimeSpan.FromSeconds(quick ? 1 : 3));
            return tokens * Sessions / Measure.MedianSeconds(() => PipelineScenario.PushAll(engine, ids, inputs, inputSize, tokens), quick ? 1 : 3, warmup: 0);
        }
        finally
        {
            engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
            system.Terminate().Wait();
        }
    }

    private static (double Rate, double ServeCores, double ClientCores, PacedResult Latency) OverTcp(
        string manifest, BackendOptions backend, string checkpointSeconds, float[] inputs, int inputSize, int tokens, bool quick)
    {
        var serve = ServeChild.StartAsync(
            ["--model", manifest, "--backend", backend.Kind.ToString(), "--store", "memory"],
            new Dictionary<string, string> { ["STREAMING_CHECKPOINTSECONDS"] = checkpointSeconds }).GetAwaiter().GetResult();
        var clients = Enumerable.Range(0, Connections)
            .Select(_ => StreamingClient.ConnectAsync("127.0.0.1", serve.Port).GetAwaiter().GetResult()).ToArray();
        try
        {
            var ids = Enumerable.Range(0, Sessions).Select(i => $"s{i}").ToArray();
            Task.WhenAll(ids.Select((id, s) => clients[s % Connections].OpenAsync(id))).GetAwaiter().GetResult();
            void PushAll(int count) => Task.WhenAll(ids.Select(async (id, s) =>
            {
                var client = clients[s % Connections];
                for (var t = 0; t < count; t++)
                {
                    await client.PushAsync(id, TokenInput.Vector(inputs.AsMemory((t * Sessions + s) * inputSize, inputSize))).ConfigureAwait(false);
                }
            })).GetAwaiter().GetResult();

            Measure.WarmUp(() => PushAll(Math.Min(tokens, 8)), TimeSpan.FromSeconds(quick ? 1 : 3));
            using var self = Process.GetCurrentProcess();
            var clientBefore = self.TotalProcessorTime;
            var serveBefore = serve.CpuTime();
            var wall = Stopwatch.StartNew();
            var seconds = Measure.MedianSeconds(() => PushAll(tokens), quick ? 1 : 3, warmup: 0);
            var elapsed = wall.Elapsed.TotalSeconds;
            self.Refresh();
            var clientCores = (self.TotalProcessorTime - clientBefore).TotalSeconds / elapsed;
            var serveCores = (serve.CpuTime() - serveBefore).TotalSeconds / elapsed;
            var rate = tokens * Sessions / seconds;

            var steps = tokens;
            var latency = Measure.Paced(
                i =>
                {
                    var s = i % Sessions;
                    var t = i / Sessions % steps;
                    return clients[s % Connections].PushAsync(ids[s], TokenInput.Vector(inputs.AsMemory((t * Sessions + s) * inputSize, inputSize)));
                },
                rate / 2,
                (int)(rate / 2 * (quick ? 1.5 : 4)));
            return (rate, serveCores, clientCores, latency);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            serve.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    // The model as serve loads it: a manifest beside its safetensors.
    private static string WriteModel(string folder, ModelWeights weights)
    {
        var r = weights.Spec.Recurrent;
        Safetensors.Write(Path.Combine(folder, "w.safetensors"), weights.ToTensors());
        var manifest = Path.Combine(folder, "w.json");
        File.WriteAllText(manifest, string.Create(CultureInfo.InvariantCulture, $$"""
            {
              "name": "W",
              "weights": "w.safetensors",
              "recurrent": { "mode": "LSTM", "input_size": {{r.InputSize}}, "hidden_size": {{r.HiddenSize}}, "num_layers": {{r.NumLayers}}, "bias": true, "bidirectional": false, "proj_size": 0 }
            }
            """));
        return manifest;
    }
}
