namespace Streaming.Cells.Model;

/// <summary>
/// Prefixes of state_dict keys, so a state_dict saved from a wrapper module loads as-is: with
/// <c>Recurrent = "rnn."</c> the key <c>rnn.weight_ih_l0</c> is read as <c>weight_ih_l0</c>.
/// </summary>
/// <param name="Recurrent">Prefix of the recurrent keys (default none).</param>
/// <param name="Embedding">Prefix of the embedding's <c>weight</c> (default <c>embedding.</c>).</param>
/// <param name="Head">Prefix of the head's <c>weight</c> and <c>bias</c> (default <c>head.</c>).</param>
public sealed record WeightKeyPrefixes(string Recurrent = "", string Embedding = "embedding.", string Head = "head.")
{
    /// <summary>The defaults: bare recurrent keys, <c>embedding.weight</c>, <c>head.weight</c>, <c>head.bias</c>.</summary>
    public static WeightKeyPrefixes Default { get; } = new();
}
