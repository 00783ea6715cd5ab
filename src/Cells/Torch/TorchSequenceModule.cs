using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Cells.Torch;

/// <summary>
/// One layer as libtorch's own single-layer <c>nn.LSTM</c>, <c>nn.GRU</c> or <c>nn.RNN</c> (bidirectional
/// when the layer is), its parameters overwritten with the model's, so bulk runs use libtorch's
/// full-sequence kernels (oneDNN on the CPU, cuDNN on CUDA). Not for projected LSTMs: TorchSharp's
/// nn.LSTM has no proj_size.
/// </summary>
internal sealed class TorchSequenceModule : IDisposable
{
    private readonly nn.Module _module;

    private TorchSequenceModule(RecurrentMode mode, nn.Module module)
    {
        Mode = mode;
        _module = module;
    }

    /// <summary>The cell type.</summary>
    public RecurrentMode Mode { get; }

    /// <summary>Builds the module on <paramref name="device"/> with the layer's weights, one entry per direction.</summary>
    public static TorchSequenceModule Create(LayerShape shape, IReadOnlyList<LayerWeights> directions, Device device)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(directions);
        if (shape.HasProjection)
        {
            throw new ArgumentException("TorchSharp's nn.LSTM has no proj_size; projected layers run by hand.", nameof(shape));
        }

        var bidirectional = shape.Directions == 2;
        nn.Module module = shape.Mode switch
        {
            RecurrentMode.Lstm => nn.LSTM(shape.InputSize, shape.HiddenSize, 1, shape.Bias, bidirectional: bidirectional, device: device),
            RecurrentMode.Gru => nn.GRU(shape.InputSize, shape.HiddenSize, 1, shape.Bias, bidirectional: bidirectional, device: device),
            RecurrentMode.RnnTanh => nn.RNN(shape.InputSize, shape.HiddenSize, 1, nn.NonLinearities.Tanh, shape.Bias, bidirectional: bidirectional, device: device),
            RecurrentMode.RnnRelu => nn.RNN(shape.InputSize, shape.HiddenSize, 1, nn.NonLinearities.ReLU, shape.Bias, bidirectional: bidirectional, device: device),
            _ => throw new ArgumentOutOfRangeException(nameof(shape), shape.Mode, "unknown recurrent mode"),
        };

        // The module registered its parameters in whatever dispose scope the caller has open; they live
        // as long as the module does, and Module.Dispose releases them.
        foreach (var p in module.parameters())
        {
            p.DetachFromDisposeScope();
        }

        var result = new TorchSequenceModule(shape.Mode, module);
        result.Load(directions);
        return result;
    }

    /// <summary>
    /// Runs the layer over (seq_len, batch, input size) from h0 (directions, batch, hidden) and, for LSTM,
    /// c0. Returns the output (seq_len, batch, directions * hidden), h_n and c_n (null for RNN and GRU).
    /// </summary>
    public (Tensor Output, Tensor HN, Tensor? CN) Run(Tensor input, Tensor h0, Tensor? c0)
    {
        switch (_module)
        {
            case TorchSharp.Modules.LSTM lstm:
                var (y, hn, cn) = lstm.forward(input, (h0, c0!));
                return (y, hn, cn);
            case TorchSharp.Modules.GRU gru:
                var (gy, ghn) = gru.forward(input, h0);
                return (gy, ghn, null);
            case TorchSharp.Modules.RNN rnn:
                var (ry, rhn) = rnn.forward(input, h0);
                return (ry, rhn, null);
            default:
                throw new InvalidOperationException($"unexpected module {_module.GetType().Name}");
        }
    }

    /// <inheritdoc />
    public void Dispose() => _module.Dispose();

    private void Load(IReadOnlyList<LayerWeights> directions)
    {
        var parameters = _module.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        for (var d = 0; d < directions.Count; d++)
        {
            var suffix = d == 0 ? "_l0" : "_l0_reverse";
            var w = directions[d];
            Copy(parameters, "weight_ih" + suffix, w.WeightIh);
            Copy(parameters, "weight_hh" + suffix, w.WeightHh);
            if (w.BiasIh is not null && w.BiasHh is not null)
            {
                Copy(parameters, "bias_ih" + suffix, w.BiasIh);
                Copy(parameters, "bias_hh" + suffix, w.BiasHh);
            }
        }

        // cuDNN wants the weights in one flat buffer; elsewhere this does nothing.
        switch (_module)
        {
            case TorchSharp.Modules.LSTM lstm: lstm.flatten_parameters(); break;
            case TorchSharp.Modules.GRU gru: gru.flatten_parameters(); break;
            case TorchSharp.Modules.RNN rnn: rnn.flatten_parameters(); break;
        }
    }

    private static void Copy(Dictionary<string, Tensor> parameters, string key, FloatTensor source)
    {
        if (!parameters.TryGetValue(key, out var target))
        {
            throw new InvalidOperationException($"libtorch's module has no parameter '{key}'; it has {string.Join(", ", parameters.Keys)}.");
        }

        var shape = source.Shape.Select(d => (long)d).ToArray();
        if (!target.shape.SequenceEqual(shape))
        {
            throw new InvalidOperationException(
                $"libtorch's '{key}' has shape {Weights.FloatTensor.Describe(target.shape.Select(d => (int)d))}; the weights have {source.ShapeText}.");
        }

        target.copy_(DeviceTransfer.Upload(source.Data.Span, shape, CPU));
    }
}
