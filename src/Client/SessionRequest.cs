using Streaming.Client.Protocol;

namespace Streaming.Client;

/// <summary>
/// A request about one session that the client may have to send more than once (after a StoreFailed): how to encode it
/// with a fresh sequence number, what waits for its answer, and what its retries have seen so far.
/// </summary>
internal sealed class SessionRequest
{
    public SessionRequest(string session, Func<ulong, Frame> create, PendingRequest target, bool retryable, long? at, CancellationToken cancellation)
    {
        Session = session;
        Create = create;
        Target = target;
        Retryable = retryable;
        At = at;
        Cancellation = cancellation;
        target.Request = this;
    }

    public string Session { get; }

    /// <summary>Encodes the request under a sequence number; called again for every send.</summary>
    public Func<ulong, Frame> Create { get; }

    /// <summary>What completes the caller's task; the same for every send.</summary>
    public PendingRequest Target { get; }

    /// <summary>Whether a StoreFailed is retried and the request may be held behind one (not a Generate, whose steps stream as they come).</summary>
    public bool Retryable { get; }

    /// <summary>For a Token sent with a position, that position: a resend the server refuses DuplicateToken with the original output is answered with it.</summary>
    public long? At { get; }

    /// <summary>The caller's token: it withdraws the request while the client holds it, and stops its retries.</summary>
    public CancellationToken Cancellation { get; }

    /// <summary>The sequence number of its latest send.</summary>
    public ulong Sequence { get; set; }

    /// <summary>How many times it was sent again after a StoreFailed.</summary>
    public int Resends { get; set; }

    /// <summary>The latest refusal that made it wait for a resend.</summary>
    public StreamingClientException? LastRefusal { get; set; }
}
