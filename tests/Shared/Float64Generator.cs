using Streaming.Cells.Weights;

namespace Streaming.TestSupport;

/// <summary>
/// The oracle of generation: PyTorch's equations in float64 (the tests' shared transcription, <see cref="Float64Cells"/>),
/// stepped with a carried float64 state (which is the float64 bulk forward over the prompt and every generated id), and
/// docs/generation.md's sampling applied to the float64 logits, written out a second time, independently of the engine's.
/// It also measures each decision's margin: how far the float64 logits were from choosing another id. Shared by the
/// generation tests (tests/Streaming.Tests) and the recording generator (tests/Generators), which takes the expected
/// ids of the shipped recordings from it. Unidirectional models only (a bidirectional one cannot generate).
/// </summary>
internal sealed class Float64Generator
{
    private readonly ModelWeights _weights;
    private readonly double[][] _h;
    private readonly double[][] _c;

    /// <summary>A session at the zero state.</summary>
    public Float64Generator(ModelWeights weights)
    {
        _weights = weights;
        var spec = weights.Spec.Recurrent;
        _h = Enumerable.Range(0, spec.NumLayers).Select(_ => new double[spec.OutputSize]).ToArray();
        _c = Enumerable.Range(0, spec.NumLayers).Select(_ => new double[spec.HiddenSize]).ToArray();
    }

    /// <summary>A session at state (<paramref name="h"/>, <paramref name="c"/>): PyTorch's h_n and c_n without the batch axis, (num_layers, size) row-major; c null for zeros (or no cell state).</summary>
    public Float64Generator(ModelWeights weights, IReadOnlyList<float> h, IReadOnlyList<float>? c)
        : this(weights)
    {
        for (var layer = 0; layer < _h.Length; layer++)
        {
            for (var j = 0; j < _h[layer].Length; j++)
            {
                _h[layer][j] = h[layer * _h[layer].Length + j];
            }

            for (var j = 0; c is not null && j < _c[layer].Length; j++)
            {
                _c[layer][j] = c[layer * _c[layer].Length + j];
            }
        }
    }

    /// <summary>The output of the session's last step: the head on the top layer's h (or that h without a head).</summary>
    public double[] Output => Head(TopH);

    /// <summary>The ids, each step's float64 logits and margin, and the smallest margin, of a generation from a fresh (zero) state.</summary>
    public static Generated Run(ModelWeights weights, IReadOnlyList<int> prompt, int maxSteps, SamplingRule rule, IReadOnlyCollection<int>? stopIds = null) =>
        new Float64Generator(weights).Generate(prompt, maxSteps, rule, stopIds);

    /// <summary>
    /// A generation from this session's state, as docs/generation.md runs it: the prompt consumed, then each picked id fed
    /// back until a stop id or <paramref name="maxSteps"/>; afterwards the session is past the prompt and every id.
    /// </summary>
    public Generated Generate(IReadOnlyList<int> prompt, int maxSteps, SamplingRule rule, IReadOnlyCollection<int>? stopIds = null)
    {
        var logits = Output;
        foreach (var id in prompt)
        {
            logits = Feed(id);
        }

        var ids = new List<int>();
        var allLogits = new List<double[]>();
        var margins = new List<double>();
        for (var t = 0; t < maxSteps; t++)
        {
            var (id, margin) = Pick(logits, t, rule);
            ids.Add(id);
            allLogits.Add(logits);
            margins.Add(margin);
            logits = Feed(id);
            if (stopIds?.Contains(id) == true)
            {
                break;
            }
        }

        return new Generated(ids.ToArray(), allLogits.ToArray(), margins.ToArray(), State());
    }

    /// <summary>A generation of a model whose output is fed back as its next input (no ids): the prompt, then <paramref name="steps"/> outputs fed back; returns each fed-back output.</summary>
    public double[][] GenerateVectors(IReadOnlyList<float[]> prompt, int steps)
    {
        var output = Output;
        foreach (var x in prompt)
        {
            output = Feed(x.Select(v => (double)v).ToArray());
        }

        var fed = new double[steps][];
        for (var t = 0; t < steps; t++)
        {
            fed[t] = output;
            output = Feed(output);
        }

        return fed;
    }

    /// <summary>The logits before the first id (from the zero state) and after each of <paramref name="ids"/>, and the final state.</summary>
    public static (double[][] Logits, (double[] H, double[] C) Final) Consume(ModelWeights weights, IReadOnlyList<int> ids)
    {
        var model = new Float64Generator(weights);
        var logits = new List<double[]> { model.Head(model.TopH) };
        logits.AddRange(ids.Select(model.Feed));
        return (logits.ToArray(), model.State());
    }

    /// <summary>docs/generation.md's rule on float64 logits, and the decision's margin (greedy: logit gap; random: probability distance to the nearest boundary).</summary>
    public static (int Id, double Margin) Pick(double[] z, int step, SamplingRule rule)
    {
        var v = z.Length;
        if (rule.IsGreedy)
        {
            var sorted = z.Select((value, i) => (value, i)).OrderByDescending(p => p.value).ThenBy(p => p.i).ToArray();
            return (sorted[0].i, sorted[0].value - sorted[1].value);
        }

        var q = z.Select(x => x / rule.Temperature).ToArray();
        var order = Enumerable.Range(0, v).OrderByDescending(i => q[i]).ThenBy(i => i).ToArray();
        var k = Math.Min(rule.TopK ?? v, v);
        var margin = k < v ? q[order[k - 1]] - q[order[k]] : double.PositiveInfinity;
        var w = order.Take(k).Select(i => Math.Exp(q[i] - q[order[0]])).ToList();
        var s = 0.0;
        foreach (var x in w)
        {
            s += x;
        }

        if (rule.TopP < 1)
        {
            var c = 0.0;
            for (var j = 0; j < w.Count; j++)
            {
                c += w[j];
                margin = Math.Min(margin, Math.Abs(c / s - rule.TopP));
                if (c / s >= rule.TopP)
                {
                    w = w.Take(j + 1).ToList();
                    s = c;
                    break;
                }
            }
        }

        var r = Uniform(rule.Seed, step) * s;
        var cumulative = 0.0;
        var picked = order[w.Count - 1];
        var found = false;
        for (var j = 0; j < w.Count; j++)
        {
            cumulative += w[j];
            if (j < w.Count - 1)
            {
                margin = Math.Min(margin, Math.Abs(r - cumulative) / s);
            }

            if (!found && r < cumulative)
            {
                picked = order[j];
                found = true;
            }
        }

        return (picked, margin);
    }

    /// <summary>SplitMix64 keyed by (seed, step), as docs/generation.md writes it, in [0, 1).</summary>
    public static double Uniform(long seed, int step)
    {
        var x = unchecked((ulong)seed + (ulong)(step + 1) * 0x9E3779B97F4A7C15UL);
        x = unchecked((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL);
        x = unchecked((x ^ (x >> 27)) * 0x94D049BB133111EBUL);
        x ^= x >> 31;
        return (x >> 11) / 9007199254740992.0;
    }

    /// <summary>Consumes <paramref name="id"/> and returns the logits after it.</summary>
    public double[] Feed(int id)
    {
        var dim = _weights.Spec.Embedding!.EmbeddingDim;
        return Feed(_weights.Embedding!.Data.Span.Slice(id * dim, dim).ToArray().Select(f => (double)f).ToArray());
    }

    /// <summary>Consumes the input vector <paramref name="x"/> (a model without an embedding, or an id's embedding row) and returns the output after it.</summary>
    public double[] Feed(double[] x)
    {
        var spec = _weights.Spec.Recurrent;
        for (var layer = 0; layer < spec.NumLayers; layer++)
        {
            (_h[layer], _c[layer]) = Float64Cells.Step(spec.Mode, _weights.Layers[layer][0], x, _h[layer], _c[layer], spec.HiddenSize);
            x = _h[layer];
        }

        return Head(x);
    }

    private double[] TopH => _h[^1];

    /// <summary>Every layer's h then c, as PyTorch's h_n and c_n without the batch axis.</summary>
    private (double[] H, double[] C) State() => (_h.SelectMany(h => h).ToArray(), _c.SelectMany(c => c).ToArray());

    private double[] Head(double[] x)
    {
        if (_weights.HeadWeight is null)
        {
            return x.ToArray();
        }

        var w = _weights.HeadWeight.Data.Span;
        var logits = new double[_weights.HeadWeight.Shape[0]];
        for (var o = 0; o < logits.Length; o++)
        {
            double sum = _weights.HeadBias is { } bias ? bias.Data.Span[o] : 0;
            for (var k = 0; k < x.Length; k++)
            {
                sum += w[o * x.Length + k] * x[k];
            }

            logits[o] = sum;
        }

        return logits;
    }
}

/// <summary>A float64 generation: ids, the logits each was picked from, each decision's margin, and the final state.</summary>
internal sealed record Generated(int[] Ids, double[][] Logits, double[] Margins, (double[] H, double[] C) Final)
{
    public double SmallestMargin => Margins.Min();
}
