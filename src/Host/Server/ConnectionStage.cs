using System.Diagnostics;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Stage;
using Microsoft.Extensions.Logging;
using Streaming.Client.Protocol;

namespace Streaming.Host.Server;

/// <summary>
/// One client connection, after framing and decoding: the handshake, then every session frame forwarded to
/// the engine at once (so each session's operations reach the engine in the order they were read), with the
/// replies written in each session's order as the engine answers. The stage keeps the handshake, the idle timer and
/// the closing; <see cref="ConnectionLedger"/> keeps the order of replies and the per-connection limits of
/// <see cref="ServerOptions"/>, and <see cref="ConnectionOutbox"/> encodes each frame once and batches the writes.
/// A framing violation sends an Error and closes only this connection.
/// <para>
/// <b>Emits when</b> reply or Error frames are queued and downstream pulls (queued frames are written together,
/// up to <see cref="ConnectionOutbox.ChunkBytes"/> per element). <b>Backpressures when</b> (does not pull) the connection holds
/// <see cref="ServerOptions.MaxPendingPerConnection"/> requests and replies, or
/// <see cref="ServerOptions.MaxPendingBytesPerConnection"/> bytes of them (<see cref="ConnectionLedger.MayRead"/>), or is closing.
/// <b>Completes when</b> upstream completed, failed or violated the framing (or the server drains), every
/// accepted request is answered and every queued frame has been handed downstream; the <see cref="SocketStage"/>
/// then closes the connection by its one rule. <b>Cancels when</b> it completes or downstream cancels. No supervision: nothing here throws on client input; a bug fails only this connection.
/// </para>
/// </summary>
internal sealed class ConnectionStage : GraphStage<FlowShape<Inbound, ByteString>>
{
    private readonly ConnectionContext _context;

    public ConnectionStage(ConnectionContext context)
    {
        _context = context;
        Shape = new FlowShape<Inbound, ByteString>(In, Out);
    }

    public Inlet<Inbound> In { get; } = new("ConnectionStage.in");

    public Outlet<ByteString> Out { get; } = new("ConnectionStage.out");

    public override FlowShape<Inbound, ByteString> Shape { get; }

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : TimerGraphStageLogic
    {
        private const string IdleTimer = "idle";
        private readonly ConnectionStage _stage;
        private readonly ConnectionContext _context;
        private readonly ProtocolLimits _limits;
        private readonly ConnectionLedger _ledger;
        private readonly ConnectionOutbox _outbox;
        private Action<PendingReply> _replyReady = _ => { };
        private Action<PendingReply> _stepsReady = _ => { };
        // The running generations of this connection by session and sequence: a CancelGeneration or the end of the connection stops them.
        private readonly Dictionary<(string Session, ulong Sequence), CancellationTokenSource> _generations = new();
        private CancellationTokenRegistration _drainRegistration;
        private bool _handshaken;
        private bool _closing;
        private Frame? _farewell;
        private long _lastFrameTicks;

        public Logic(ConnectionStage stage)
            : base(stage.Shape)
        {
            _stage = stage;
            _context = stage._context;
            _limits = _context.Options.Limits;
            _ledger = new ConnectionLedger(_context.Options, _context.Counters);
            _outbox = new ConnectionOutbox(_context.Codec, _context.Counters);
            SetHandler(stage.In, onPush: OnPush, onUpstreamFinish: OnUpstreamFinish, onUpstreamFailure: OnUpstreamFailure);
            SetHandler(stage.Out, onPull: () =>
            {
                TryWrite();
                TryFinish();
            }, onDownstreamFinish: _ => CompleteStage());
        }

        public override void PreStart()
        {
            _replyReady = GetAsyncCallback<PendingReply>(OnReplyReady);
            _stepsReady = GetAsyncCallback<PendingReply>(OnStepsReady);
            var drain = GetAsyncCallback(() => BeginClosing(new ErrorFrame("", 0, (ushort)EngineErrorCode.EngineStopped,
                "the server is shutting down: it has answered every request it read on this connection and closes it; open sessions are saved and resume when the server is back.")));

            // A connection accepted while the server drains is closed before its handshake, with the same Error.
            _drainRegistration = _context.Draining.Register(() => drain());
            _context.Probes?.ConnectionStarted?.Invoke(this);
            _context.Counters.ConnectionOpened();
            _context.Logger.ConnectionOpened(_context.Remote);
            _lastFrameTicks = Stopwatch.GetTimestamp();
            if (_limits.IdleTimeout > TimeSpan.Zero)
            {
                ScheduleOnce(IdleTimer, _limits.IdleTimeout);
            }

            Pull(_stage.In);
        }

        public override void PostStop()
        {
            _drainRegistration.Dispose();

            // The end of the connection stops its generations at their next step; the sessions keep what they consumed.
            foreach (var generation in _generations.Values)
            {
                generation.Cancel();
                generation.Dispose();
            }

            _generations.Clear();
            _ledger.Release();
            _context.Counters.ConnectionClosed();
            _context.Logger.ConnectionClosed(_context.Remote);
        }

        protected override void OnTimer(object timerKey)
        {
            var idle = Stopwatch.GetElapsedTime(_lastFrameTicks);
            if (_closing)
            {
                return;
            }

            // Idle means nothing from the client and nothing owed to it: a long computation never times a client out.
            if (idle >= _limits.IdleTimeout && _ledger.Pending == 0)
            {
                Violation(new ProtocolException(ProtocolErrorCode.IdleTimeout,
                    $"the connection sent nothing for {(long)idle.TotalMilliseconds} ms; the idle timeout is {(long)_limits.IdleTimeout.TotalMilliseconds} ms. Send a Ping to keep an idle connection open."));
                return;
            }

            var remaining = _limits.IdleTimeout - idle;
            ScheduleOnce(IdleTimer, remaining > TimeSpan.Zero ? remaining : _limits.IdleTimeout);
        }

        private void OnPush()
        {
            var inbound = Grab(_stage.In);
            if (_closing)
            {
                // A frame pulled before the closing began: the farewell (EngineStopped: "not applied") may be queued
                // already, so it must not reach the engine.
                return;
            }

            _context.Counters.FrameReceived();
            _lastFrameTicks = Stopwatch.GetTimestamp();
            if (inbound.Violation is { } violation)
            {
                OnViolation(violation);
            }
            else if (!_handshaken)
            {
                Handshake(inbound.Frame!);
            }
            else
            {
                OnFrame(inbound.Frame!);
            }

            PullIfRoom();
        }

        private void OnUpstreamFinish() => BeginClosing(null);

        private void OnUpstreamFailure(Exception error)
        {
            // The socket failed (reset, aborted): nothing more can be written.
            _context.Logger.ConnectionFailed(_context.Remote, error.Message);
            CompleteStage();
        }

        private void Handshake(Frame frame)
        {
            if (frame is not HelloFrame hello)
            {
                Violation(new ProtocolException(ProtocolErrorCode.BadHandshake,
                    $"the first frame is a {frame.Type} frame; a connection must start with a Hello (type 0x01, magic 'RNNP', version {FrameCodec.ProtocolVersion})."));
                return;
            }

            if (hello.Version != FrameCodec.ProtocolVersion)
            {
                Violation(new ProtocolException(ProtocolErrorCode.UnsupportedVersion,
                    $"the Hello asks for protocol version {hello.Version}; this server speaks version {FrameCodec.ProtocolVersion} only."));
                return;
            }

            _handshaken = true;
            var spec = _context.Sessions.Spec;
            Enqueue(new WelcomeFrame(
                FrameCodec.ProtocolVersion,
                _context.Sessions.Model.Name,
                spec.TakesTokenIds ? TokenKind.Ids : TokenKind.Vectors,
                spec.Embedding?.NumEmbeddings ?? spec.InputSize,
                spec.OutputSize,
                _limits));
        }

        private void OnViolation(ProtocolException violation)
        {
            if (!_handshaken)
            {
                // Before the handshake every problem is a bad handshake, whatever its kind: the peer may not speak this
                // protocol at all, and the message keeps what was wrong.
                Violation(new ProtocolException(ProtocolErrorCode.BadHandshake,
                    $"the first frame could not be read as a Hello ({violation.Code}): {violation.Message}"));
                return;
            }

            if (violation.ClosesConnection)
            {
                Violation(violation);
                return;
            }

            Refuse(violation.Session, violation.Sequence ?? 0, ErrorFrame.From(violation));
        }

        private void OnFrame(Frame frame)
        {
            switch (frame)
            {
                case PingFrame ping:
                    Enqueue(new PongFrame(ping.Nonce));
                    return;
                case PongFrame:
                    return;
                case StatusRequestFrame request:
                    Enqueue(Status(request));
                    return;
                case CancelGenerationFrame cancel:
                    if (_generations.TryGetValue((cancel.Session, cancel.Sequence), out var running))
                    {
                        running.Cancel();
                    }

                    return;
                case SessionFrame request when RequestDispatcher.KindOf(request) is { } kind:
                    OnRequest(request, kind);
                    return;
                case SessionFrame other:
                    Refuse(other.Session, other.Sequence, Unexpected(other.Session, other.Sequence, other.Type));
                    return;
                default:
                    Refuse(null, 0, Unexpected("", 0, frame.Type));
                    return;
            }
        }

        /// <summary>The answer to a StatusRequest: ready while the server runs, reads frames and its sessions serve (a cluster node has joined), not once it drains.</summary>
        private Frame Status(StatusRequestFrame request) =>
            (Frame?)ServerStatus.For(request.Nonce, ready: !_context.Draining.IsCancellationRequested && _context.Sessions.IsReady, _context.Sessions.Kernels, _context.Codec)
            ?? new ErrorFrame("", 0, (ushort)ProtocolErrorCode.InternalError,
                $"the Status answering nonce {request.Nonce} cannot be sent: even its chosen kernels take more than the maximum frame size of {_limits.MaxFrameBytes} bytes.");

        private static ErrorFrame Unexpected(string session, ulong sequence, FrameType type) =>
            new(session, sequence, (ushort)ProtocolErrorCode.UnexpectedFrame, type == FrameType.Hello
                ? "a second Hello: the handshake is done; the frame was ignored."
                : $"a {type} frame is sent by the server, never to it; the frame was ignored.");

        private void OnRequest(SessionFrame request, RequestKind kind)
        {
            if (_ledger.Refusal(request, kind) is { } refusal)
            {
                Refuse(request.Session, request.Sequence, refusal);
                return;
            }

            var charged = _context.Bytes.ChargeFor(request);
            if (request is GenerateFrame generate)
            {
                Generate(generate, charged);
                return;
            }

            _ledger.Track(PendingReply.Watch(request, kind, _ledger.Opens(request, kind), charged, _context.Dispatcher.Start(request), _replyReady));
        }

        /// <summary>A generation streams its steps: each one queued by the engine's thread, taken here while it heads its session.</summary>
        private void Generate(GenerateFrame request, long charged)
        {
            var pending = PendingReply.Streaming(request, charged, recorded: _context.Options.Recorder?.Records(request.Session) == true);
            var key = (request.Session, request.Sequence);
            var stop = new CancellationTokenSource();
            if (!_generations.TryAdd(key, stop))
            {
                // A second Generate of the same session and sequence would be cancelled by the same frame: refuse it.
                stop.Dispose();
                Refuse(request.Session, request.Sequence, new ErrorFrame(request.Session, request.Sequence, (ushort)EngineErrorCode.InvalidInput,
                    $"session '{request.Session}': a generation with sequence {request.Sequence} is running on this connection already; give each Generate its own sequence number so that a CancelGeneration names one."));
                return;
            }

            _ledger.Track(pending);
            pending.Follow(_context.Dispatcher.Generate(request, step =>
            {
                pending.Steps!.Enqueue(step);
                _stepsReady(pending);
            }, stop.Token), _replyReady);
        }

        private void OnStepsReady(PendingReply generation)
        {
            if (generation.Encoded is null && _ledger.IsHead(generation))
            {
                SendSteps(generation);
                TryWrite();
            }
        }

        /// <summary>The generation's steps queued so far go to the outbox, counted against its charge.</summary>
        private void SendSteps(PendingReply generation)
        {
            var steps = TakeSteps(generation);
            if (steps.Count == 0)
            {
                return;
            }

            var encoded = _outbox.Encode(steps);
            _ledger.Streamed(generation, encoded);
            _outbox.Enqueue(encoded, counted: false);
        }

        private static List<Frame> TakeSteps(PendingReply generation)
        {
            var steps = new List<Frame>();
            while (generation.Steps!.TryDequeue(out var step))
            {
                steps.Add(step);
            }

            generation.Streamed?.AddRange(steps);
            return steps;
        }

        /// <summary>An Error for a request the connection refuses itself; it still waits for the session's earlier replies.</summary>
        private void Refuse(string? session, ulong sequence, ErrorFrame error)
        {
            if (string.IsNullOrEmpty(session))
            {
                Enqueue(error);
                return;
            }

            _ledger.Track(PendingReply.Refused(session, sequence, error, _outbox.Encode([error])));
            Flush(session);
        }

        private void OnReplyReady(PendingReply pending)
        {
            IReadOnlyList<Frame> frames = pending.Result!.Frames;
            if (pending.Steps is not null)
            {
                if (_generations.Remove((pending.Session, pending.Sequence), out var stop))
                {
                    stop.Dispose();
                }

                // Every step was queued before the generation's task ended: they go before its end, now or behind the session's earlier replies.
                if (_ledger.IsHead(pending))
                {
                    SendSteps(pending);
                }
                else
                {
                    frames = [.. TakeSteps(pending), .. frames];
                }
            }

            _ledger.Answered(pending, _outbox.Encode(frames));
            Flush(pending.Session);
            PullIfRoom();
            TryFinish();
        }

        /// <summary>Moves the session's answered replies, from the oldest until one still pending, to the outbox.</summary>
        private void Flush(string session)
        {
            foreach (var ready in _ledger.TakeReady(session))
            {
                _outbox.Enqueue(ready.Encoded!, counted: true);

                // Recorded here, in the session's order, whatever order the engine's answers came in.
                if (ready.Request is { } request)
                {
                    IReadOnlyList<Frame> answer = ready.Streamed is { } steps ? [.. steps, .. ready.Result!.Frames] : ready.Result!.Frames;
                    _context.Options.Recorder?.Record(request, ready.Result.Succeeded, answer);
                }
            }

            // A generation that now heads its session sends the steps it has so far.
            if (_ledger.Head(session) is { Steps: not null, Encoded: null } generation)
            {
                SendSteps(generation);
            }

            TryWrite();
        }

        /// <summary>Queues a frame that answers no session request (Welcome, Pong, Status, a connection-level Error).</summary>
        private void Enqueue(Frame frame)
        {
            var encoded = _outbox.Encode([frame]);
            _ledger.Queued(encoded);
            _outbox.Enqueue(encoded, counted: false);
            TryWrite();
        }

        private void TryWrite()
        {
            if (_outbox.IsEmpty || !IsAvailable(_stage.Out))
            {
                return;
            }

            var (bytes, replies, length) = _outbox.TakeChunk();
            Push(_stage.Out, bytes);
            _ledger.Written(replies, length);
            PullIfRoom();
            TryFinish();
        }

        private void PullIfRoom()
        {
            if (_closing || IsClosed(_stage.In) || HasBeenPulled(_stage.In) || !_ledger.MayRead())
            {
                return;
            }

            Pull(_stage.In);
        }

        /// <summary>A violation that closes the connection: stop reading, finish what was accepted, send the Error last, close.</summary>
        private void Violation(ProtocolException violation)
        {
            _context.Logger.ConnectionViolation(_context.Remote, violation.Code, violation.Message);
            BeginClosing(ErrorFrame.From(violation));
        }

        private void BeginClosing(Frame? farewell)
        {
            if (_closing)
            {
                return;
            }

            _closing = true;
            _farewell = farewell;

            // A connection that closes answers what it read, but does not wait for its generations' own ends: they stop at their next step.
            foreach (var generation in _generations.Values)
            {
                generation.Cancel();
            }

            TryFinish();
        }

        private void TryFinish()
        {
            if (!_closing || _ledger.Pending > 0)
            {
                return;
            }

            if (_farewell is { } farewell)
            {
                _farewell = null;
                Enqueue(farewell);
            }

            if (!_outbox.IsEmpty)
            {
                return;
            }

            // The socket stage writes what it was given, sends its FIN and closes when the client closes its side or at
            // the close deadline; whatever else the client sends meanwhile is discarded there.
            CompleteStage();
        }
    }
}
