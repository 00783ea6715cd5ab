using System.Text;
using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Benchmarks;

/// <summary>
/// Scenario (b): one session, one token per call, LSTM with input = hidden in {4, 32, 128}: the Managed
/// backend's step against libtorch's LSTMCell called once per token, in the same run.
/// </summary>
internal static class SingleSessionScenario
{
    public static string Run(bool quick)
    {
        var calls = quick ? 2_000 : 20_000;
        var samples = quick ? 5 : 9;
        var text = new StringBuilder();
        text.AppendLine("### (b) Single-session step: LSTM, 1 layer, input = hidden, one token per call");
        text.AppendLine();
        text.AppendLine("| hidden | libtorch LSTMCell (tensors ready) | libtorch LSTMCell (from and to float[]) | torch backend step | managed step | managed step, of peak | managed speed-up vs LSTMCell (tensors ready) | target |");
        text.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var hidden in new[] { 4, 32, 128 })
        {
            var spec = new RecurrentSpec(RecurrentMode.Lstm, hidden, hidden);
            var weights = Workloads.Weights(spec, seed: hidden);
            var token = Workloads.Values(new Random(hidden), hidden);
            var output = new float[hidden];

            double cellReady, cellHost;
            using (torch.inference_mode())
            using (var cell = nn.LSTMCell(hidden, hidden))
            using (var x = torch.tensor(token, new long[] { 1, hidden }))
            {
                var state = (torch.zeros(1, hidden), torch.zeros(1, hidden));
                cellReady = Measure.MedianSecondsPerCall(() =>
                {
                    var next = cell.forward(x, state);
                    state.Item1.Dispose();
                    state.Item2.Dispose();
                    state = next;
                }, calls, samples);
                cellHost = Measure.MedianSecondsPerCall(() =>
                {
                    using var input = torch.tensor(token, new long[] { 1, hidden });
                    var next = cell.forward(input, state);
                    state.Item1.Dispose();
                    state.Item2.Dispose();
                    state = next;
                    next.Item1.data<float>().CopyTo(output, 0);
                }, calls, samples);
                state.Item1.Dispose();
                state.Item2.Dispose();
            }

            var torchStep = StepSeconds(weights, BackendOptions.TorchCpu, token, output, calls, samples);
            var managedStep = StepSeconds(weights, BackendOptions.Managed, token, output, calls, samples);
            text.AppendLine($"| {hidden} | {Micro(cellReady)} | {Micro(cellHost)} | {Micro(torchStep)} | {Micro(managedStep)} | {MatrixPeak.OfTokens(1 / managedStep, spec)} | {cellReady / managedStep:F1}x | {(hidden == 32 ? ">= 10x" : "reported") } |");
        }

        return text.ToString();
    }

    internal static double StepSeconds(Cells.Weights.ModelWeights weights, BackendOptions options, float[] token, float[] output, int calls, int samples)
    {
        using var backend = RecurrentBackends.Create(weights, options);
        var layer = backend.Layers[0];
        using var slab = layer.CreateSlab(1);
        int[] slots = [slab.Allocate()];
        return Measure.MedianSecondsPerCall(() => layer.Step(slab, slots, token, output), calls, samples);
    }

    private static string Micro(double seconds) => $"{seconds * 1e6:F2} us";
}
