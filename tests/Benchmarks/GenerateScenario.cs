using System.Diagnostics;
using System.Text;
using Akka.Actor;
using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Benchmarks;

/// <summary>
/// Generation with the trained character model (config/models/char-english.json: Embedding(96, 32), LSTM 2 x 128,
/// Linear 128 -> 96), temperature sampling: (1) 1,024 sessions generating 64 tokens each at once, against a batched
/// libtorch loop written by hand (two addmm LSTM cells, the Linear, softmax and multinomial, the ids copied to the host
/// each step as a streaming server must); (2) one session generating 500 tokens, against the same loop at batch 1.
/// </summary>
internal static class GenerateScenario
{
    private const double Temperature = 0.8;

    public static string Run(bool quick)
    {
        var manifest = ModelManifest.Load(ModelPath());
        var weights = manifest.LoadWeights();
        var model = ModelIdentity.Of(manifest.Name, weights);
        int sessions = quick ? 256 : 1024, steps = quick ? 16 : 64, single = quick ? 100 : 500;
        var text = new StringBuilder();
        text.AppendLine($"### Generation: char-english (Embedding 96 x 32, LSTM 2 x 128, Linear 128 -> 96), temperature {Temperature} sampling");
        text.AppendLine();
        text.AppendLine("| measure | tokens/s | of peak (recurrent layers) | vs libtorch loop | mean batch (layer 0) | target |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | --- |");
        var r = weights.Spec.Recurrent;

        var batched = LibtorchTokensPerSecond(weights, sessions, steps, quick ? 1 : 3);
        text.AppendLine($"| libtorch batched loop, {sessions} sessions x {steps} | {batched:N0} | {MatrixPeak.OfTokens(batched, r)} | 1.00 | {sessions} | reference |");
        var perToken = LibtorchTokensPerSecond(weights, 1, single, quick ? 1 : 3);
        foreach (var backend in new[] { BackendOptions.Managed, BackendOptions.TorchCpu })
        {
            var (rate, batch) = EngineTokensPerSecond(model, weights, backend, sessions, steps, quick ? 1 : 3);
            text.AppendLine($"| engine {backend.Kind}, {sessions} sessions x {steps} | {rate:N0} | {MatrixPeak.OfTokens(rate, r)} | {rate / batched:F2} | {batch:F0} | >= 1.0 |");
        }

        text.AppendLine($"| libtorch batch-1 loop, 1 session x {single} | {perToken:N0} | {MatrixPeak.OfTokens(perToken, r)} | 1.00 | 1 | reference |");
        foreach (var backend in new[] { BackendOptions.Managed, BackendOptions.TorchCpu })
        {
            var (rate, _) = EngineTokensPerSecond(model, weights, backend, 1, single, quick ? 1 : 3);
            text.AppendLine($"| engine {backend.Kind}, 1 session x {single} | {rate:N0} | {MatrixPeak.OfTokens(rate, r)} | {rate / perToken:F2} | 1 | >= 10x |");
        }

        return text.ToString();
    }

    private static (double Rate, double MeanBatch) EngineTokensPerSecond(ModelIdentity model, ModelWeights weights, BackendOptions backend, int sessions, int steps, int repetitions)
    {
        using var system = ActorSystem.Create("generate", PipelineScenario.Quiet);
        var engine = RecurrentEngine.StartAsync(system, model, weights, EngineOptions.Default with { Backend = backend }).GetAwaiter().GetResult();
        try
        {
            var ids = Enumerable.Range(0, sessions).Select(i => $"s{i}").ToArray();
            Task.WhenAll(ids.Select(id => engine.OpenAsync(id))).GetAwaiter().GetResult();
            var request = GenerationRequest.Of(steps, Token.Id(52)) with { Sampling = SamplingRule.Random(1, temperature: Temperature) };
            GenerateAll(engine, ids, request with { MaxSteps = Math.Min(steps, 8) });
            var before = engine.Statistics.Stages[0];
            var seconds = Measure.MedianSeconds(() => GenerateAll(engine, ids, request), repetitions, warmup: 0);
            var after = engine.Statistics.Stages[0];
            return (sessions * steps / seconds, (double)(after.Elements - before.Elements) / Math.Max(1, after.Batches - before.Batches));
        }
        finally
        {
            engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
            system.Terminate().Wait();
        }
    }

    private static void GenerateAll(RecurrentEngine engine, string[] ids, GenerationRequest request) =>
        Task.WhenAll(ids.Select(async id =>
        {
            var count = 0;
            await foreach (var step in engine.GenerateAsync(id, request))
            {
                count += step.TokenId.HasValue ? 1 : 0;
            }

            return count;
        })).GetAwaiter().GetResult();

    /// <summary>What a user writes by hand: batched cells, the head, softmax and multinomial, each step's ids to the host.</summary>
    private static double LibtorchTokensPerSecond(ModelWeights weights, int batch, int steps, int repetitions)
    {
        var spec = weights.Spec;
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        var embedding = Tensor(weights.Embedding!);
        var layers = weights.Layers.Select(l => (Ih: Tensor(l[0].WeightIh).t(), Hh: Tensor(l[0].WeightHh).t(), Bias: Tensor(l[0].BiasIh!) + Tensor(l[0].BiasHh!))).ToArray();
        var headWeight = Tensor(weights.HeadWeight!).t();
        var headBias = Tensor(weights.HeadBias!);
        var generator = new torch.Generator(1);
        var seconds = Measure.MedianSeconds(() =>
        {
            using var run = torch.NewDisposeScope();
            var hidden = spec.Recurrent.HiddenSize;
            var h = layers.Select(_ => torch.zeros(batch, hidden)).ToArray();
            var c = layers.Select(_ => torch.zeros(batch, hidden)).ToArray();
            var next = torch.full(batch, 52, ScalarType.Int64);
            var host = new long[batch];
            for (var t = 0; t < steps; t++)
            {
                using var step = torch.NewDisposeScope();
                var x = embedding.index_select(0, next);
                for (var l = 0; l < layers.Length; l++)
                {
                    var gates = torch.addmm(layers[l].Bias, x, layers[l].Ih, 1, 1).addmm_(h[l], layers[l].Hh).chunk(4, 1);
                    var cell = gates[1].sigmoid() * c[l] + gates[0].sigmoid() * gates[2].tanh();
                    var output = gates[3].sigmoid() * cell.tanh();
                    c[l] = cell.MoveToOuterDisposeScope();
                    h[l] = output.MoveToOuterDisposeScope();
                    x = output;
                }

                var probabilities = torch.softmax(torch.addmm(headBias, x, headWeight, 1, 1) / Temperature, 1);
                next = torch.multinomial(probabilities, 1, generator: generator).squeeze(1).MoveToOuterDisposeScope();
                next.data<long>().CopyTo(host, 0);
            }
        }, repetitions);
        return batch * steps / seconds;
    }

    private static Tensor Tensor(FloatTensor tensor) =>
        torch.tensor(tensor.Data.ToArray(), tensor.Shape.Select(s => (long)s).ToArray());

    private static string ModelPath()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var path = Path.Combine(folder.FullName, "config", "models", "char-english.json");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException("config/models/char-english.json was not found above " + AppContext.BaseDirectory);
    }
}
