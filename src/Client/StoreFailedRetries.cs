using System.Diagnostics;
using Streaming.Client.Protocol;

namespace Streaming.Client;

/// <summary>
/// Retries a connection's requests refused StoreFailed, per session and in the session's order (docs/protocol.md,
/// "Retrying StoreFailed"). A session's first StoreFailed starts its <see cref="SessionRetry"/>: the refused request waits,
/// so do the session's later requests refused StoreFailed (or PositionAhead, the consequence for a token with a position),
/// and the caller's new requests for the session are held. After the back-off, and once nothing of the session is still
/// unanswered, the first waiting request goes out alone (the probe). Refused again, it waits again, longer, until the
/// session has gone <see cref="StoreFailedRetry.GiveUpAfter"/> without progress; answered, everything waiting and held is
/// sent, in order. No request is resent after a later request of its session was applied: resending it then would apply
/// it out of order, so it fails with its StoreFailed instead. Other sessions are never held.
/// </summary>
/// <remarks>
/// Everything happens under one lock, taken only while some session retries (<see cref="Submit"/> sends at once, without
/// it, otherwise). Sends happen under the lock, so a session's requests reach the wire in the order decided here.
/// </remarks>
internal sealed class StoreFailedRetries
{
    private readonly StoreFailedRetry _policy;
    private readonly Func<SessionRequest, byte[]?, bool> _transmit;
    private readonly Func<string, IReadOnlyList<SessionRequest>> _unanswered;
    private readonly CancellationToken _stop;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SessionRetry> _sessions = new(StringComparer.Ordinal);
    private volatile int _retrying;
    private long _resends;
    private long _giveUps;
    private long _notResent;
    private StreamingClientException? _closed;

    /// <param name="policy">The back-off and the deadline.</param>
    /// <param name="transmit">Sends a request: with its encoded bytes for its first send, or null to encode it under a fresh sequence number; false when it failed (the connection is gone).</param>
    /// <param name="unanswered">The session's requests on the wire, answered by nothing yet.</param>
    /// <param name="stop">Cancelled when the connection ends: the back-off timers stop.</param>
    public StoreFailedRetries(StoreFailedRetry policy, Func<SessionRequest, byte[]?, bool> transmit, Func<string, IReadOnlyList<SessionRequest>> unanswered, CancellationToken stop)
    {
        _policy = policy;
        _transmit = transmit;
        _unanswered = unanswered;
        _stop = stop;
    }

    public StreamingClientStatistics Read() =>
        new(Interlocked.Read(ref _resends), Interlocked.Read(ref _giveUps), Interlocked.Read(ref _notResent), _retrying);

    /// <summary>The caller's request, encoded as <paramref name="encoded"/>: sent now, or held behind its session's waiting requests.</summary>
    public void Submit(SessionRequest request, byte[] encoded)
    {
        if (_retrying == 0)
        {
            // The usual case: no session retries, nothing to hold or track. A StoreFailed starting a retry at this moment
            // counts this request among the session's unanswered ones, once it is registered (see Start).
            _transmit(request, encoded);
            return;
        }

        lock (_gate)
        {
            if (!_sessions.TryGetValue(request.Session, out var retry))
            {
                _transmit(request, encoded);
            }
            else if (retry.Holding && request.Retryable)
            {
                retry.Held.AddLast(request);
            }
            else if (_transmit(request, encoded))
            {
                retry.OnTheWire.Add(request);
            }
        }
    }

    /// <summary>
    /// The server refused <paramref name="request"/> with <paramref name="error"/>: true when the request now waits for a
    /// resend; false when the refusal is its answer (the caller fails it, then calls <see cref="Answered"/>).
    /// </summary>
    public bool Refused(SessionRequest request, ErrorFrame error, StreamingClientException refusal)
    {
        if (!request.Retryable || request.Cancellation.IsCancellationRequested)
        {
            return false;
        }

        lock (_gate)
        {
            if (_closed is not null)
            {
                return false;
            }

            _sessions.TryGetValue(request.Session, out var retry);
            var storeFailed = error.Code == (ushort)SessionErrorCode.StoreFailed;
            // A token with a position refused PositionAhead behind a waiting one is most likely missing only that one.
            var behind = error.Code == (ushort)SessionErrorCode.PositionAhead && request.At is not null && retry is { Holding: true } && retry.Probe != request;
            if (!storeFailed && !behind)
            {
                return false;
            }

            retry ??= Start(request.Session);
            request.LastRefusal = refusal;
            if (retry.Probe == request)
            {
                retry.Probe = null;
                retry.Waiting.AddFirst(request);
                retry.Attempts++;
                Wait(retry);
            }
            else
            {
                var starting = !retry.Holding;
                retry.OnTheWire.Remove(request);
                retry.Waiting.AddLast(request);
                if (starting)
                {
                    retry.Attempts = 0;
                    retry.WaitingSince = Stopwatch.GetTimestamp();
                    Wait(retry);
                }

                // The back-off may have elapsed while this one was still unanswered.
                TryProbe(retry);
            }

            Settle(retry);
            return true;
        }
    }

    /// <summary><paramref name="request"/> has its final answer; <paramref name="applied"/>: it changed its session (a reply, not a refusal).</summary>
    public void Answered(SessionRequest request, bool applied)
    {
        if (_retrying == 0)
        {
            return;
        }

        lock (_gate)
        {
            if (!_sessions.TryGetValue(request.Session, out var retry))
            {
                return;
            }

            if (retry.Probe == request)
            {
                // The store answered: the session progresses, and everything it waited with goes out in order.
                retry.Probe = null;
                retry.Attempts = 0;
                SendAll(retry);
            }
            else
            {
                retry.OnTheWire.Remove(request);
                if (applied && retry.Waiting.Count > 0)
                {
                    // Applied after the waiting ones were refused: resending them now would apply them after it.
                    NotResent(retry, request);
                }

                TryProbe(retry);
            }

            Settle(retry);
        }
    }

    /// <summary>The caller cancelled <paramref name="request"/>: withdrawn when the client holds it; one on the wire keeps its answer.</summary>
    public void Cancelled(SessionRequest request)
    {
        lock (_gate)
        {
            if (!_sessions.TryGetValue(request.Session, out var retry) || !(retry.Waiting.Remove(request) || retry.Held.Remove(request)))
            {
                return;
            }

            request.Target.Cancel(request.Cancellation);
            if (!retry.Holding)
            {
                SendAll(retry);
            }

            TryProbe(retry);
            Settle(retry);
        }
    }

    /// <summary>The connection is gone: every request waiting or held fails with <paramref name="reason"/>.</summary>
    public void Close(StreamingClientException reason)
    {
        lock (_gate)
        {
            _closed ??= reason;
            foreach (var retry in _sessions.Values)
            {
                foreach (var request in retry.Waiting.Concat(retry.Held))
                {
                    request.Target.Fail(reason);
                }
            }

            _sessions.Clear();
            _retrying = 0;
        }
    }

    // Under the lock: a session's first StoreFailed. What of it is on the wire already must be answered before a resend.
    private SessionRetry Start(string session)
    {
        var retry = new SessionRetry(session);
        foreach (var request in _unanswered(session))
        {
            retry.OnTheWire.Add(request);
        }

        _sessions.Add(session, retry);
        _retrying = _sessions.Count;
        return retry;
    }

    // Under the lock: back off before the next resend, or give up once the next one would come after the deadline.
    private void Wait(SessionRetry retry)
    {
        var delay = _policy.Delay(retry.Attempts + 1, Random.Shared.NextDouble());
        if (Stopwatch.GetElapsedTime(retry.WaitingSince) + delay > _policy.GiveUpAfter)
        {
            GiveUp(retry);
            return;
        }

        if (retry.TimerSet)
        {
            return;
        }

        retry.TimerSet = true;
        retry.Due = false;
        _ = Task.Delay(delay, _stop).ContinueWith(_ => Elapsed(retry), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    private void Elapsed(SessionRetry retry)
    {
        lock (_gate)
        {
            if (!_sessions.TryGetValue(retry.Session, out var current) || current != retry)
            {
                return;
            }

            retry.TimerSet = false;
            retry.Due = true;
            TryProbe(retry);
            Settle(retry);
        }
    }

    // Under the lock: the first waiting request goes out alone, once the back-off elapsed and nothing of the session is unanswered.
    private void TryProbe(SessionRetry retry)
    {
        if (!retry.Due || retry.Probe is not null || retry.OnTheWire.Count > 0)
        {
            return;
        }

        retry.Due = false;
        if (retry.Waiting.First is not { } first)
        {
            SendAll(retry);
            return;
        }

        retry.Waiting.RemoveFirst();
        retry.Probe = first.Value;
        first.Value.Resends++;
        Interlocked.Increment(ref _resends);
        if (!_transmit(first.Value, null))
        {
            retry.Probe = null;
        }
    }

    // Under the lock: the waiting requests, then the held ones, go out in order.
    private void SendAll(SessionRetry retry)
    {
        foreach (var request in retry.Waiting)
        {
            request.Resends++;
            Interlocked.Increment(ref _resends);
            if (_transmit(request, null))
            {
                retry.OnTheWire.Add(request);
            }
        }

        foreach (var request in retry.Held)
        {
            if (_transmit(request, null))
            {
                retry.OnTheWire.Add(request);
            }
        }

        retry.Waiting.Clear();
        retry.Held.Clear();
        retry.Due = false;
    }

    private void GiveUp(SessionRetry retry)
    {
        var seconds = Stopwatch.GetElapsedTime(retry.WaitingSince).TotalSeconds;
        var last = retry.Waiting.First?.Value.LastRefusal;
        // Counted first: a caller that sees its call fail sees it counted.
        Interlocked.Add(ref _giveUps, retry.Waiting.Count + retry.Held.Count);
        foreach (var request in retry.Waiting)
        {
            var refusal = request.LastRefusal!;
            request.Target.Fail(Derived(refusal, request,
                $"{refusal.Message} (the client sent it {request.Resends + 1} time(s) over {seconds:0.0} s and gave up: StoreFailedRetry.GiveUpAfter is {_policy.GiveUpAfter.TotalSeconds:0.###} s)"));
        }

        foreach (var request in retry.Held)
        {
            request.Target.Fail(Derived(last!, request,
                $"session '{retry.Session}': not sent: the client gave up retrying the session's earlier request(s) refused StoreFailed after {seconds:0.0} s; the last refusal: {last!.Message}"));
        }

        retry.Waiting.Clear();
        retry.Held.Clear();
        retry.Due = false;
    }

    private void NotResent(SessionRetry retry, SessionRequest applied)
    {
        Interlocked.Add(ref _notResent, retry.Waiting.Count);
        foreach (var request in retry.Waiting)
        {
            var refusal = request.LastRefusal!;
            request.Target.Fail(Derived(refusal, request,
                $"{refusal.Message} (not sent again: a later request of session '{retry.Session}', sequence {applied.Sequence}, was applied before the store answered again, and resending this one would apply it out of order)"));
        }

        retry.Waiting.Clear();
        if (retry.Probe is null)
        {
            SendAll(retry);
        }
    }

    // Under the lock: a session with nothing waiting, held or unanswered stops being tracked.
    private void Settle(SessionRetry retry)
    {
        if (retry.Finished && !retry.TimerSet)
        {
            _sessions.Remove(retry.Session);
            _retrying = _sessions.Count;
        }
    }

    private static StreamingClientException Derived(StreamingClientException refusal, SessionRequest request, string message) =>
        new(refusal.Code, message, refusal.Session ?? request.Session) { Position = refusal.Position, Output = refusal.Output, Retries = request.Resends };
}
