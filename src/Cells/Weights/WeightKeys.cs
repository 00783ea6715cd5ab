using Streaming.Cells.Model;

namespace Streaming.Cells.Weights;

/// <summary>PyTorch state_dict key names for a model's parameters.</summary>
public static class WeightKeys
{
    /// <summary>The key of a recurrent parameter, e.g. <c>weight_ih_l0</c> or <c>bias_hh_l1_reverse</c>, with its prefix.</summary>
    /// <param name="prefixes">Key prefixes in force.</param>
    /// <param name="parameter">One of <c>weight_ih</c>, <c>weight_hh</c>, <c>bias_ih</c>, <c>bias_hh</c>, <c>weight_hr</c>.</param>
    /// <param name="layer">Layer index.</param>
    /// <param name="direction">0 forward, 1 reverse.</param>
    public static string Recurrent(WeightKeyPrefixes prefixes, string parameter, int layer, int direction)
    {
        ArgumentNullException.ThrowIfNull(prefixes);
        return $"{prefixes.Recurrent}{parameter}_l{layer}{(direction == 1 ? "_reverse" : "")}";
    }

    /// <summary>The embedding's weight key, <c>embedding.weight</c> by default.</summary>
    public static string EmbeddingWeight(WeightKeyPrefixes prefixes)
    {
        ArgumentNullException.ThrowIfNull(prefixes);
        return prefixes.Embedding + "weight";
    }

    /// <summary>The head's weight key, <c>head.weight</c> by default.</summary>
    public static string HeadWeight(WeightKeyPrefixes prefixes)
    {
        ArgumentNullException.ThrowIfNull(prefixes);
        return prefixes.Head + "weight";
    }

    /// <summary>The head's bias key, <c>head.bias</c> by default.</summary>
    public static string HeadBias(WeightKeyPrefixes prefixes)
    {
        ArgumentNullException.ThrowIfNull(prefixes);
        return prefixes.Head + "bias";
    }
}
