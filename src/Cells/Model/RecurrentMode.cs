namespace Streaming.Cells.Model;

/// <summary>The recurrent cell type, named as PyTorch's <c>mode</c> strings in manifests.</summary>
public enum RecurrentMode
{
    /// <summary><c>RNN_TANH</c>: h' = tanh(W_ih x + b_ih + W_hh h + b_hh).</summary>
    RnnTanh,

    /// <summary><c>RNN_RELU</c>: h' = relu(W_ih x + b_ih + W_hh h + b_hh).</summary>
    RnnRelu,

    /// <summary><c>LSTM</c>: gates i, f, g, o in that order in the weights; optional projection.</summary>
    Lstm,

    /// <summary><c>GRU</c>: gates r, z, n in that order; b_hn sits inside r * (W_hn h + b_hn).</summary>
    Gru,
}

/// <summary>Conversions between <see cref="RecurrentMode"/> and PyTorch's mode strings.</summary>
public static class RecurrentModes
{
    /// <summary>Parses <c>RNN_TANH</c>, <c>RNN_RELU</c>, <c>LSTM</c> or <c>GRU</c> (case-insensitive).</summary>
    public static RecurrentMode Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.ToUpperInvariant() switch
        {
            "RNN_TANH" => RecurrentMode.RnnTanh,
            "RNN_RELU" => RecurrentMode.RnnRelu,
            "LSTM" => RecurrentMode.Lstm,
            "GRU" => RecurrentMode.Gru,
            _ => throw new InvalidModelSpecException(
                $"recurrent.mode is '{text}'; expected one of RNN_TANH, RNN_RELU, LSTM, GRU."),
        };
    }

    /// <summary>The PyTorch mode string for <paramref name="mode"/>.</summary>
    public static string ToTorchName(this RecurrentMode mode) => mode switch
    {
        RecurrentMode.RnnTanh => "RNN_TANH",
        RecurrentMode.RnnRelu => "RNN_RELU",
        RecurrentMode.Lstm => "LSTM",
        RecurrentMode.Gru => "GRU",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown recurrent mode"),
    };

    /// <summary>Rows of W_ih per hidden unit: 1 (RNN), 4 (LSTM), 3 (GRU).</summary>
    public static int GateCount(this RecurrentMode mode) => mode switch
    {
        RecurrentMode.Lstm => 4,
        RecurrentMode.Gru => 3,
        _ => 1,
    };
}
