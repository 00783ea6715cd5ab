using Streaming.Cells.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Cells.Torch;

/// <summary>
/// One time step of each cell, written with addmm and element-wise kernels exactly as PyTorch's
/// documentation states the equations. Inputs are (batch, features) on the device; results join the
/// caller's dispose scope. The gate pre-activations <c>W_ih x + bias</c> come in precomputed so a
/// sequence can compute them for all steps in one matrix product.
/// </summary>
internal static class TorchCells
{
    /// <summary><c>W_ih x + b</c> for a batch: (batch, gates * hidden_size); see <see cref="TorchDirectionWeights.InputBias"/>.</summary>
    public static Tensor InputGates(TorchDirectionWeights w, Tensor x) =>
        w.InputBias is { } b ? b.addmm(x, w.WeightIh.t()) : x.mm(w.WeightIh.t());

    /// <summary>
    /// Advances (h, c) by one step. <paramref name="gates"/> holds <see cref="InputGates"/> and is
    /// overwritten (activations are applied in place to save three allocations per step).
    /// </summary>
    /// <returns>h' (batch, output size) and c' (batch, hidden size); c' is null for RNN and GRU.</returns>
    public static (Tensor H, Tensor? C) Step(TorchDirectionWeights w, Tensor gates, Tensor h, Tensor? c) => w.Mode switch
    {
        RecurrentMode.Lstm => Lstm(w, gates, h, c!),
        RecurrentMode.Gru => (Gru(w, gates, h), null),
        RecurrentMode.RnnTanh => (gates.addmm_(h, w.WeightHh.t()).tanh_(), null),
        RecurrentMode.RnnRelu => (gates.addmm_(h, w.WeightHh.t()).relu_(), null),
        _ => throw new ArgumentOutOfRangeException(nameof(w), w.Mode, "unknown recurrent mode"),
    };

    // i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh); c' = f*c + i*g; h' = o*tanh(c'), then W_hr h' with proj_size.
    private static (Tensor H, Tensor C) Lstm(TorchDirectionWeights w, Tensor gates, Tensor h, Tensor c)
    {
        gates.addmm_(h, w.WeightHh.t());
        var hidden = c.shape[1];
        var i = gates.narrow(1, 0, hidden);
        var f = gates.narrow(1, hidden, hidden);
        var g = gates.narrow(1, 2 * hidden, hidden);
        var o = gates.narrow(1, 3 * hidden, hidden);

        // i and f are adjacent: one sigmoid kernel for both.
        gates.narrow(1, 0, 2 * hidden).sigmoid_();
        g.tanh_();
        o.sigmoid_();
        var cNext = f.mul(c).addcmul_(i, g, 1);
        var hNext = o.mul(cNext.tanh());
        return (w.WeightHr is { } hr ? hNext.mm(hr.t()) : hNext, cNext);
    }

    // r, z = sigmoid(W_ir x + b_ir + W_hr h + b_hr), ...; n = tanh(W_in x + b_in + r*(W_hn h + b_hn)); h' = (1-z)*n + z*h.
    private static Tensor Gru(TorchDirectionWeights w, Tensor gates, Tensor h)
    {
        var hidden = h.shape[1];
        var hh = w.HiddenBias is { } b ? b.addmm(h, w.WeightHh.t()) : h.mm(w.WeightHh.t());
        var rz = gates.narrow(1, 0, 2 * hidden).add_(hh.narrow(1, 0, 2 * hidden)).sigmoid_();
        var r = rz.narrow(1, 0, hidden);
        var z = rz.narrow(1, hidden, hidden);
        var n = gates.narrow(1, 2 * hidden, hidden).addcmul_(r, hh.narrow(1, 2 * hidden, hidden), 1).tanh_();

        // (1 - z) * n + z * h == n + z * (h - n): one temporary fewer.
        return h.sub(n).mul_(z).add_(n);
    }
}
