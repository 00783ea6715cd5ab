namespace Streaming.Host.Recording;

/// <summary><c>{"session":"a","op":"close"}</c>: the session ends.</summary>
/// <param name="Line">The line it was read from (0 when built to be written).</param>
/// <param name="Session">The session id.</param>
public sealed record RecordedClose(int Line, string Session) : RecordedOperation(Line, Session)
{
    /// <inheritdoc/>
    public override string Op => "close";
}
