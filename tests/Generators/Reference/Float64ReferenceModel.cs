using Streaming.TestSupport;
using Streaming.Cells.Model;
using Streaming.Cells.Weights;

namespace Streaming.Generators.Reference;

/// <summary>
/// A direct float64 transcription of PyTorch's documented equations for a whole model (embedding lookup, RNN, GRU,
/// LSTM with proj_size, stacked, bidirectional, linear head): the expectations for the configurations libtorch has no
/// module for (TorchSharp's nn.LSTM lacks proj_size), and the check of every expectation libtorch computes (see
/// <see cref="CrossCheckedReference"/>), so the shipped recordings never depend on the CPU that generated them. The
/// cell equations are tests/Shared/Float64Cells. Slow and obvious on purpose.
/// </summary>
internal sealed class Float64ReferenceModel : IReferenceModel
{
    private Float64ReferenceModel(ModelWeights weights) => Weights = weights;

    public ModelWeights Weights { get; }

    public string Oracle => "float64 reference";

    /// <summary>
    /// Draws the parameters as PyTorch's <c>RNNBase.reset_parameters</c> does, under <paramref name="seed"/>:
    /// every parameter, in registration order (per layer and direction: weight_ih, weight_hh, bias_ih,
    /// bias_hh, weight_hr), uniform in (-1/sqrt(hidden_size), 1/sqrt(hidden_size)), drawn by libtorch.
    /// </summary>
    public static Float64ReferenceModel Create(ModelSpec spec, int seed)
    {
        if (spec.Embedding is not null || spec.Head is not null)
        {
            throw new ArgumentException("parameters are drawn here for the recurrent stack only; the spec has an embedding or a head.", nameof(spec));
        }

        var r = spec.Recurrent;
        var gates = r.Mode switch
        {
            RecurrentMode.Lstm => 4,
            RecurrentMode.Gru => 3,
            _ => 1,
        };
        var bound = 1 / Math.Sqrt(r.HiddenSize);
        var tensors = new Dictionary<string, FloatTensor>(StringComparer.Ordinal);
        TorchSharp.torch.manual_seed(seed);
        for (var layer = 0; layer < r.NumLayers; layer++)
        {
            for (var d = 0; d < r.Directions; d++)
            {
                var suffix = $"_l{layer}" + (d == 1 ? "_reverse" : "");
                tensors["weight_ih" + suffix] = Uniform(bound, gates * r.HiddenSize, r.LayerInputSize(layer));
                tensors["weight_hh" + suffix] = Uniform(bound, gates * r.HiddenSize, r.OutputSize);
                if (r.Bias)
                {
                    tensors["bias_ih" + suffix] = Uniform(bound, gates * r.HiddenSize);
                    tensors["bias_hh" + suffix] = Uniform(bound, gates * r.HiddenSize);
                }

                if (r.ProjSize > 0)
                {
                    tensors["weight_hr" + suffix] = Uniform(bound, r.ProjSize, r.HiddenSize);
                }
            }
        }

        return new Float64ReferenceModel(ModelWeights.FromTensors(spec, tensors));
    }

    /// <summary>The float64 reference over parameters drawn elsewhere (by libtorch's modules).</summary>
    public static Float64ReferenceModel Of(ModelWeights weights) => new(weights);

    public ForwardResult Forward(IReadOnlyList<Step> steps, RecurrentState initial)
    {
        var spec = Weights.Spec.Recurrent;
        int dirs = spec.Directions, hs = spec.HiddenSize, os = spec.OutputSize, length = steps.Count;
        var layerInput = steps.Select(Input).ToArray();
        var hn = new float[spec.NumLayers * dirs * os];
        var cn = spec.HasCellState ? new float[spec.NumLayers * dirs * hs] : null;
        for (var layer = 0; layer < spec.NumLayers; layer++)
        {
            var layerOutput = new double[length][];
            for (var t = 0; t < length; t++)
            {
                layerOutput[t] = new double[dirs * os];
            }

            for (var d = 0; d < dirs; d++)
            {
                var w = Weights.Layers[layer][d];
                var row = layer * dirs + d;
                var h = initial.H.AsSpan(row * os, os).ToArray().Select(v => (double)v).ToArray();
                var c = initial.C is null ? new double[hs] : initial.C.AsSpan(row * hs, hs).ToArray().Select(v => (double)v).ToArray();
                for (var s = 0; s < length; s++)
                {
                    var t = d == 0 ? s : length - 1 - s;
                    (h, c) = Float64Cells.Step(spec.Mode, w, layerInput[t], h, c, hs);
                    h.CopyTo(layerOutput[t], d * os);
                }

                for (var j = 0; j < os; j++)
                {
                    hn[row * os + j] = (float)h[j];
                }

                for (var j = 0; cn is not null && j < hs; j++)
                {
                    cn[row * hs + j] = (float)c[j];
                }
            }

            layerInput = layerOutput;
        }

        var outputs = layerInput.Select(o => Head(o).Select(v => (float)v).ToArray()).ToArray();
        return new ForwardResult(outputs, new RecurrentState(hn, cn));
    }

    // An id's embedding row (nn.Embedding is a lookup), or the step's own vector.
    private double[] Input(Step step)
    {
        if (Weights.Embedding is not { } table)
        {
            return step.Vector!.Select(v => (double)v).ToArray();
        }

        var width = table.Shape[1];
        return table.Data.Slice(step.Id * width, width).ToArray().Select(v => (double)v).ToArray();
    }

    // nn.Linear by its definition: y = W x + b, on the float64 recurrent output.
    private double[] Head(double[] x)
    {
        if (Weights.HeadWeight is not { } weight)
        {
            return x;
        }

        int outputs = weight.Shape[0], features = weight.Shape[1];
        var w = weight.Data.Span;
        var y = new double[outputs];
        for (var o = 0; o < outputs; o++)
        {
            double sum = Weights.HeadBias is { } bias ? bias.Data.Span[o] : 0;
            for (var k = 0; k < features; k++)
            {
                sum += w[o * features + k] * x[k];
            }

            y[o] = sum;
        }

        return y;
    }

    public void Dispose()
    {
    }

    private static FloatTensor Uniform(double bound, params long[] shape)
    {
        using var t = TorchSharp.torch.empty(shape).uniform_(-bound, bound);
        return new FloatTensor(shape.Select(d => (int)d).ToArray(), t.data<float>().ToArray());
    }
}
