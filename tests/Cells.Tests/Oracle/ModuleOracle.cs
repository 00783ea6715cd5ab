using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Cells.Tests.Oracle;

/// <summary>
/// A PyTorch module and what PyTorch's equations give for it: builds TorchSharp's own nn.RNN / nn.LSTM / nn.GRU
/// with PyTorch's default initialisation under a fixed seed and exports its state_dict as <see cref="ModelWeights"/>.
/// <see cref="Run"/> is the ground truth, the float64 reference over those weights, never the module itself: libtorch's
/// fused kernels are wrong on some CPUs (its oneDNN LSTM on AMD Zen 5), so the module runs only in
/// <see cref="RunModule"/>, for the agreement tests that check it where the kernel check verified it.
/// TorchSharp's LSTM has no proj_size: such specs use <see cref="Float64Reference"/> with random weights.
/// </summary>
internal sealed class ModuleOracle : IDisposable
{
    private readonly nn.Module _module;

    private ModuleOracle(RecurrentSpec spec, nn.Module module, ModelWeights weights)
    {
        Spec = spec;
        _module = module;
        Weights = weights;
    }

    public RecurrentSpec Spec { get; }

    public ModelWeights Weights { get; }

    public static bool Supports(RecurrentSpec spec) => spec.ProjSize == 0;

    public static ModuleOracle Create(RecurrentSpec spec, int seed)
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

        return new ModuleOracle(spec, module, ModelWeights.FromTensors(new ModelSpec(spec), tensors));
    }

    /// <summary>PyTorch's equations in float64 over (seq_len, batch, input_size) from h0/c0 (null: PyTorch's zeros).</summary>
    public SequenceResult Run(float[] input, int sequenceLength, int batch, float[]? h0 = null, float[]? c0 = null) =>
        Float64Reference.Run(Weights, input, sequenceLength, batch, h0, c0);

    /// <summary>Runs libtorch's module itself over (seq_len, batch, input_size) from h0/c0 (null: PyTorch's zeros).</summary>
    public SequenceResult RunModule(float[] input, int sequenceLength, int batch, float[]? h0 = null, float[]? c0 = null)
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
