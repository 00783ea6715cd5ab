namespace Streaming.Client.Protocol;

/// <summary>
/// A frame about one session. Its sequence number is the client's, echoed in every reply and error
/// so they can be matched; clients number from 1 and the server never interprets it.
/// </summary>
public abstract record SessionFrame : Frame
{
    private protected SessionFrame(string session, ulong sequence)
    {
        Session = session;
        Sequence = sequence;
    }

    /// <summary>The session id: 1 to 128 bytes of UTF-8 (empty only in a connection-level Error).</summary>
    public string Session { get; init; }

    /// <summary>The client's sequence number of the request (or of the request a reply answers).</summary>
    public ulong Sequence { get; init; }
}
