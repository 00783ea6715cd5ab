namespace Streaming.Sessions;

/// <summary>
/// Picks a generation's next id from the model's fp32 logits, exactly as docs/generation.md specifies (so that another
/// implementation, in Python say, reproduces the ids): float64 throughout, candidates ordered by scaled logit with
/// ties by id, sums taken in that order, and a counter-based random number (SplitMix64 keyed by seed and step). One
/// per generation; it keeps its buffers between steps.
/// </summary>
internal sealed class TokenSampler(SamplingRule rule, int vocabulary)
{
    private readonly int[] _order = new int[vocabulary];
    private readonly double[] _scaled = new double[vocabulary];
    private readonly double[] _weights = new double[vocabulary];

    /// <summary>The id for step <paramref name="step"/> and the model's probability of it (softmax at temperature 1).</summary>
    public (int Id, double Probability) Pick(ReadOnlySpan<float> logits, int step)
    {
        var id = rule.IsGreedy ? ArgMax(logits) : Draw(logits, step);
        return (id, Probability(logits, id));
    }

    /// <summary>The <paramref name="count"/> most probable ids (ties by id) with the model's probabilities.</summary>
    public static TokenProbability[] Top(ReadOnlySpan<float> logits, int count)
    {
        if (count == 0)
        {
            return [];
        }

        var order = Enumerable.Range(0, logits.Length).ToArray();
        var values = logits.ToArray();
        Array.Sort(order, (a, b) => values[a] != values[b] ? values[b].CompareTo(values[a]) : a.CompareTo(b));
        var (max, sum) = SoftmaxSum(logits);
        return order.Take(count).Select(i => new TokenProbability(i, Math.Exp(values[i] - max) / sum)).ToArray();
    }

    /// <summary>
    /// SplitMix64's output number <paramref name="step"/> + 1 from state <paramref name="seed"/>, as a double in [0, 1)
    /// from its top 53 bits: random access by step, so a generation resumed at any step draws what it would have.
    /// </summary>
    public static double Uniform(long seed, int step)
    {
        var z = unchecked((ulong)seed + ((ulong)step + 1) * 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }

    // The first index of the largest logit.
    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }

    private int Draw(ReadOnlySpan<float> logits, int step)
    {
        var n = logits.Length;
        for (var i = 0; i < n; i++)
        {
            _scaled[i] = logits[i] / rule.Temperature;
            _order[i] = i;
        }

        var scaled = _scaled;
        Array.Sort(_order, (a, b) => scaled[a] != scaled[b] ? scaled[b].CompareTo(scaled[a]) : a.CompareTo(b));
        var kept = Math.Min(rule.TopK ?? n, n);

        // Weights relative to the largest, summed in order: the top-k total, then the top-p prefix and its total.
        var max = scaled[_order[0]];
        double total = 0;
        for (var j = 0; j < kept; j++)
        {
            _weights[j] = Math.Exp(scaled[_order[j]] - max);
            total += _weights[j];
        }

        if (rule.TopP < 1.0)
        {
            double cumulative = 0;
            for (var j = 0; j < kept; j++)
            {
                cumulative += _weights[j];
                if (cumulative / total >= rule.TopP)
                {
                    kept = j + 1;
                    break;
                }
            }

            total = cumulative;
        }

        var target = Uniform(rule.Seed, step) * total;
        double running = 0;
        for (var j = 0; j < kept; j++)
        {
            running += _weights[j];
            if (target < running)
            {
                return _order[j];
            }
        }

        // Only rounding can leave the target at the total: the last candidate kept.
        return _order[kept - 1];
    }

    private static double Probability(ReadOnlySpan<float> logits, int id)
    {
        var (max, sum) = SoftmaxSum(logits);
        return Math.Exp(logits[id] - max) / sum;
    }

    // The softmax's largest logit and its normaliser, in float64, summed in id order.
    private static (double Max, double Sum) SoftmaxSum(ReadOnlySpan<float> logits)
    {
        double max = logits[0];
        for (var i = 1; i < logits.Length; i++)
        {
            max = Math.Max(max, logits[i]);
        }

        double sum = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            sum += Math.Exp(logits[i] - max);
        }

        return (max, sum);
    }
}
