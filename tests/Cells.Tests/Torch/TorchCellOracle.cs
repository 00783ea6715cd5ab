using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Cells.Tests.Torch;

/// <summary>
/// TorchSharp's own nn.LSTMCell, nn.GRUCell or nn.RNNCell carrying one layer direction's weights: the
/// oracle for one step of one session.
/// </summary>
internal sealed class TorchCellOracle : IDisposable
{
    private readonly nn.Module _cell;

    public TorchCellOracle(RecurrentMode mode, LayerWeights weights, bool bias)
    {
        var hidden = weights.WeightHh.Shape[1];
        var input = weights.WeightIh.Shape[1];
        _cell = mode switch
        {
            RecurrentMode.Lstm => nn.LSTMCell(input, hidden, bias),
            RecurrentMode.Gru => nn.GRUCell(input, hidden, bias),
            RecurrentMode.RnnTanh => nn.RNNCell(input, hidden, nn.NonLinearities.Tanh, bias),
            RecurrentMode.RnnRelu => nn.RNNCell(input, hidden, nn.NonLinearities.ReLU, bias),
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };
        var parameters = _cell.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        using var noGrad = no_grad();
        void Load(string key, FloatTensor? value)
        {
            if (value is not null)
            {
                using var t = tensor(value.Data.ToArray(), value.Shape.Select(d => (long)d).ToArray());
                parameters[key].copy_(t);
            }
        }

        Load("weight_ih", weights.WeightIh);
        Load("weight_hh", weights.WeightHh);
        Load("bias_ih", weights.BiasIh);
        Load("bias_hh", weights.BiasHh);
    }

    /// <summary>One step of one session: returns h' and, for LSTM, c' (else empty).</summary>
    public (float[] H, float[] C) Step(float[] x, float[] h, float[] c)
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var xt = tensor(x, 1, x.Length);
        var ht = tensor(h, 1, h.Length);
        switch (_cell)
        {
            case TorchSharp.Modules.LSTMCell lstm:
                var (hn, cn) = lstm.forward(xt, (ht, tensor(c, 1, c.Length)));
                return (hn.data<float>().ToArray(), cn.data<float>().ToArray());
            case TorchSharp.Modules.GRUCell gru:
                return (gru.forward(xt, ht).data<float>().ToArray(), []);
            case TorchSharp.Modules.RNNCell rnn:
                return (rnn.forward(xt, ht).data<float>().ToArray(), []);
            default:
                throw new InvalidOperationException("unknown cell");
        }
    }

    public void Dispose() => _cell.Dispose();
}
