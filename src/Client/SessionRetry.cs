namespace Streaming.Client;

/// <summary>
/// One session's retry after a StoreFailed, as <see cref="StoreFailedRetries"/> keeps it: the refused requests waiting for
/// a resend in the session's order, the caller's later requests held behind them, and what of the session is on the wire.
/// It exists from the session's first StoreFailed until nothing of it is waiting, held or unanswered.
/// </summary>
internal sealed class SessionRetry(string session)
{
    public string Session { get; } = session;

    /// <summary>Requests refused StoreFailed (or PositionAhead behind one), in the session's order, to be sent again.</summary>
    public LinkedList<SessionRequest> Waiting { get; } = new();

    /// <summary>Requests the caller made while the session waits: sent, in order, once the session has progressed.</summary>
    public LinkedList<SessionRequest> Held { get; } = new();

    /// <summary>The session's requests sent and not answered yet, other than the probe: a resend waits until they are answered, so it cannot overtake one.</summary>
    public HashSet<SessionRequest> OnTheWire { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>The first waiting request, sent again alone to see whether the store answers; null when none is out.</summary>
    public SessionRequest? Probe { get; set; }

    /// <summary>A back-off timer runs.</summary>
    public bool TimerSet { get; set; }

    /// <summary>The back-off has elapsed: the probe goes out as soon as nothing of the session is on the wire.</summary>
    public bool Due { get; set; }

    /// <summary>Resends since the session last progressed.</summary>
    public int Attempts { get; set; }

    /// <summary>When the session began to wait, without progress since (<see cref="System.Diagnostics.Stopwatch"/> ticks).</summary>
    public long WaitingSince { get; set; }

    /// <summary>Whether the session waits: refused requests are waiting or one is being tried. The caller's new requests are then held.</summary>
    public bool Holding => Waiting.Count > 0 || Probe is not null;

    /// <summary>Whether nothing is left to do for the session.</summary>
    public bool Finished => !Holding && Held.Count == 0 && OnTheWire.Count == 0;
}
