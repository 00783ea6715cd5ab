using Streaming.Cells.Model;
using Streaming.Cells.Weights;

namespace Streaming.TestSupport;

/// <summary>
/// One step of a recurrent cell in float64, transcribed directly from PyTorch's documentation of nn.RNN,
/// nn.LSTM (with proj_size) and nn.GRU. Shared by the test oracle (tests/Cells.Tests, where
/// OracleAgreementTests checks it against libtorch) and the recording generator (tests/Generators), so both
/// rest on the one transcription that is proven.
/// </summary>
internal static class Float64Cells
{
    /// <summary>Advances (h, c) by input <paramref name="x"/>; c is returned unchanged for RNN and GRU.</summary>
    public static (double[] H, double[] C) Step(RecurrentMode mode, LayerWeights w, double[] x, double[] h, double[] c, int hidden)
    {
        var gi = Affine(w.WeightIh, w.BiasIh, x);
        var gh = Affine(w.WeightHh, w.BiasHh, h);
        switch (mode)
        {
            case RecurrentMode.RnnTanh:
                return (gi.Select((v, j) => Math.Tanh(v + gh[j])).ToArray(), c);
            case RecurrentMode.RnnRelu:
                return (gi.Select((v, j) => Math.Max(0, v + gh[j])).ToArray(), c);
            case RecurrentMode.Gru:
                {
                    var next = new double[hidden];
                    for (var j = 0; j < hidden; j++)
                    {
                        var r = Sigmoid(gi[j] + gh[j]);
                        var z = Sigmoid(gi[hidden + j] + gh[hidden + j]);
                        // b_hn sits inside the reset gate's product: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
                        var n = Math.Tanh(gi[2 * hidden + j] + r * gh[2 * hidden + j]);
                        next[j] = (1 - z) * n + z * h[j];
                    }

                    return (next, c);
                }

            case RecurrentMode.Lstm:
                {
                    var cNext = new double[hidden];
                    var hFull = new double[hidden];
                    for (var j = 0; j < hidden; j++)
                    {
                        var i = Sigmoid(gi[j] + gh[j]);
                        var f = Sigmoid(gi[hidden + j] + gh[hidden + j]);
                        var g = Math.Tanh(gi[2 * hidden + j] + gh[2 * hidden + j]);
                        var o = Sigmoid(gi[3 * hidden + j] + gh[3 * hidden + j]);
                        cNext[j] = f * c[j] + i * g;
                        hFull[j] = o * Math.Tanh(cNext[j]);
                    }

                    // With proj_size, h = W_hr (o * tanh(c)); the cell state keeps hidden_size.
                    return (w.WeightHr is null ? hFull : Affine(w.WeightHr, null, hFull), cNext);
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown recurrent mode");
        }
    }

    private static double[] Affine(FloatTensor weight, FloatTensor? bias, double[] x)
    {
        int rows = weight.Shape[0], cols = weight.Shape[1];
        var wv = weight.Data.Span;
        var result = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            double sum = bias is null ? 0 : bias.Data.Span[r];
            for (var k = 0; k < cols; k++)
            {
                sum += (double)wv[r * cols + k] * x[k];
            }

            result[r] = sum;
        }

        return result;
    }

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
}
