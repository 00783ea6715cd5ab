using Streaming.Cells.Backends;
using Streaming.Cells.Tests.Oracle;

namespace Streaming.Cells.Tests.Managed;

/// <summary>Runs a backend's layers one after another over whole sequences, assembling PyTorch's h_n/c_n layout.</summary>
internal static class StackedRun
{
    public static SequenceResult Forward(IRecurrentBackend backend, float[] input, int steps, int batch, float[]? h0 = null, float[]? c0 = null)
    {
        var spec = backend.Spec.Recurrent;
        var hn = new List<float>();
        var cn = new List<float>();
        var layerInput = input;
        foreach (var layer in backend.Layers)
        {
            var shape = layer.Shape;
            var stateH = shape.Directions * batch * shape.OutputSize;
            var stateC = shape.HasCellState ? shape.Directions * batch * shape.HiddenSize : 0;
            var output = new float[steps * batch * shape.SequenceOutputSize];
            var layerHn = new float[stateH];
            var layerCn = new float[stateC];
            layer.Forward(
                layerInput, steps, batch,
                h0 is null ? ReadOnlyMemory<float>.Empty : h0.AsMemory(shape.Index * stateH, stateH),
                c0 is null || stateC == 0 ? ReadOnlyMemory<float>.Empty : c0.AsMemory(shape.Index * stateC, stateC),
                output, layerHn, layerCn);
            hn.AddRange(layerHn);
            cn.AddRange(layerCn);
            layerInput = output;
        }

        Assert.Equal(spec.NumLayers * spec.Directions * batch * spec.OutputSize, hn.Count);
        return new SequenceResult(layerInput, hn.ToArray(), cn.ToArray());
    }
}
