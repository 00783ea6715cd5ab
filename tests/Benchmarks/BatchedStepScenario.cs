using System.Text;
using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Sequences;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Benchmarks;

/// <summary>
/// Scenario (a): stepping 1024 sessions one token at a time through workload W (each token of every
/// session is one row of a batched step, layer by layer), against libtorch's bulk nn.LSTM over the same
/// (tokens, 1024, 256) input in the same run.
/// </summary>
internal static class BatchedStepScenario
{
    public static string Run(bool quick)
    {
        var spec = Workloads.W;
        const int sessions = 1024;
        var tokens = quick ? 16 : 64;
        var repetitions = quick ? 3 : 5;
        var weights = Workloads.Weights(spec, seed: 1);
        var input = Workloads.Values(new Random(2), tokens * sessions * spec.InputSize);
        var rows = new List<(string Name, double Seconds, string Note)>();

        using (torch.inference_mode())
        using (var lstm = nn.LSTM(spec.InputSize, spec.HiddenSize, spec.NumLayers))
        using (var x = torch.tensor(input, new long[] { tokens, sessions, spec.InputSize }))
        {
            rows.Add(("libtorch bulk nn.LSTM", Measure.MedianSeconds(() =>
            {
                using var scope = torch.NewDisposeScope();
                lstm.forward(x);
            }, repetitions), "reference"));

            using var cell0 = nn.LSTMCell(spec.InputSize, spec.HiddenSize);
            using var cell1 = nn.LSTMCell(spec.HiddenSize, spec.HiddenSize);
            rows.Add(("libtorch LSTMCell, batched by hand", Measure.MedianSeconds(() =>
            {
                using var scope = torch.NewDisposeScope();
                // TorchSharp's LSTMCell wants an explicit zero state on the first call.
                var s0 = (torch.zeros(sessions, spec.HiddenSize), torch.zeros(sessions, spec.HiddenSize));
                var s1 = (torch.zeros(sessions, spec.HiddenSize), torch.zeros(sessions, spec.HiddenSize));
                for (var t = 0; t < tokens; t++)
                {
                    s0 = cell0.forward(x[t], s0);
                    s1 = cell1.forward(s0.Item1, s1);
                }
            }, repetitions), "what a user writes with cells"));
        }

        foreach (var options in new[] { BackendOptions.TorchCpu, BackendOptions.Managed })
        {
            using var backend = RecurrentBackends.Create(weights, options);
            rows.Add(($"{backend.Name} batched step", Measure.MedianSeconds(() => StepAll(backend, input, tokens, sessions), repetitions),
                options.Kind == BackendKind.Torch ? "target >= 0.75" : "as close as it gets"));
        }

        using (var managed = new RecurrentModel(RecurrentBackends.Create(weights, BackendOptions.Managed)))
        {
            var request = SequenceInput.FromVectors(input, tokens, sessions);
            rows.Add(("managed bulk Forward", Measure.MedianSeconds(() => managed.Forward(request), repetitions), "bulk kernel, for comparison"));
        }

        var reference = rows[0].Seconds;
        var flops = 2.0 * tokens * sessions * spec.NumLayers * (spec.Mode.GateCount() * spec.HiddenSize) * (spec.InputSize + spec.HiddenSize);
        var text = new StringBuilder();
        text.AppendLine($"### (a) Batched step at workload W: LSTM 2 x 256 -> 256, {sessions} sessions x {tokens} tokens");
        text.AppendLine();
        text.AppendLine("| measure | tokens/s | GFLOP/s | of peak | ratio to libtorch bulk | note |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | --- |");
        foreach (var (name, seconds, note) in rows)
        {
            text.AppendLine($"| {name} | {tokens * sessions / seconds:N0} | {flops / seconds / 1e9:F1} | {MatrixPeak.Of(flops / seconds)} | {reference / seconds:F2} | {note} |");
        }

        return text.ToString();
    }

    // Every token of every session as a batched step through both layers: the streaming engine's hot path.
    internal static void StepAll(IRecurrentBackend backend, float[] input, int tokens, int sessions)
    {
        var slabs = backend.Layers.Select(l => l.CreateSlab(sessions)).ToArray();
        try
        {
            var slots = slabs.Select(s => Enumerable.Range(0, sessions).Select(_ => s.Allocate()).ToArray()).ToArray();
            var widths = backend.Layers.Select(l => l.Shape.InputSize).ToArray();
            var outputs = backend.Layers.Select(l => new float[sessions * l.Shape.OutputSize]).ToArray();
            for (var t = 0; t < tokens; t++)
            {
                ReadOnlyMemory<float> current = input.AsMemory(t * sessions * widths[0], sessions * widths[0]);
                for (var layer = 0; layer < slabs.Length; layer++)
                {
                    backend.Layers[layer].Step(slabs[layer], slots[layer], current, outputs[layer]);
                    current = outputs[layer];
                }
            }
        }
        finally
        {
            foreach (var slab in slabs)
            {
                slab.Dispose();
            }
        }
    }
}
