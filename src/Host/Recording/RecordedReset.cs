namespace Streaming.Host.Recording;

/// <summary><c>{"session":"a","op":"reset"}</c>: the session's state goes back to zeros.</summary>
/// <param name="Line">The line it was read from (0 when built to be written).</param>
/// <param name="Session">The session id.</param>
public sealed record RecordedReset(int Line, string Session) : RecordedOperation(Line, Session)
{
    /// <inheritdoc/>
    public override string Op => "reset";
}
