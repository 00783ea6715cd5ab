namespace Streaming.Client;

/// <summary>
/// How the server picks each generated id (the engine's rule of the same name, docs/generation.md):
/// <see cref="Greedy"/> takes the most probable id; <see cref="Random"/> draws from the softmax of logits /
/// temperature, restricted to the top-k ids and then to top-p, keyed by (seed, step). The server checks the values and
/// refuses one out of range with InvalidInput, naming the field.
/// </summary>
public sealed record SamplingRule
{
    private SamplingRule(bool isGreedy, long seed)
    {
        IsGreedy = isGreedy;
        Seed = seed;
    }

    /// <summary>The most probable id at every step.</summary>
    public static SamplingRule Greedy { get; } = new(isGreedy: true, seed: 0);

    /// <summary>Draws ids with seed <paramref name="seed"/>.</summary>
    /// <param name="seed">The random stream's key.</param>
    /// <param name="temperature">Default 1; finite and above 0.</param>
    /// <param name="topK">Default null: every id; else at least 1.</param>
    /// <param name="topP">Default 1; in (0, 1].</param>
    public static SamplingRule Random(long seed, double temperature = 1.0, int? topK = null, double topP = 1.0) =>
        new(isGreedy: false, seed) { Temperature = temperature, TopK = topK, TopP = topP };

    /// <summary>Whether this is <see cref="Greedy"/>.</summary>
    public bool IsGreedy { get; }

    /// <summary>The random stream's key.</summary>
    public long Seed { get; init; }

    /// <summary>Logits are divided by it before the softmax.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Only the k most probable ids may be drawn; null: all.</summary>
    public int? TopK { get; init; }

    /// <summary>Only the smallest set of most probable ids whose probability reaches it may be drawn.</summary>
    public double TopP { get; init; } = 1.0;
}
