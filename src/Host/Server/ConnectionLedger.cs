using Streaming.Client.Protocol;

namespace Streaming.Host.Server;

/// <summary>
/// What one connection owes its client, without a socket or a stage: every request read, in each session's order, until
/// its reply goes to the outbox; the tokens each session has in flight; the sessions the connection holds or is opening;
/// and the pending count and bytes against <see cref="ServerOptions.MaxPendingPerConnection"/> and
/// <see cref="ServerOptions.MaxPendingBytesPerConnection"/>, which decide whether the connection reads on. A request is
/// pending from the moment it is read until its reply is written; a frame that answers no request (Welcome, Pong,
/// Status, a connection-level Error) holds bytes but no count. Used on the connection stage's thread only.
/// </summary>
internal sealed class ConnectionLedger
{
    private readonly Dictionary<string, Lane> _lanes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _owned = new(StringComparer.Ordinal);
    private readonly ProtocolLimits _limits;
    private readonly int _maxPending;
    private readonly long _maxPendingBytes;
    private readonly ServerCounters _counters;
    private int _opening;
    private bool _paused;

    public ConnectionLedger(ServerOptions options, ServerCounters counters)
    {
        _limits = options.Limits;
        _maxPending = options.MaxPendingPerConnection;
        _maxPendingBytes = options.MaxPendingBytesPerConnection;
        _counters = counters;
    }

    /// <summary>Requests read and not yet written, refusals included.</summary>
    public int Pending { get; private set; }

    /// <summary>Bytes the pending requests and the queued frames hold (see <see cref="PendingBytes"/> for the charge).</summary>
    public long PendingBytes { get; private set; }

    /// <summary>Sessions this connection opened and has not closed.</summary>
    public int SessionsOwned => _owned.Count;

    /// <summary>Whether <paramref name="request"/> counts against the connection's sessions while it runs.</summary>
    public bool Opens(SessionFrame request, RequestKind kind) =>
        kind is RequestKind.Open || (kind is RequestKind.Restore && !_owned.Contains(request.Session));

    /// <summary>The Error for a request over one of the connection's limits, or null when it may go to the engine.</summary>
    public ErrorFrame? Refusal(SessionFrame request, RequestKind kind)
    {
        var session = request.Session;
        if (kind is RequestKind.Token or RequestKind.Replay or RequestKind.Generate && _lanes.TryGetValue(session, out var lane) && lane.TokensInFlight >= _limits.MaxTokensInFlightPerSession)
        {
            return new ErrorFrame(session, request.Sequence, (ushort)ProtocolErrorCode.TooManyTokensInFlight,
                $"session '{session}' has {lane.TokensInFlight} Token/Replay frame(s) in flight; the limit is {_limits.MaxTokensInFlightPerSession}. Wait for replies before sending more.");
        }

        if (Opens(request, kind) && !_owned.Contains(session) && _owned.Count + _opening >= _limits.MaxSessionsPerConnection)
        {
            return new ErrorFrame(session, request.Sequence, (ushort)ProtocolErrorCode.TooManySessions,
                $"this connection has {_owned.Count + _opening} session(s) open or opening; the limit is {_limits.MaxSessionsPerConnection}. Close a session first, or use another connection.");
        }

        return null;
    }

    /// <summary>Counts a request read: behind its session's earlier requests, charged <see cref="PendingReply.Charged"/> bytes until answered.</summary>
    public void Track(PendingReply pending)
    {
        if (!_lanes.TryGetValue(pending.Session, out var lane))
        {
            lane = new Lane();
            _lanes[pending.Session] = lane;
        }

        lane.Replies.Enqueue(pending);
        if (pending.CountsInFlight)
        {
            lane.TokensInFlight++;
        }

        if (pending.Opens)
        {
            _opening++;
        }

        ChangePending(+1);
        ChangeBytes(pending.Charged + (pending.Encoded?.Length ?? 0));
    }

    /// <summary>
    /// Takes the engine's answer to <paramref name="pending"/>, encoded as <paramref name="encoded"/>: the charge becomes the
    /// reply's size, the session's tokens in flight and the connection's sessions follow, and the reply may now be taken.
    /// </summary>
    public void Answered(PendingReply pending, EncodedFrames encoded)
    {
        pending.Encoded = encoded;
        ChangeBytes(encoded.Length - pending.Charged);
        if (pending.Opens)
        {
            _opening--;
            if (pending.Result!.Succeeded)
            {
                _owned.Add(pending.Session);
            }
        }
        else if (pending.Kind == RequestKind.Close && pending.Result!.Succeeded)
        {
            _owned.Remove(pending.Session);
        }

        if (pending.CountsInFlight && _lanes.TryGetValue(pending.Session, out var lane))
        {
            lane.TokensInFlight--;
        }
    }

    /// <summary>
    /// A generation's steps, encoded as <paramref name="encoded"/>, go to the outbox before its end: their bytes move from
    /// the request's charge (which covered every step it may send) to the queued frames, so the total does not grow.
    /// </summary>
    public void Streamed(PendingReply generation, EncodedFrames encoded)
    {
        var covered = Math.Min(generation.Charged, encoded.Length);
        generation.Charged -= covered;
        ChangeBytes(encoded.Length - covered);
    }

    /// <summary>Whether <paramref name="pending"/> is its session's oldest request not yet handed to the outbox.</summary>
    public bool IsHead(PendingReply pending) =>
        _lanes.TryGetValue(pending.Session, out var lane) && lane.Replies.TryPeek(out var head) && ReferenceEquals(head, pending);

    /// <summary>The session's oldest request not yet handed to the outbox, if any.</summary>
    public PendingReply? Head(string session) =>
        _lanes.TryGetValue(session, out var lane) && lane.Replies.TryPeek(out var head) ? head : null;

    /// <summary>The session's encoded replies, oldest first, up to the first one still waiting; they leave the session's lane.</summary>
    public IReadOnlyList<PendingReply> TakeReady(string session)
    {
        if (!_lanes.TryGetValue(session, out var lane))
        {
            return [];
        }

        var ready = new List<PendingReply>();
        while (lane.Replies.TryPeek(out var head) && head.Encoded is not null)
        {
            ready.Add(lane.Replies.Dequeue());
        }

        if (lane.Replies.Count == 0)
        {
            _lanes.Remove(session);
        }

        return ready;
    }

    /// <summary>Counts the bytes of a queued frame that answers no request.</summary>
    public void Queued(EncodedFrames frames) => ChangeBytes(frames.Length);

    /// <summary>Releases what a written chunk held: <paramref name="replies"/> requests and <paramref name="bytes"/> bytes.</summary>
    public void Written(int replies, long bytes)
    {
        if (replies > 0)
        {
            ChangePending(-replies);
        }

        ChangeBytes(-bytes);
    }

    /// <summary>
    /// Whether the connection may read another frame: it holds fewer than the most pending requests and bytes. The first
    /// refusal after a read is counted as a pause (<see cref="ServerStatistics.ReadPauses"/>).
    /// </summary>
    public bool MayRead()
    {
        if (Pending >= _maxPending || PendingBytes >= _maxPendingBytes)
        {
            if (!_paused)
            {
                _paused = true;
                _counters.ReadPaused();
            }

            return false;
        }

        _paused = false;
        return true;
    }

    /// <summary>Gives back to the server's counters what this connection still holds, when it stops.</summary>
    public void Release()
    {
        _counters.PendingChanged(-Pending, 0);
        _counters.PendingBytesChanged(-PendingBytes, 0);
        Pending = 0;
        PendingBytes = 0;
    }

    private void ChangePending(int delta)
    {
        Pending += delta;
        _counters.PendingChanged(delta, Pending);
    }

    private void ChangeBytes(long delta)
    {
        PendingBytes += delta;
        _counters.PendingBytesChanged(delta, PendingBytes);
    }

    /// <summary>One session's requests on this connection, in the order they were read, with their replies as they come.</summary>
    private sealed class Lane
    {
        public Queue<PendingReply> Replies { get; } = new();

        public int TokensInFlight { get; set; }
    }
}
