using System.Text;
using Akka.Actor;
using Streaming.Cells.Backends;
using Streaming.Client;
using Streaming.Host.Server;

namespace Streaming.Benchmarks;

/// <summary>
/// TCP end to end on loopback: 8 client connections multiplex 1024 sessions at workload W, each session
/// pushing its tokens one after another, against libtorch's bulk nn.LSTM over the same tensors in the same run.
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
        var bulkRate = tokens * Sessions / PipelineScenario.LibtorchBulkSeconds(spec, inputs, tokens, quick ? 3 : 5);
        var text = new StringBuilder();
        text.AppendLine($"### TCP end to end: {Connections} connections, {Sessions} sessions x {tokens} tokens, workload W, loopback");
        text.AppendLine();
        text.AppendLine("| measure | tokens/s | vs libtorch bulk | target |");
        text.AppendLine("| --- | ---: | ---: | --- |");
        text.AppendLine($"| libtorch bulk nn.LSTM | {bulkRate:N0} | 1.00 | reference |");
        foreach (var backend in new[] { BackendOptions.TorchCpu, BackendOptions.Managed })
        {
            var rate = Measure(weights, backend, inputs, spec.InputSize, tokens, quick);
            text.AppendLine($"| engine over TCP, {backend.Kind} backend | {rate:N0} | {rate / bulkRate:F2} | {(backend.Kind == BackendKind.Torch ? ">= 0.5" : "(for comparison)")} |");
        }

        return text.ToString();
    }

    private static double Measure(Cells.Weights.ModelWeights weights, BackendOptions backend, float[] inputs, int inputSize, int tokens, bool quick)
    {
        using var system = ActorSystem.Create("tcp-bench", PipelineScenario.Quiet);
        var engine = RecurrentEngine.StartAsync(system, ModelIdentity.Of("W", weights), weights, EngineOptions.Default with { Backend = backend }).GetAwaiter().GetResult();
        var server = StreamingServer.StartAsync(system, engine, ServerOptions.Default with { Port = 0 }).GetAwaiter().GetResult();
        var clients = Enumerable.Range(0, Connections)
            .Select(_ => StreamingClient.ConnectAsync("127.0.0.1", server.Endpoint.Port).GetAwaiter().GetResult()).ToArray();
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

            // One untimed pass warms the JIT, the slabs, the connections and libtorch's kernels.
            PushAll(Math.Min(tokens, 8));
            var seconds = Benchmarks.Measure.MedianSeconds(() => PushAll(tokens), quick ? 1 : 3, warmup: 0);
            return tokens * Sessions / seconds;
        }
        finally
        {
            foreach (var client in clients)
            {
                client.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
            system.Terminate().Wait();
        }
    }
}
