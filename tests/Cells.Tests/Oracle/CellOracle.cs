using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using Streaming.TestSupport;

namespace Streaming.Cells.Tests.Oracle;

/// <summary>One step of one session by PyTorch's equations in float64 (<see cref="Float64Cells"/>), with fp32 in and out.</summary>
internal sealed class CellOracle(RecurrentMode mode, LayerWeights weights)
{
    /// <summary>One step: returns h' and, for LSTM, c' (else empty).</summary>
    public (float[] H, float[] C) Step(float[] x, float[] h, float[] c)
    {
        var hidden = weights.WeightHh.Shape[0] / mode.GateCount();
        var (hNext, cNext) = Float64Cells.Step(mode, weights, Widen(x), Widen(h), mode == RecurrentMode.Lstm ? Widen(c) : new double[hidden], hidden);
        return (Narrow(hNext), mode == RecurrentMode.Lstm ? Narrow(cNext) : []);
    }

    private static double[] Widen(float[] v) => v.Select(x => (double)x).ToArray();

    private static float[] Narrow(double[] v) => v.Select(x => (float)x).ToArray();
}
