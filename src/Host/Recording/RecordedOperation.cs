namespace Streaming.Host.Recording;

/// <summary>
/// One operation of a recording (a line after the header), applied in file order to its session.
/// A closed hierarchy: <see cref="RecordedOpen"/>, <see cref="RecordedToken"/>, <see cref="RecordedReplay"/>,
/// <see cref="RecordedSnapshot"/>, <see cref="RecordedReset"/>, <see cref="RecordedClose"/>, <see cref="RecordedGenerate"/>.
/// </summary>
public abstract record RecordedOperation
{
    private protected RecordedOperation(int line, string session)
    {
        Line = line;
        Session = session;
    }

    /// <summary>The 1-based line it was read from; 0 for an operation built to be written (the writer ignores it).</summary>
    public int Line { get; init; }

    /// <summary>The session id: 1 to 128 bytes of UTF-8.</summary>
    public string Session { get; init; }

    /// <summary>The operation must be refused with an error, and the session go on as if it had never been sent.</summary>
    public bool ExpectError { get; init; }

    /// <summary>The operation's name in the file: open, token, replay, snapshot, reset, close or generate.</summary>
    public abstract string Op { get; }
}
