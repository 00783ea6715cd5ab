using System.Numerics.Tensors;
using Streaming.Cells.Model;

namespace Streaming.Cells.Managed;

/// <summary>
/// The element-wise half of each cell, one batch row at a time, on pre-activations that the matrix
/// kernel has already summed (W_ih x + W_hh h + biases). Equations as PyTorch documents them.
/// </summary>
internal static class CellMath
{
    /// <summary>
    /// LSTM: <paramref name="gates"/> holds 4H pre-activations in the order i, f, o, g (the weights'
    /// rows are permuted from PyTorch's i, f, g, o at load so one sigmoid covers three gates); they are
    /// overwritten. c' = f ⊙ c + i ⊙ g replaces <paramref name="c"/>; o ⊙ tanh(c') goes to <paramref name="h"/>.
    /// </summary>
    public static void Lstm(Span<float> gates, Span<float> c, Span<float> h)
    {
        var hidden = c.Length;
        var ifo = gates[..(3 * hidden)];
        var i = gates[..hidden];
        var f = gates.Slice(hidden, hidden);
        var o = gates.Slice(2 * hidden, hidden);
        var g = gates.Slice(3 * hidden, hidden);
        TensorPrimitives.Sigmoid(ifo, ifo);
        TensorPrimitives.Tanh(g, g);
        TensorPrimitives.Multiply(f, c, c);
        TensorPrimitives.FusedMultiplyAdd(i, g, c, c);
        // f is spent: it holds tanh(c') on its way to h.
        TensorPrimitives.Tanh(c, f);
        TensorPrimitives.Multiply(o, f, h);
    }

    /// <summary>
    /// GRU: <paramref name="input"/> holds W_i{r,z,n} x + b_i{r,z,n} and is overwritten;
    /// <paramref name="hidden"/> holds W_h{r,z,n} h + b_h{r,z,n}. r = σ(i_r + h_r), z = σ(i_z + h_z),
    /// n = tanh(i_n + r ⊙ h_n), h' = (1 − z) ⊙ n + z ⊙ h, computed as n + z ⊙ (h − n).
    /// </summary>
    public static void Gru(Span<float> input, ReadOnlySpan<float> hidden, ReadOnlySpan<float> previous, Span<float> h)
    {
        var size = previous.Length;
        var rz = input[..(2 * size)];
        var r = input[..size];
        var z = input.Slice(size, size);
        var n = input.Slice(2 * size, size);
        TensorPrimitives.Add(rz, hidden[..(2 * size)], rz);
        TensorPrimitives.Sigmoid(rz, rz);
        TensorPrimitives.FusedMultiplyAdd(r, hidden.Slice(2 * size, size), n, n);
        TensorPrimitives.Tanh(n, n);
        // r is spent: it holds h − n.
        TensorPrimitives.Subtract(previous, n, r);
        TensorPrimitives.FusedMultiplyAdd(z, r, n, h);
    }

    /// <summary>Elman RNN: h' = tanh(pre) or relu(pre).</summary>
    public static void Rnn(RecurrentMode mode, ReadOnlySpan<float> preActivation, Span<float> h)
    {
        if (mode == RecurrentMode.RnnRelu)
        {
            TensorPrimitives.Max(preActivation, 0f, h);
        }
        else
        {
            TensorPrimitives.Tanh(preActivation, h);
        }
    }
}
