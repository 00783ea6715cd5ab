using Streaming.Cells.Weights;

namespace Streaming;

/// <summary>Which exact model a state belongs to: its name and a SHA-256 of its weights.</summary>
/// <param name="Name">The manifest's model name.</param>
/// <param name="WeightsSha256">Lower-case hex SHA-256 of every parameter's key, shape and values (<see cref="ModelWeights.ComputeHash"/>).</param>
public sealed record ModelIdentity(string Name, string WeightsSha256)
{
    /// <summary>The identity of <paramref name="weights"/> under <paramref name="name"/>.</summary>
    public static ModelIdentity Of(string name, ModelWeights weights)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(weights);
        return new ModelIdentity(name, weights.ComputeHash());
    }

    /// <summary>The name and the first 12 hex digits of the hash, for messages.</summary>
    public override string ToString() => $"'{Name}' (weights sha256 {WeightsSha256[..Math.Min(12, WeightsSha256.Length)]}...)";
}
