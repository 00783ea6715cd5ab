namespace Streaming.Client.Protocol;

/// <summary>Opens a session. Answered by an Ack, or an Error (for instance SessionAlreadyOpen, InvalidState).</summary>
/// <param name="Session">The new session's id.</param>
/// <param name="Sequence">The client's sequence number.</param>
/// <param name="Model">The model to serve the session with; empty for the server's default model.</param>
/// <param name="H0">Initial hidden state, (num_layers * num_directions, output size) row-major; empty for zeros.</param>
/// <param name="C0">Initial cell state (LSTM), (num_layers * num_directions, hidden_size) row-major; empty for zeros.</param>
public sealed record OpenFrame(string Session, ulong Sequence, string Model = "", ReadOnlyMemory<float> H0 = default, ReadOnlyMemory<float> C0 = default)
    : SessionFrame(Session, Sequence)
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.Open;
}
