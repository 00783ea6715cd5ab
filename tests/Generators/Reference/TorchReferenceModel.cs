using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Generators.Reference;

/// <summary>
/// libtorch as the oracle: TorchSharp's own nn.Embedding, nn.RNN / nn.LSTM / nn.GRU and nn.Linear, built
/// with PyTorch's default initialisation under a fixed seed, in the order a wrapper module's constructor
/// would build them (embedding, recurrent, head). The weights are their state_dicts with the spec's key
/// prefixes, exactly what <c>torch.save(wrapper.state_dict())</c> would name them. Every forward is one
/// bulk call over the whole sequence. TorchSharp's LSTM has no proj_size: see
/// <see cref="Float64ReferenceModel"/>.
/// The modules compute in float64 on their fp32 weights (widened exactly): fp32 matrix kernels may sum in a
/// different order from run to run (their last bit follows memory alignment), and the recordings must come
/// out byte for byte the same every time. Rounded to fp32, the results are PyTorch's equations to the
/// last bit or two, far inside the recordings' tolerance.
/// </summary>
internal sealed class TorchReferenceModel : IReferenceModel
{
    private readonly ModelSpec _spec;
    private readonly TorchSharp.Modules.Embedding? _embedding;
    private readonly nn.Module _recurrent;
    private readonly TorchSharp.Modules.Linear? _head;

    private TorchReferenceModel(ModelSpec spec, TorchSharp.Modules.Embedding? embedding, nn.Module recurrent, TorchSharp.Modules.Linear? head)
    {
        _spec = spec;
        _embedding = embedding;
        _recurrent = recurrent;
        _head = head;
        var prefixes = spec.KeyPrefixes;
        var tensors = new Dictionary<string, FloatTensor>(StringComparer.Ordinal);
        Export(tensors, prefixes.Embedding, embedding);
        Export(tensors, prefixes.Recurrent, recurrent);
        Export(tensors, prefixes.Head, head);
        Weights = ModelWeights.FromTensors(spec, tensors);
        embedding?.to(ScalarType.Float64);
        recurrent.to(ScalarType.Float64);
        head?.to(ScalarType.Float64);
    }

    public ModelWeights Weights { get; }

    public string Oracle => "libtorch (float64)";

    public static TorchReferenceModel Create(ModelSpec spec, int seed)
    {
        var r = spec.Recurrent;
        if (r.ProjSize != 0)
        {
            throw new ArgumentException("TorchSharp's nn.LSTM has no proj_size; use Float64ReferenceModel.", nameof(spec));
        }

        torch.manual_seed(seed);
        var embedding = spec.Embedding is { } e ? nn.Embedding(e.NumEmbeddings, e.EmbeddingDim) : null;
        nn.Module recurrent = r.Mode switch
        {
            RecurrentMode.Lstm => nn.LSTM(r.InputSize, r.HiddenSize, r.NumLayers, r.Bias, bidirectional: r.Bidirectional),
            RecurrentMode.Gru => nn.GRU(r.InputSize, r.HiddenSize, r.NumLayers, r.Bias, bidirectional: r.Bidirectional),
            RecurrentMode.RnnTanh => nn.RNN(r.InputSize, r.HiddenSize, r.NumLayers, nn.NonLinearities.Tanh, r.Bias, bidirectional: r.Bidirectional),
            RecurrentMode.RnnRelu => nn.RNN(r.InputSize, r.HiddenSize, r.NumLayers, nn.NonLinearities.ReLU, r.Bias, bidirectional: r.Bidirectional),
            _ => throw new ArgumentOutOfRangeException(nameof(spec), r.Mode, "unknown recurrent mode"),
        };
        var head = spec.Head is { } h ? nn.Linear(spec.RecurrentOutputSize, h.OutFeatures, h.Bias) : null;
        embedding?.eval();
        recurrent.eval();
        head?.eval();
        return new TorchReferenceModel(spec, embedding, recurrent, head);
    }

    public ForwardResult Forward(IReadOnlyList<Step> steps, RecurrentState initial)
    {
        var r = _spec.Recurrent;
        var rows = r.NumLayers * r.Directions;
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        var x = _embedding is null
            ? torch.tensor(steps.SelectMany(s => s.Vector!).Select(v => (double)v).ToArray(), new long[] { steps.Count, 1, r.InputSize })
            : _embedding.forward(torch.tensor(steps.Select(s => (long)s.Id).ToArray(), new long[] { steps.Count, 1 }));
        var h0 = Widen(initial.H, rows, r.OutputSize);
        Tensor y, hn;
        Tensor? cn = null;
        switch (_recurrent)
        {
            case TorchSharp.Modules.LSTM lstm:
                (y, hn, cn) = lstm.forward(x, (h0, Widen(initial.C!, rows, r.HiddenSize)));
                break;
            case TorchSharp.Modules.GRU gru:
                (y, hn) = gru.forward(x, h0);
                break;
            case TorchSharp.Modules.RNN rnn:
                (y, hn) = rnn.forward(x, h0);
                break;
            default:
                throw new InvalidOperationException($"unexpected recurrent module {_recurrent.GetType().Name}");
        }

        if (_head is not null)
        {
            y = _head.forward(y);
        }

        var width = (int)y.shape[^1];
        var flat = Narrow(y);
        var outputs = new float[steps.Count][];
        for (var t = 0; t < steps.Count; t++)
        {
            outputs[t] = flat.AsSpan(t * width, width).ToArray();
        }

        return new ForwardResult(outputs, new RecurrentState(Narrow(hn), cn is null ? null : Narrow(cn)));
    }

    public void Dispose()
    {
        _embedding?.Dispose();
        _recurrent.Dispose();
        _head?.Dispose();
    }

    private static void Export(Dictionary<string, FloatTensor> tensors, string prefix, nn.Module? module)
    {
        if (module is null)
        {
            return;
        }

        foreach (var (name, parameter) in module.state_dict())
        {
            tensors[prefix + name] = new FloatTensor(parameter.shape.Select(d => (int)d).ToArray(), Values(parameter.detach()));
        }
    }

    private static float[] Values(Tensor t) => t.contiguous().data<float>().ToArray();

    private static Tensor Widen(float[] state, int rows, int columns) =>
        torch.tensor(state.Select(v => (double)v).ToArray(), new long[] { rows, 1, columns });

    private static float[] Narrow(Tensor t) => t.contiguous().data<double>().ToArray().Select(v => (float)v).ToArray();
}
