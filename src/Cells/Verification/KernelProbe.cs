using Streaming.Cells.Backends;

namespace Streaming.Cells.Verification;

/// <summary>
/// Runs a layer's (or the head's) current path on random data of the model's own shapes and measures the largest
/// absolute difference from <see cref="Float64Layer"/>. Inputs and states are random and non-zero; sessions sit in
/// scattered slots, in an order unlike their slot numbers, so gathers and scatters are checked along with the math.
/// </summary>
internal static class KernelProbe
{
    /// <summary>Steps per batch size: the second step starts from a state the path itself wrote.</summary>
    private const int StepsPerBatch = 2;

    /// <summary>
    /// For each batch size in turn, the first that many sessions take <see cref="StepsPerBatch"/> steps together;
    /// every output and, at the end, every session's state read back from the slab are compared.
    /// </summary>
    public static double StepError(IRecurrentLayer layer, Float64Layer reference, IReadOnlyList<int> batches, int seed)
    {
        var shape = layer.Shape;
        var random = new Random(seed);
        var sessions = batches.Max();
        using var slab = layer.CreateSlab(2 * sessions);
        var allocated = Enumerable.Range(0, 2 * sessions).Select(_ => slab.Allocate()).ToArray();
        var slots = Enumerable.Range(0, sessions).Select(i => allocated[2 * sessions - 1 - 2 * i]).ToArray();
        var h = new double[sessions][];
        var c = new double[sessions][];
        for (var s = 0; s < sessions; s++)
        {
            var hs = Random(random, shape.OutputSize, 0.8);
            var cs = shape.HasCellState ? Random(random, shape.HiddenSize, 1.5) : [];
            slab.Write(slots[s], new SlotState(hs, cs));
            h[s] = Float64Matrix.Widen(hs);
            c[s] = Float64Matrix.Widen(cs);
        }

        var error = 0.0;
        foreach (var batch in batches)
        {
            var output = new float[batch * shape.OutputSize];
            for (var step = 0; step < StepsPerBatch; step++)
            {
                var x = Random(random, batch * shape.InputSize, 1.0);
                layer.Step(slab, slots.AsMemory(0, batch), x, output);
                for (var s = 0; s < batch; s++)
                {
                    reference.Step(0, Float64Matrix.Widen(x.AsSpan(s * shape.InputSize, shape.InputSize)), h[s], c[s]);
                    error = Math.Max(error, MaxDifference(output.AsSpan(s * shape.OutputSize, shape.OutputSize), h[s]));
                }
            }
        }

        for (var s = 0; s < sessions; s++)
        {
            var state = slab.Read(slots[s]);
            error = Math.Max(error, MaxDifference(state.H.Span, h[s]));
            error = Math.Max(error, MaxDifference(state.C.Span, c[s]));
        }

        return error;
    }

    /// <summary>
    /// Bulk runs, both directions: one sequence from a given non-zero state (as a replay runs it), and a batch of
    /// sequences from PyTorch's default zero state.
    /// </summary>
    public static double BulkError(IRecurrentLayer layer, Float64Layer reference, int seed)
    {
        var random = new Random(seed);
        return Math.Max(Bulk(layer, reference, random, steps: 5, batch: 1, givenState: true), Bulk(layer, reference, random, steps: 3, batch: 4, givenState: false));
    }

    /// <summary>The head over a single row and over a batch of rows.</summary>
    public static double HeadError(IRecurrentBackend backend, Float64Matrix weight, double[]? bias, int seed)
    {
        var random = new Random(seed);
        var error = 0.0;
        foreach (var rows in new[] { 1, 13 })
        {
            var input = Random(random, rows * weight.Columns, 1.0);
            var output = new float[rows * weight.Rows];
            backend.ApplyHead(input, rows, output);
            for (var r = 0; r < rows; r++)
            {
                var expected = weight.Apply(Float64Matrix.Widen(input.AsSpan(r * weight.Columns, weight.Columns)), bias);
                error = Math.Max(error, MaxDifference(output.AsSpan(r * weight.Rows, weight.Rows), expected));
            }
        }

        return error;
    }

    /// <summary>The largest |actual - expected|; infinity when a value is NaN or infinite.</summary>
    public static double MaxDifference(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        if (actual.Length != expected.Length)
        {
            return double.PositiveInfinity;
        }

        var error = 0.0;
        for (var i = 0; i < actual.Length; i++)
        {
            var difference = Math.Abs(actual[i] - expected[i]);
            if (!double.IsFinite(difference))
            {
                return double.PositiveInfinity;
            }

            error = Math.Max(error, difference);
        }

        return error;
    }

    private static double Bulk(IRecurrentLayer layer, Float64Layer reference, Random random, int steps, int batch, bool givenState)
    {
        var shape = layer.Shape;
        var input = Random(random, steps * batch * shape.InputSize, 1.0);
        var h0 = givenState ? Random(random, shape.Directions * batch * shape.OutputSize, 0.8) : [];
        var c0 = givenState && shape.HasCellState ? Random(random, shape.Directions * batch * shape.HiddenSize, 1.5) : [];
        var output = new float[steps * batch * shape.SequenceOutputSize];
        var hN = new float[shape.Directions * batch * shape.OutputSize];
        var cN = new float[shape.HasCellState ? shape.Directions * batch * shape.HiddenSize : 0];
        layer.Forward(input, steps, batch, h0, c0, output, hN, cN);
        var expected = reference.Forward(
            Float64Matrix.Widen(input), steps, batch, givenState ? Float64Matrix.Widen(h0) : null, c0.Length > 0 ? Float64Matrix.Widen(c0) : null);
        return Math.Max(MaxDifference(output, expected.Output), Math.Max(MaxDifference(hN, expected.HN), MaxDifference(cN, expected.CN)));
    }

    private static float[] Random(Random random, int count, double scale)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        }

        return values;
    }
}
