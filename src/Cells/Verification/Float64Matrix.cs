using System.Numerics.Tensors;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Verification;

/// <summary>A row-major float64 matrix widened once from a 2-D fp32 parameter, for the float64 reference.</summary>
internal sealed class Float64Matrix(FloatTensor t)
{
    private readonly double[] _values = Widen(t.Data.Span);

    public int Rows { get; } = t.Shape[0];

    public int Columns { get; } = t.Shape[1];

    /// <summary>M x + bias for one vector x of <see cref="Columns"/> values.</summary>
    public double[] Apply(ReadOnlySpan<double> x, double[]? bias)
    {
        var y = new double[Rows];
        for (var r = 0; r < Rows; r++)
        {
            y[r] = TensorPrimitives.Dot(_values.AsSpan(r * Columns, Columns), x) + (bias is null ? 0 : bias[r]);
        }

        return y;
    }

    public static double[] Widen(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }

        return result;
    }
}
