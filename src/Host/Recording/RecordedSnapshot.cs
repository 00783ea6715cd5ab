namespace Streaming.Host.Recording;

/// <summary><c>{"session":"a","op":"snapshot","expect_h":[[...]],"expect_c":[[...]]}</c>: takes a snapshot; the expectations are optional.</summary>
/// <param name="Line">The line it was read from (0 when built to be written).</param>
/// <param name="Session">The session id.</param>
/// <param name="ExpectH">The expected h, (num_layers * num_directions, output size), or null.</param>
/// <param name="ExpectC">The expected c (LSTM), (num_layers * num_directions, hidden_size), or null.</param>
public sealed record RecordedSnapshot(int Line, string Session, FloatMatrix? ExpectH = null, FloatMatrix? ExpectC = null) : RecordedOperation(Line, Session)
{
    /// <inheritdoc/>
    public override string Op => "snapshot";
}
