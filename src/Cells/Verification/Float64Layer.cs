using Streaming.Cells.Model;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Verification;

/// <summary>
/// One layer of PyTorch's equations in float64, the ground truth the kernel check holds every compute path to:
/// nn.RNN (tanh, relu), nn.LSTM with proj_size (gates i, f, g, o; h = W_hr (o * tanh(c))) and nn.GRU (gates
/// r, z, n; b_hn inside r * (W_hn h + b_hn)). Written for clarity over speed, apart from the dot products.
/// </summary>
internal sealed class Float64Layer
{
    private readonly Direction[] _directions;

    public Float64Layer(LayerShape shape, IReadOnlyList<LayerWeights> weights)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(weights);
        Shape = shape;
        _directions = weights.Select(w => new Direction(w)).ToArray();
    }

    public LayerShape Shape { get; }

    /// <summary>
    /// Advances one session by input <paramref name="x"/> in direction <paramref name="direction"/>:
    /// <paramref name="h"/> (output size) and, for LSTM, <paramref name="c"/> (hidden size) are replaced.
    /// </summary>
    public void Step(int direction, ReadOnlySpan<double> x, Span<double> h, Span<double> c)
    {
        var w = _directions[direction];
        int hidden = Shape.HiddenSize;
        var gi = w.WeightIh.Apply(x, w.BiasIh);
        var gh = w.WeightHh.Apply(h, w.BiasHh);
        switch (Shape.Mode)
        {
            case RecurrentMode.RnnTanh:
                for (var j = 0; j < hidden; j++)
                {
                    h[j] = Math.Tanh(gi[j] + gh[j]);
                }

                break;
            case RecurrentMode.RnnRelu:
                for (var j = 0; j < hidden; j++)
                {
                    h[j] = Math.Max(0, gi[j] + gh[j]);
                }

                break;
            case RecurrentMode.Gru:
                for (var j = 0; j < hidden; j++)
                {
                    var r = Sigmoid(gi[j] + gh[j]);
                    var z = Sigmoid(gi[hidden + j] + gh[hidden + j]);
                    var n = Math.Tanh(gi[2 * hidden + j] + r * gh[2 * hidden + j]);
                    h[j] = (1 - z) * n + z * h[j];
                }

                break;
            case RecurrentMode.Lstm:
                var full = new double[hidden];
                for (var j = 0; j < hidden; j++)
                {
                    var i = Sigmoid(gi[j] + gh[j]);
                    var f = Sigmoid(gi[hidden + j] + gh[hidden + j]);
                    var g = Math.Tanh(gi[2 * hidden + j] + gh[2 * hidden + j]);
                    var o = Sigmoid(gi[3 * hidden + j] + gh[3 * hidden + j]);
                    c[j] = f * c[j] + i * g;
                    full[j] = o * Math.Tanh(c[j]);
                }

                if (w.WeightHr is null)
                {
                    full.CopyTo(h);
                }
                else
                {
                    w.WeightHr.Apply(full, null).CopyTo(h);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(direction), Shape.Mode, "unknown recurrent mode");
        }
    }

    /// <summary>
    /// The layer over whole sequences, as PyTorch's single-layer module with batch_first=False: input
    /// (steps, batch, input size), h0 (directions, batch, output size), c0 (directions, batch, hidden size); null
    /// for zeros. Returns the output (steps, batch, directions * output size), h_n and c_n in the same layouts.
    /// </summary>
    public (double[] Output, double[] HN, double[] CN) Forward(double[] input, int steps, int batch, double[]? h0, double[]? c0)
    {
        int dirs = Shape.Directions, inputSize = Shape.InputSize, outputSize = Shape.OutputSize, hidden = Shape.HiddenSize;
        var output = new double[steps * batch * dirs * outputSize];
        var hn = new double[dirs * batch * outputSize];
        var cn = new double[Shape.HasCellState ? dirs * batch * hidden : 0];
        for (var d = 0; d < dirs; d++)
        {
            for (var b = 0; b < batch; b++)
            {
                var h = hn.AsSpan((d * batch + b) * outputSize, outputSize);
                var c = Shape.HasCellState ? cn.AsSpan((d * batch + b) * hidden, hidden) : Span<double>.Empty;
                h0?.AsSpan((d * batch + b) * outputSize, outputSize).CopyTo(h);
                if (Shape.HasCellState)
                {
                    c0?.AsSpan((d * batch + b) * hidden, hidden).CopyTo(c);
                }

                for (var s = 0; s < steps; s++)
                {
                    var t = d == 0 ? s : steps - 1 - s;
                    Step(d, input.AsSpan((t * batch + b) * inputSize, inputSize), h, c);
                    h.CopyTo(output.AsSpan(((t * batch + b) * dirs + d) * outputSize, outputSize));
                }
            }
        }

        return (output, hn, cn);
    }

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    /// <summary>One direction's parameters widened to float64 once.</summary>
    private sealed class Direction(LayerWeights w)
    {
        public Float64Matrix WeightIh { get; } = new(w.WeightIh);

        public Float64Matrix WeightHh { get; } = new(w.WeightHh);

        public double[]? BiasIh { get; } = w.BiasIh is null ? null : Float64Matrix.Widen(w.BiasIh.Data.Span);

        public double[]? BiasHh { get; } = w.BiasHh is null ? null : Float64Matrix.Widen(w.BiasHh.Data.Span);

        public Float64Matrix? WeightHr { get; } = w.WeightHr is null ? null : new(w.WeightHr);
    }
}
