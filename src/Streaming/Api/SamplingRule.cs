namespace Streaming;

/// <summary>
/// How a generation picks each id from the model's logits (docs/generation.md specifies it exactly, so that any
/// implementation reproduces the ids): <see cref="Greedy"/> takes the most probable id (the smallest id on a tie);
/// otherwise an id is drawn from the softmax of logits / <see cref="Temperature"/>, restricted to the
/// <see cref="TopK"/> most probable ids and then to the smallest set whose probability reaches <see cref="TopP"/>,
/// with a random number keyed by (<see cref="Seed"/>, step). C#: <c>SamplingRule.Random(7) with { TopK = 40 }</c>;
/// F#: <c>SamplingRule.Random(7L, topK = Nullable 40)</c>.
/// </summary>
public sealed record SamplingRule
{
    private SamplingRule(bool isGreedy, long seed)
    {
        IsGreedy = isGreedy;
        Seed = seed;
    }

    /// <summary>The most probable id at every step; no randomness, no parameters.</summary>
    public static SamplingRule Greedy { get; } = new(isGreedy: true, seed: 0);

    /// <summary>Draws ids with seed <paramref name="seed"/> (the request's checks refuse out-of-range values, naming them).</summary>
    /// <param name="seed">The random stream's key.</param>
    /// <param name="temperature">Default 1.</param>
    /// <param name="topK">Default null: every id.</param>
    /// <param name="topP">Default 1: no top-p cut.</param>
    public static SamplingRule Random(long seed, double temperature = 1.0, int? topK = null, double topP = 1.0) =>
        new(isGreedy: false, seed) { Temperature = temperature, TopK = topK, TopP = topP };

    /// <summary>Whether this is <see cref="Greedy"/> (the other properties are then unused).</summary>
    public bool IsGreedy { get; }

    /// <summary>Logits are divided by it before the softmax; finite and &gt; 0. Default 1.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Only the k most probable ids may be drawn (ties ordered by id); null: all. At least 1.</summary>
    public int? TopK { get; init; }

    /// <summary>Only the smallest set of most probable ids whose probability reaches it may be drawn; in (0, 1]. Default 1.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>The random stream's key; the step index within the generation is the other part of it.</summary>
    public long Seed { get; init; }

    /// <summary>A short description for messages.</summary>
    public override string ToString() => IsGreedy
        ? "greedy"
        : $"random(seed {Seed}, temperature {Temperature}, top-k {(TopK is { } k ? k.ToString(System.Globalization.CultureInfo.InvariantCulture) : "all")}, top-p {TopP})";
}
