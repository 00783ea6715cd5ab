using System.Collections.Concurrent;
using Streaming.Client.Protocol;

namespace Streaming.Host.Server;

/// <summary>
/// One request of a connection, from the moment it is read until its reply is handed to the outbox. Created on the
/// connection stage's thread; the engine's task sets <see cref="Result"/> on any thread, and only the stage's async
/// callback, back on the stage's thread, makes it <see cref="Encoded"/>: the ledger writes a reply once it is encoded,
/// never merely because the engine has answered, so what it counts is always what the stage has seen.
/// </summary>
internal sealed class PendingReply
{
    private PendingReply(string session, ulong sequence, RequestKind? kind, bool opens)
    {
        Session = session;
        Sequence = sequence;
        Kind = kind;
        Opens = opens;
    }

    public string Session { get; }

    public ulong Sequence { get; }

    /// <summary>The request forwarded to the engine; null for a request the connection refused itself.</summary>
    public RequestKind? Kind { get; }

    /// <summary>Whether it counts against the connection's sessions while it runs (an Open, or a Restore of a session the connection does not hold).</summary>
    public bool Opens { get; }

    /// <summary>Whether it counts against the session's tokens in flight (tokens, replays and generations do).</summary>
    public bool CountsInFlight => Kind is RequestKind.Token or RequestKind.Replay or RequestKind.Generate;

    /// <summary>The request forwarded to the engine; null for a request the connection refused itself.</summary>
    public SessionFrame? Request { get; private init; }

    /// <summary>
    /// The bytes charged against the connection's pending bytes while the engine works on the request; a generation's
    /// charge shrinks by each batch of steps handed to the outbox (<see cref="ConnectionLedger.Streamed"/>).
    /// </summary>
    public long Charged { get; set; }

    /// <summary>
    /// A generation's steps delivered by the engine (on its thread) and not yet taken by the stage; null for every
    /// other request. They go out while the generation is the oldest request of its session, before its end.
    /// </summary>
    public ConcurrentQueue<Frame>? Steps { get; private init; }

    /// <summary>
    /// Every step of a recorded generation handed to the outbox so far, for the recorder (kept on the stage's thread only);
    /// null for every other request.
    /// </summary>
    public List<Frame>? Streamed { get; private init; }

    /// <summary>The reply, once the engine has answered (set on the engine's thread); null while pending.</summary>
    public Reply? Result { get; private set; }

    /// <summary>The reply's bytes, once the stage has encoded them on its own thread; null until then.</summary>
    public EncodedFrames? Encoded { get; set; }

    /// <summary>A request the connection refuses itself: answered and encoded already.</summary>
    public static PendingReply Refused(string session, ulong sequence, ErrorFrame error, EncodedFrames encoded) =>
        new(session, sequence, null, opens: false) { Result = Reply.Refused(error), Encoded = encoded };

    /// <summary>A request the engine is working on; <paramref name="ready"/> runs (on any thread) once <paramref name="work"/> completes.</summary>
    public static PendingReply Watch(SessionFrame request, RequestKind kind, bool opens, long charged, Task<Reply> work, Action<PendingReply> ready)
    {
        var pending = new PendingReply(request.Session, request.Sequence, kind, opens) { Request = request, Charged = charged };
        pending.Follow(work, ready);
        return pending;
    }

    /// <summary>A generation: its steps are queued into <see cref="Steps"/> before <see cref="Follow"/> is given its work; <paramref name="recorded"/> keeps them in <see cref="Streamed"/> too.</summary>
    public static PendingReply Streaming(GenerateFrame request, long charged, bool recorded) =>
        new(request.Session, request.Sequence, RequestKind.Generate, opens: false)
        {
            Request = request,
            Charged = charged,
            Steps = new ConcurrentQueue<Frame>(),
            Streamed = recorded ? [] : null,
        };

    /// <summary><paramref name="ready"/> runs (on any thread) once <paramref name="work"/> completes, with its reply set.</summary>
    public void Follow(Task<Reply> work, Action<PendingReply> ready)
    {
        work.ContinueWith(
            static (task, state) =>
            {
                var (self, callback) = ((PendingReply, Action<PendingReply>))state!;
                // The dispatcher's tasks never fault: every failure is already an Error frame.
                self.Result = task.Result;
                callback(self);
            },
            (this, ready),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
