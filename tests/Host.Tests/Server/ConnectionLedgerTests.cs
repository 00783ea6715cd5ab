using Streaming.Client.Protocol;
using Streaming.Host.Server;

namespace Host.Tests.Server;

/// <summary>
/// The connection's ledger alone, driven as the connection stage drives it but with the test deciding when the engine
/// answers and when the stage sees it: reply order, tokens in flight, sessions per connection, and the pending bounds.
/// </summary>
public sealed class ConnectionLedgerTests
{
    private readonly ServerCounters _counters = new();
    private ulong _sequence;

    private ConnectionLedger Ledger(int maxPending = 4096, int maxPendingBytes = 16 << 20, ProtocolLimits? limits = null) =>
        new(ServerOptions.Default with { MaxPendingPerConnection = maxPending, MaxPendingBytesPerConnection = maxPendingBytes, Limits = limits ?? ProtocolLimits.Default }, _counters);

    /// <summary>A request tracked as the stage tracks it, with the engine's answer held back until the test gives it.</summary>
    private (PendingReply Pending, TaskCompletionSource<Reply> Engine) Read(ConnectionLedger ledger, SessionFrame request, RequestKind kind, long charged = 100)
    {
        Assert.Null(ledger.Refusal(request, kind));
        var engine = new TaskCompletionSource<Reply>();
        var pending = PendingReply.Watch(request, kind, ledger.Opens(request, kind), charged, engine.Task, _ => { });
        ledger.Track(pending);
        return (pending, engine);
    }

    private (PendingReply Pending, TaskCompletionSource<Reply> Engine) Token(ConnectionLedger ledger, string session) =>
        Read(ledger, TokenFrame.OfVector(session, ++_sequence, new[] { 0.5f }), RequestKind.Token);

    private static void Answer(ConnectionLedger ledger, (PendingReply Pending, TaskCompletionSource<Reply> Engine) request, bool succeeded = true, int bytes = 40)
    {
        var frame = request.Pending.Request!;
        request.Engine.SetResult(succeeded
            ? new Reply(true, [new AckFrame(frame.Session, frame.Sequence, frame.Type)])
            : Reply.Refused(new ErrorFrame(frame.Session, frame.Sequence, 2, "refused")));
        ledger.Answered(request.Pending, new EncodedFrames(new byte[bytes], 1, []));
    }

    private static void WriteAll(ConnectionLedger ledger, IReadOnlyList<PendingReply> replies) =>
        ledger.Written(replies.Count, replies.Sum(r => r.Encoded!.Length));

    [Fact]
    public void Each_sessions_replies_are_taken_in_the_order_its_requests_were_read_whatever_order_the_engine_answers_in()
    {
        var ledger = Ledger();
        var a1 = Token(ledger, "a");
        var a2 = Token(ledger, "a");
        var b1 = Token(ledger, "b");

        Answer(ledger, a2);
        Answer(ledger, b1);
        Assert.Empty(ledger.TakeReady("a"));
        Assert.Equal([b1.Pending], ledger.TakeReady("b"));

        Answer(ledger, a1);
        Assert.Equal([a1.Pending, a2.Pending], ledger.TakeReady("a"));
        Assert.Empty(ledger.TakeReady("a"));
    }

    [Fact]
    public void A_reply_the_engine_has_answered_waits_until_the_stage_has_encoded_it_so_its_bytes_are_counted_once()
    {
        var ledger = Ledger();
        var first = Token(ledger, "a");
        var second = Token(ledger, "a");

        // The engine answers the second on its own thread; the stage's callback for it has not run yet.
        second.Engine.SetResult(new Reply(true, [new OutputFrame("a", second.Pending.Sequence, 2, new[] { 1f })]));
        Answer(ledger, first, bytes: 30);
        var taken = ledger.TakeReady("a");
        Assert.Equal([first.Pending], taken);
        WriteAll(ledger, taken);
        Assert.Equal(1, ledger.Pending);
        Assert.Equal(100, ledger.PendingBytes);

        ledger.Answered(second.Pending, new EncodedFrames(new byte[50], 1, []));
        taken = ledger.TakeReady("a");
        Assert.Equal([second.Pending], taken);
        WriteAll(ledger, taken);
        Assert.Equal(0, ledger.Pending);
        Assert.Equal(0, ledger.PendingBytes);
        Assert.Equal(0, _counters.Read().PendingBytes);
    }

    [Fact]
    public void A_request_is_charged_its_charge_until_answered_then_its_reply_until_written()
    {
        var ledger = Ledger();
        var token = Read(ledger, TokenFrame.OfVector("a", 1, new[] { 0.5f }), RequestKind.Token, charged: 700);
        Assert.Equal((1, 700L), (ledger.Pending, ledger.PendingBytes));

        Answer(ledger, token, bytes: 64);
        Assert.Equal((1, 64L), (ledger.Pending, ledger.PendingBytes));

        var welcome = new EncodedFrames(new byte[10], 1, []);
        ledger.Queued(welcome);
        Assert.Equal((1, 74L), (ledger.Pending, ledger.PendingBytes));

        WriteAll(ledger, ledger.TakeReady("a"));
        ledger.Written(0, welcome.Length);
        Assert.Equal((0, 0L), (ledger.Pending, ledger.PendingBytes));
        Assert.Equal(700, _counters.Read().PeakPendingBytesPerConnection);
    }

    [Fact]
    public void The_connection_stops_reading_at_the_most_pending_requests_and_counts_each_stop_once()
    {
        var ledger = Ledger(maxPending: 2);
        var first = Token(ledger, "a");
        Assert.True(ledger.MayRead());
        Token(ledger, "b");
        Assert.False(ledger.MayRead());
        Assert.False(ledger.MayRead());
        Assert.Equal(1, _counters.Read().ReadPauses);

        Answer(ledger, first);
        Assert.False(ledger.MayRead());
        WriteAll(ledger, ledger.TakeReady("a"));
        Assert.True(ledger.MayRead());

        Token(ledger, "c");
        Assert.False(ledger.MayRead());
        Assert.Equal(2, _counters.Read().ReadPauses);
        Assert.Equal(2, _counters.Read().PeakPendingPerConnection);
    }

    [Fact]
    public void The_connection_stops_reading_at_the_most_pending_bytes()
    {
        var ledger = Ledger(maxPendingBytes: 250);
        var first = Read(ledger, TokenFrame.OfVector("a", 1, new[] { 0.5f }), RequestKind.Token, charged: 200);
        Assert.True(ledger.MayRead());
        Read(ledger, TokenFrame.OfVector("b", 2, new[] { 0.5f }), RequestKind.Token, charged: 60);
        Assert.False(ledger.MayRead());

        // Answered, the first holds its reply's 40 bytes instead of its 200: room again, before anything is written.
        Answer(ledger, first, bytes: 40);
        Assert.True(ledger.MayRead());
        Assert.Equal(1, _counters.Read().ReadPauses);
    }

    [Fact]
    public void A_session_at_its_tokens_in_flight_limit_is_refused_TooManyTokensInFlight_until_one_is_answered()
    {
        var ledger = Ledger(limits: ProtocolLimits.Default with { MaxTokensInFlightPerSession = 2 });
        var first = Token(ledger, "a");
        Token(ledger, "a");
        var third = TokenFrame.OfVector("a", 99, new[] { 0.5f });
        var refusal = ledger.Refusal(third, RequestKind.Token);
        Assert.Equal((ushort)ProtocolErrorCode.TooManyTokensInFlight, refusal?.Code);
        Assert.Equal(("a", 99UL), (refusal!.Session, refusal.Sequence));
        Assert.Contains("limit is 2", refusal.Message, StringComparison.Ordinal);
        Assert.Null(ledger.Refusal(TokenFrame.OfVector("b", 100, new[] { 0.5f }), RequestKind.Token));
        Assert.Null(ledger.Refusal(new SnapshotRequestFrame("a", 101), RequestKind.Snapshot));

        Answer(ledger, first);
        Assert.Null(ledger.Refusal(third, RequestKind.Token));
    }

    [Fact]
    public void Sessions_opening_and_open_count_against_the_connection_until_closed_and_a_failed_open_frees_its_place()
    {
        var ledger = Ledger(limits: ProtocolLimits.Default with { MaxSessionsPerConnection = 2 });
        var openA = Read(ledger, new OpenFrame("a", 1), RequestKind.Open);
        var openB = Read(ledger, new OpenFrame("b", 2), RequestKind.Open);
        Assert.Equal((ushort)ProtocolErrorCode.TooManySessions, ledger.Refusal(new OpenFrame("c", 3), RequestKind.Open)?.Code);
        Assert.Equal((ushort)ProtocolErrorCode.TooManySessions, ledger.Refusal(new RestoreFrame("c", 3, new byte[8]), RequestKind.Restore)?.Code);

        Answer(ledger, openA);
        Answer(ledger, openB, succeeded: false);
        Assert.Equal(1, ledger.SessionsOwned);
        Assert.False(ledger.Opens(new RestoreFrame("a", 4, new byte[8]), RequestKind.Restore));
        var openC = Read(ledger, new OpenFrame("c", 5), RequestKind.Open);
        Assert.Equal((ushort)ProtocolErrorCode.TooManySessions, ledger.Refusal(new OpenFrame("d", 6), RequestKind.Open)?.Code);

        Answer(ledger, openC);
        Answer(ledger, Read(ledger, new CloseFrame("a", 7), RequestKind.Close));
        Assert.Equal(1, ledger.SessionsOwned);
        Assert.Null(ledger.Refusal(new OpenFrame("d", 8), RequestKind.Open));
    }

    [Fact]
    public void A_refusal_by_the_connection_waits_behind_its_sessions_earlier_replies()
    {
        var ledger = Ledger();
        var token = Token(ledger, "a");
        var error = new ErrorFrame("a", 50, (ushort)ProtocolErrorCode.TooManyTokensInFlight, "too many");
        var refusal = PendingReply.Refused("a", 50, error, new EncodedFrames(new byte[20], 1, [error.Code]));
        ledger.Track(refusal);
        Assert.Empty(ledger.TakeReady("a"));
        Assert.Equal((2, 120L), (ledger.Pending, ledger.PendingBytes));

        Answer(ledger, token);
        Assert.Equal([token.Pending, refusal], ledger.TakeReady("a"));
    }

    [Fact]
    public void Releasing_gives_back_to_the_server_what_a_stopped_connection_held()
    {
        var ledger = Ledger();
        Token(ledger, "a");
        Token(ledger, "b");
        Assert.Equal((2, 200L), (_counters.Read().Pending, _counters.Read().PendingBytes));

        ledger.Release();
        Assert.Equal((0, 0L), (_counters.Read().Pending, _counters.Read().PendingBytes));
    }
}
