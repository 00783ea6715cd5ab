namespace Streaming.Host.Recording;

/// <summary><c>{"session":"a","op":"open","h0":[[...]],"c0":[[...]]}</c>: opens the session, from zeros when h0/c0 are absent.</summary>
/// <param name="Line">The line it was read from (0 when built to be written).</param>
/// <param name="Session">The session id.</param>
/// <param name="H0">Initial hidden state, (num_layers * num_directions, output size), or null for zeros.</param>
/// <param name="C0">Initial cell state (LSTM), (num_layers * num_directions, hidden_size), or null for zeros.</param>
public sealed record RecordedOpen(int Line, string Session, FloatMatrix? H0 = null, FloatMatrix? C0 = null) : RecordedOperation(Line, Session)
{
    /// <inheritdoc/>
    public override string Op => "open";
}
