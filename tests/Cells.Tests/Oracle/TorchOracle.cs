using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Cells.Tests.Oracle;

/// <summary>
/// libtorch as the oracle: builds TorchSharp's own nn.RNN / nn.LSTM / nn.GRU with PyTorch's default
/// initialisation under a fixed seed, exports its state_dict as <see cref="ModelWeights"/>, and runs the
/// module's forward. TorchSharp's LSTM has no proj_size: such specs use <see cref="Float64Reference"/>.
/// </summary>
internal sealed class TorchOracle : IDisposable
{
    private readonly nn.Module _module;

    private TorchOracle(RecurrentSpec spec, nn.Module module, ModelWeights weights)
    {
        Spec = spec;
        _module = module;
        Weights = weights;
    }

    public RecurrentSpec Spec { get; }

    public ModelWeights Weights { get; }

    public static bool Supports(RecurrentSpec spec) => spec.ProjSize == 0;

    public static TorchOracle Create(RecurrentSpec spec, int seed)
    {
        if (!Supports(spec))
        {
            throw new ArgumentException("TorchSharp's nn.LSTM has no proj_size; use Float64Reference.", nameof(spec));
        }

        torch.manual_seed(seed);
        nn.Module module = spec.Mode switch
        {
            RecurrentMode.Lstm => nn.LSTM(spec.InputSize, spec.HiddenSize, spec.NumLayers, spec.Bias, bidirectional: spec.Bidirectional),
            RecurrentMode.Gru => nn.GRU(spec.InputSize, spec.HiddenSize, spec.NumLayers, spec.Bias, bidirectional: spec.Bidirectional),
            RecurrentMode.RnnTanh => nn.RNN(spec.InputSize, spec.HiddenSize, spec.NumLayers, nn.NonLinearities.Tanh, spec.Bias, bidirectional: spec.Bidirectional),
            RecurrentMode.RnnRelu => nn.RNN(spec.InputSize, spec.HiddenSize, spec.NumLayers, nn.NonLinearities.ReLU, spec.Bias, bidirectional: spec.Bidirectional),
            _ => throw new ArgumentOutOfRangeException(nameof(spec)),
        };
        module.eval();
        var tensors = new Dictionary<string, FloatTensor>();
        foreach (var (name, parameter) in module.state_dict())
        {
            tensors[name] = ToFloatTensor(parameter);
        }

        return new TorchOracle(spec, module, ModelWeights.FromTensors(new ModelSpec(spec), tensors));
    }

    /// <summary>Runs the module over (seq_len, batch, input_size) from h0/c0 (null: PyTorch's zeros).</summary>
    public SequenceResult Run(float[] input, int sequenceLength, int batch, float[]? h0 = null, float[]? c0 = null)
    {
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        var x = torch.tensor(input, new long[] { sequenceLength, batch, Spec.InputSize });
        var stateShape = new long[] { Spec.NumLayers * Spec.Directions, batch, Spec.HiddenSize };
        var h = h0 is null ? null : torch.tensor(h0, stateShape);
        var c = c0 is null ? null : torch.tensor(c0, stateShape);
        switch (_module)
        {
            case TorchSharp.Modules.LSTM lstm:
                {
                    var (y, hn, cn) = h is null && c is null
                        ? lstm.forward(x)
                        : lstm.forward(x, (h ?? torch.zeros(stateShape), c ?? torch.zeros(stateShape)));
                    return new SequenceResult(Values(y), Values(hn), Values(cn));
                }

            case TorchSharp.Modules.GRU gru:
                {
                    var (y, hn) = gru.forward(x, h);
                    return new SequenceResult(Values(y), Values(hn), []);
                }

            case TorchSharp.Modules.RNN rnn:
                {
                    var (y, hn) = rnn.forward(x, h ?? torch.zeros(stateShape));
                    return new SequenceResult(Values(y), Values(hn), []);
                }

            default:
                throw new InvalidOperationException("unknown module");
        }
    }

    public void Dispose() => _module.Dispose();

    internal static FloatTensor ToFloatTensor(Tensor t) =>
        new(t.shape.Select(d => (int)d).ToArray(), t.detach().contiguous().data<float>().ToArray());

    private static float[] Values(Tensor t) => t.contiguous().data<float>().ToArray();
}
