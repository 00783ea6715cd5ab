using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Cells.Torch;

/// <summary>
/// One direction of one layer as device tensors in PyTorch's layout (<c>weight_ih</c> is
/// (gates * hidden_size, input size), gate order LSTM i, f, g, o and GRU r, z, n), for the hand-written
/// cells. Long-lived: detached from dispose scopes, released by <see cref="Dispose"/>.
/// </summary>
internal sealed class TorchDirectionWeights : IDisposable
{
    private readonly List<Tensor> _owned = [];

    private TorchDirectionWeights(RecurrentMode mode)
    {
        Mode = mode;
    }

    /// <summary>The cell type these weights drive.</summary>
    public RecurrentMode Mode { get; }

    /// <summary><c>weight_ih</c>: (gates * hidden_size, input size).</summary>
    public Tensor WeightIh { get; private set; } = null!;

    /// <summary><c>weight_hh</c>: (gates * hidden_size, output size).</summary>
    public Tensor WeightHh { get; private set; } = null!;

    /// <summary>
    /// The bias added to <c>W_ih x</c>: <c>b_ih + b_hh</c> for LSTM and RNN, whose gates only ever see
    /// the sum; <c>b_ih</c> alone for GRU, whose <c>b_hn</c> sits inside <c>r * (W_hn h + b_hn)</c>. Null without bias.
    /// </summary>
    public Tensor? InputBias { get; private set; }

    /// <summary><c>b_hh</c> for GRU (added to <c>W_hh h</c>); null for the other modes and without bias.</summary>
    public Tensor? HiddenBias { get; private set; }

    /// <summary><c>weight_hr</c>: (proj_size, hidden_size) for a projected LSTM; null otherwise.</summary>
    public Tensor? WeightHr { get; private set; }

    /// <summary>Copies <paramref name="weights"/> to <paramref name="device"/>.</summary>
    public static TorchDirectionWeights Create(RecurrentMode mode, LayerWeights weights, Device device)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var result = new TorchDirectionWeights(mode);
        using var scope = NewDisposeScope();
        result.WeightIh = result.Keep(ToDevice(weights.WeightIh, device));
        result.WeightHh = result.Keep(ToDevice(weights.WeightHh, device));
        if (weights.WeightHr is not null)
        {
            result.WeightHr = result.Keep(ToDevice(weights.WeightHr, device));
        }

        if (weights.BiasIh is not null && weights.BiasHh is not null)
        {
            var bih = ToDevice(weights.BiasIh, device);
            var bhh = ToDevice(weights.BiasHh, device);
            if (mode == RecurrentMode.Gru)
            {
                result.InputBias = result.Keep(bih);
                result.HiddenBias = result.Keep(bhh);
            }
            else
            {
                result.InputBias = result.Keep(bih.add(bhh));
            }
        }

        return result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in _owned)
        {
            t.Dispose();
        }

        _owned.Clear();
    }

    private static Tensor ToDevice(FloatTensor t, Device device) =>
        DeviceTransfer.Upload(t.Data.Span, t.Shape.Select(d => (long)d).ToArray(), device);

    private Tensor Keep(Tensor t)
    {
        _owned.Add(t.DetachFromDisposeScope());
        return t;
    }
}
