namespace Streaming.Client;

/// <summary>
/// A session's starting state in PyTorch's layout without the batch axis: h0 is (num_layers * num_directions, output size)
/// and c0 (num_layers * num_directions, hidden size) for LSTM. Either may be empty, meaning zeros (PyTorch's default).
/// The server checks the sizes and refuses a wrong one with InvalidState.
/// </summary>
/// <param name="H0">Initial hidden state, or empty for zeros.</param>
/// <param name="C0">Initial cell state (LSTM only), or empty for zeros.</param>
public sealed record StartState(ReadOnlyMemory<float> H0, ReadOnlyMemory<float> C0)
{
    /// <summary>Zeros everywhere, as PyTorch starts.</summary>
    public static StartState Zeros { get; } = new(ReadOnlyMemory<float>.Empty, ReadOnlyMemory<float>.Empty);
}
