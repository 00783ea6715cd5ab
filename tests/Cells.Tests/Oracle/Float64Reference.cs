using Streaming.TestSupport;
using Streaming.Cells.Model;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Tests.Oracle;

/// <summary>
/// A direct float64 transcription of PyTorch's documented equations for RNN, LSTM (with proj_size) and
/// GRU, stacked and bidirectional. Slow and obvious on purpose: it is the oracle where libtorch has no
/// module (proj_size) and a second opinion everywhere else. Layouts as PyTorch with batch_first=false.
/// </summary>
internal static class Float64Reference
{
    public static SequenceResult Run(ModelWeights weights, float[] input, int sequenceLength, int batch, float[]? h0 = null, float[]? c0 = null)
    {
        var spec = weights.Spec.Recurrent;
        int dirs = spec.Directions, hs = spec.HiddenSize, os = spec.OutputSize;
        var layerInput = input.Select(v => (double)v).ToArray();
        var hn = new float[spec.NumLayers * dirs * batch * os];
        var cn = spec.HasCellState ? new float[spec.NumLayers * dirs * batch * hs] : [];
        for (var layer = 0; layer < spec.NumLayers; layer++)
        {
            var inSize = spec.LayerInputSize(layer);
            var layerOutput = new double[sequenceLength * batch * dirs * os];
            for (var d = 0; d < dirs; d++)
            {
                var w = weights.Layers[layer][d];
                var stateIndex = layer * dirs + d;
                for (var b = 0; b < batch; b++)
                {
                    var h = new double[os];
                    var c = new double[hs];
                    for (var j = 0; j < os; j++)
                    {
                        h[j] = h0?[(stateIndex * batch + b) * os + j] ?? 0;
                    }

                    for (var j = 0; j < hs && spec.HasCellState; j++)
                    {
                        c[j] = c0?[(stateIndex * batch + b) * hs + j] ?? 0;
                    }

                    for (var s = 0; s < sequenceLength; s++)
                    {
                        var t = d == 0 ? s : sequenceLength - 1 - s;
                        var x = new ReadOnlySpan<double>(layerInput, (t * batch + b) * inSize, inSize).ToArray();
                        (h, c) = Float64Cells.Step(spec.Mode, w, x, h, c, hs);
                        for (var j = 0; j < os; j++)
                        {
                            layerOutput[((t * batch + b) * dirs + d) * os + j] = h[j];
                        }
                    }

                    for (var j = 0; j < os; j++)
                    {
                        hn[(stateIndex * batch + b) * os + j] = (float)h[j];
                    }

                    for (var j = 0; j < hs && spec.HasCellState; j++)
                    {
                        cn[(stateIndex * batch + b) * hs + j] = (float)c[j];
                    }
                }
            }

            layerInput = layerOutput;
        }

        return new SequenceResult(layerInput.Select(v => (float)v).ToArray(), hn, cn);
    }
}
