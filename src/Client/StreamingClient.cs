using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Streaming.Client.Protocol;

namespace Streaming.Client;

/// <summary>
/// A connection to a streaming server (docs/protocol.md), carrying any number of sessions. Every method sends one
/// request and returns a task for its reply; requests go out in the order the methods are called, so calls for one
/// session made one after another (awaited or not) apply in that order. A refused request fails its task with a
/// <see cref="StreamingClientException"/> carrying the server's error code; the session goes on as if it had not
/// been sent. Thread-safe. A session may have at most <c>Welcome.Limits.MaxTokensInFlightPerSession</c> tokens and
/// replays unanswered; the server refuses more with <see cref="ProtocolErrorCode.TooManyTokensInFlight"/>.
/// <para>
/// A request refused <see cref="SessionErrorCode.StoreFailed"/> (the server's store could not load, save or delete the
/// session) is sent again, by default, with back-off, in its session's order, until the server answers it otherwise or
/// <see cref="StoreFailedRetry.GiveUpAfter"/> passes (<see cref="StreamingClientOptions.StoreFailedRetry"/>; docs/protocol.md,
/// "Retrying StoreFailed"). Meanwhile the session's new requests wait in the client behind the refused ones; other
/// sessions go on. Each session method's <see cref="CancellationToken"/> withdraws a request the client still holds
/// (waiting for a resend, or held behind one): its task is then cancelled, and it was not applied. A request on the wire
/// cannot be withdrawn: it keeps its answer, and a StoreFailed answer is then not retried.
/// </para>
/// </summary>
public sealed partial class StreamingClient : IAsyncDisposable
{
    private const int BufferBytes = 64 * 1024;
    private readonly TcpClient _tcp;
    private readonly Socket _socket;
    private readonly Stream _input;
    private readonly Stream _output;
    private readonly FrameCodec _codec;
    private readonly Channel<byte[]> _outgoing = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<ulong, PendingRequest> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private readonly Task _writer;
    private readonly StoreFailedRetries? _retries;
    private StreamingClientException? _closed;
    private long _sequence;

    private StreamingClient(TcpClient tcp, Stream input, Stream output, WelcomeFrame welcome, StreamingClientOptions options)
    {
        _tcp = tcp;
        _socket = tcp.Client;
        _input = input;
        _output = output;
        Welcome = welcome;
        Options = options;
        _codec = new FrameCodec(welcome.Limits);
        _retries = options.StoreFailedRetry is { } retry ? new StoreFailedRetries(retry, Transmit, Unanswered, _stop.Token) : null;
        _reader = Task.Run(ReadLoopAsync);
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>The server's Welcome: its model, token kind, input and output sizes, and the limits it enforces.</summary>
    public WelcomeFrame Welcome { get; }

    /// <summary>Completes when the connection has ended (closed by either side, or failed).</summary>
    public Task Completion => _reader;

    /// <summary>The options it was connected with.</summary>
    public StreamingClientOptions Options { get; }

    /// <summary>What it did about requests refused StoreFailed: resends, give-ups, and the sessions retrying now.</summary>
    public StreamingClientStatistics Statistics => _retries?.Read() ?? new StreamingClientStatistics(0, 0, 0, 0);

    /// <summary>Connects to the server at <paramref name="host"/>:<paramref name="port"/> and does the handshake, with <see cref="StreamingClientOptions.Default"/>.</summary>
    /// <exception cref="StreamingClientException">The server refused the handshake (its code says why) or closed the connection.</exception>
    /// <exception cref="SocketException">The connection could not be made.</exception>
    public static Task<StreamingClient> ConnectAsync(string host, int port, CancellationToken cancellationToken = default) =>
        ConnectAsync(host, port, StreamingClientOptions.Default, cancellationToken);

    /// <summary>Connects to the server at <paramref name="host"/>:<paramref name="port"/> and does the handshake.</summary>
    /// <param name="host">The server's address or name.</param>
    /// <param name="port">The server's TCP port.</param>
    /// <param name="options">How the client retries StoreFailed (see <see cref="StreamingClientOptions"/>).</param>
    /// <param name="cancellationToken">Cancels the connection and handshake.</param>
    /// <exception cref="StreamingClientException">The server refused the handshake (its code says why) or closed the connection.</exception>
    /// <exception cref="SocketException">The connection could not be made.</exception>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static async Task<StreamingClient> ConnectAsync(string host, int port, StreamingClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            var stream = tcp.GetStream();
            var input = new BufferedStream(stream, BufferBytes);
            var handshake = new FrameCodec();
            await stream.WriteAsync(handshake.Encode(HelloFrame.Current), cancellationToken).ConfigureAwait(false);
            var first = await ReadFrameAsync(input, handshake, cancellationToken).ConfigureAwait(false);
            return first switch
            {
                WelcomeFrame welcome => new StreamingClient(tcp, input, new BufferedStream(stream, BufferBytes), welcome, options),
                ErrorFrame error => throw StreamingClientException.From(error, connectionLost: true),
                null => throw new StreamingClientException(0, $"the server at {host}:{port} closed the connection during the handshake.", connectionLost: true),
                _ => throw new StreamingClientException(0, $"the server at {host}:{port} answered the Hello with a {first.Type} frame; expected Welcome.", connectionLost: true),
            };
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Opens a session, from <paramref name="initialState"/> (h0/c0 without the batch axis) or zeros.</summary>
    /// <param name="session">The session id: 1 to 128 bytes of UTF-8.</param>
    /// <param name="initialState">The starting state (default null: zeros).</param>
    /// <param name="model">The model to serve it with (default empty: the server's model).</param>
    /// <param name="cancellationToken">Withdraws the request while the client holds it (see the class's remarks).</param>
    public Task OpenAsync(string session, StartState? initialState = null, string model = "", CancellationToken cancellationToken = default)
    {
        var pending = Acknowledged(session, FrameType.Open);
        return SendSession(session, seq => new OpenFrame(session, seq, model, initialState?.H0 ?? default, initialState?.C0 ?? default), pending, pending.Task, null, cancellationToken);
    }

    /// <summary>
    /// Sends one token and returns the model's output for it (its position counts the tokens consumed, this one included).
    /// </summary>
    /// <param name="session">The session id.</param>
    /// <param name="token">The token; its <see cref="TokenInput.At"/>, when set, is sent as the token's position.</param>
    /// <param name="position">
    /// The token's zero-based index in the session's stream (default null: <paramref name="token"/>'s
    /// <see cref="TokenInput.At"/>, and with neither the token is applied wherever the session is). With a position the
    /// server applies the token only there: a token it applied already fails with
    /// <see cref="SessionErrorCode.DuplicateToken"/>, one beyond the session's position with
    /// <see cref="SessionErrorCode.PositionAhead"/>; <see cref="StreamingClientException.Position"/> then says the
    /// session's position (resend from there after PositionAhead). See docs/protocol.md, "Resending after a failure".
    /// When the client resends a token with a position after a StoreFailed and the server answers that it had applied it
    /// already, with the output it gave then, that output is this call's reply.
    /// </param>
    /// <param name="cancellationToken">Withdraws the request while the client holds it (see the class's remarks).</param>
    /// <exception cref="ArgumentException">The position is negative, or differs from the token's <see cref="TokenInput.At"/>.</exception>
    public Task<TokenReply> PushAsync(string session, TokenInput token, long? position = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (position is { } p && token.At is { } at && p != at)
        {
            throw new ArgumentException($"the position is {p} but the token's At is {at}; give one of them, or the same value.", nameof(position));
        }

        var where = position ?? token.At;
        if (where < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(position), where, "a token's position is its zero-based index in the session's stream; expected 0 or more.");
        }

        var pending = PendingRequest.Of(frame => frame is OutputFrame output ? new TokenReply(session, output.Position + 1, output.Output) : null);
        return SendSession(session,
            seq => token.IsId ? TokenFrame.OfId(session, seq, token.TokenId, where) : TokenFrame.OfVector(session, seq, token.Values, where),
            pending, pending.Task, where, cancellationToken);
    }

    /// <summary>The session's state after exactly the requests sent before this one.</summary>
    /// <remarks>A reply whose bytes hold no snapshot fails the task with <see cref="SessionErrorCode.MalformedSnapshot"/>.</remarks>
    public Task<Snapshot> SnapshotAsync(string session, CancellationToken cancellationToken = default)
    {
        var pending = PendingRequest.Of(frame => frame is SnapshotReplyFrame reply ? Snapshot.FromBytes(reply.Snapshot) : null);
        return SendSession(session, seq => new SnapshotRequestFrame(session, seq), pending, pending.Task, null, cancellationToken);
    }

    /// <summary>Gives the session the snapshot's state and position, opening it if needed; the bytes go back unchanged.</summary>
    public Task RestoreAsync(string session, Snapshot snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var pending = Acknowledged(session, FrameType.Restore);
        return SendSession(session, seq => new RestoreFrame(session, seq, snapshot.Bytes), pending, pending.Task, null, cancellationToken);
    }

    /// <summary>
    /// Runs a whole sequence in bulk mode, from <paramref name="from"/> or, when null, from the session's current state;
    /// the session's state afterwards is the final state.
    /// </summary>
    public Task<ReplayReply> ReplayAsync(string session, IReadOnlyList<TokenInput> inputs, StartState? from = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var pending = new PendingReplay(session, inputs.Count);
        return SendSession(session, seq => ReplayFrameOf(session, seq, inputs, from), pending, pending.Task, null, cancellationToken);
    }

    /// <summary>
    /// Generates in <paramref name="session"/> (open already) and yields each step as the server sends it, as soon as it
    /// is computed. The enumeration ends after a stop id or <see cref="GenerationRequest.MaxSteps"/> steps. Cancelling
    /// <paramref name="cancellationToken"/> sends a CancelGeneration: the server stops at its next step and the steps
    /// it sent before still arrive, then the enumeration ends (so every step yielded was consumed by the session).
    /// Disposing the enumerator early also cancels, without waiting for the rest.
    /// </summary>
    /// <exception cref="StreamingClientException">The server refused the request (InvalidInput naming the field,
    /// GenerationNotSupported, UnknownSession, ...), or the session was closed, evicted or the server shut down while it
    /// generated: GenerationInterrupted (16), with <see cref="StreamingClientException.Position"/> the session's position.</exception>
    public async IAsyncEnumerable<GenerationStep> GenerateAsync(string session, GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var pending = new PendingGeneration(session);
        ulong sequence = 0;
        // Never held nor retried: its steps stream as they are computed, and a resend would generate them again.
        var sent = SendSession(session, seq =>
        {
            sequence = seq;
            return GenerateFrameOf(session, seq, request);
        }, pending, pending.End, null, CancellationToken.None, retryable: false);
        if (sent.IsFaulted)
        {
            await sent.ConfigureAwait(false);
        }

        var ended = false;
        using var cancel = cancellationToken.Register(() => SendCancel(session, sequence));
        try
        {
            await foreach (var step in pending.Steps.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                yield return step;
            }

            var end = await pending.End.ConfigureAwait(false);
            ended = true;
            if (end.Reason == GenerationEndReason.Interrupted)
            {
                throw new StreamingClientException((ushort)SessionErrorCode.GenerationInterrupted,
                    $"session '{session}': its generation was interrupted after {end.Steps} step(s) (the session was closed or evicted, or the server shut down); every step received was consumed. The session is at position {end.Position}.",
                    session) { Position = end.Position };
            }
        }
        finally
        {
            if (!ended && !pending.End.IsCompleted)
            {
                // The consumer stopped early: stop the server's generation and drop what is still coming.
                SendCancel(session, sequence);
                if (_pending.TryRemove(sequence, out var dropped))
                {
                    Answered(dropped, applied: true);
                }
            }
        }
    }

    private void SendCancel(string session, ulong sequence) =>
        _outgoing.Writer.TryWrite(_codec.Encode(new CancelGenerationFrame(session, sequence)));

    private static GenerateFrame GenerateFrameOf(string session, ulong sequence, GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request.Prompt);
        ArgumentNullException.ThrowIfNull(request.Sampling);
        ArgumentNullException.ThrowIfNull(request.StopIds);
        var sampling = request.Sampling;
        if (sampling.TopK is < 1)
        {
            throw new ArgumentException($"Sampling.TopK is {sampling.TopK}; expected 1 or more, or none (null) for all ids.", nameof(request));
        }

        var frame = new GenerateFrame(session, sequence, request.MaxSteps)
        {
            Random = !sampling.IsGreedy,
            Seed = sampling.Seed,
            Temperature = sampling.Temperature,
            TopK = sampling.TopK ?? 0,
            TopP = sampling.TopP,
            StopIds = request.StopIds.ToArray(),
            ReportTop = request.ReportTop,
        };
        if (request.Prompt.Count == 0 || request.Prompt[0].IsId)
        {
            if (request.Prompt.FirstOrDefault(t => !t.IsId) is { } vector)
            {
                throw new ArgumentException($"the prompt mixes ids and vectors ({vector}); a prompt is all ids or all vectors.", nameof(request));
            }

            return frame with { PromptIds = request.Prompt.Select(t => t.TokenId).ToArray() };
        }

        var replay = ReplayFrameOf(session, sequence, request.Prompt, null);
        return frame with { PromptKind = TokenKind.Vectors, PromptWidth = replay.Width, PromptInputs = replay.Inputs };
    }

    /// <summary>Sets the session's state to zeros and its position to 0.</summary>
    public Task ResetAsync(string session, CancellationToken cancellationToken = default)
    {
        var pending = Acknowledged(session, FrameType.Reset);
        return SendSession(session, seq => new ResetFrame(session, seq), pending, pending.Task, null, cancellationToken);
    }

    /// <summary>Closes the session and frees its state on the server.</summary>
    /// <remarks>A close refused StoreFailed has closed the session on the server, but its stored copy may remain; the retry deletes it.</remarks>
    public Task CloseAsync(string session, CancellationToken cancellationToken = default)
    {
        var pending = Acknowledged(session, FrameType.Close);
        return SendSession(session, seq => new CloseFrame(session, seq), pending, pending.Task, null, cancellationToken);
    }

    /// <summary>Sends a Ping and returns the round-trip time to its Pong.</summary>
    public async Task<TimeSpan> PingAsync()
    {
        var started = Stopwatch.GetTimestamp();
        await Send(nonce => new PingFrame(nonce), PendingRequest.Of(frame => frame is PongFrame ? (object)frame : null)).ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>
    /// Asks the server for its status: whether it serves session requests (<see cref="StatusFrame.Ready"/>) and what the
    /// kernel check of its backend found: the compute path each role of each layer serves with, the paths rejected on the
    /// server's machine, and their errors against the float64 reference of PyTorch's equations.
    /// </summary>
    /// <exception cref="StreamingClientException">
    /// The connection ended first, for instance because the server sent a malformed Status, or because it predates the
    /// Status frame and refused the request as <see cref="ProtocolErrorCode.UnknownFrameType"/>.
    /// </exception>
    public Task<StatusFrame> StatusAsync() =>
        Send(nonce => new StatusRequestFrame(nonce), PendingRequest.Of(frame => frame as StatusFrame));

    /// <summary>Closes the connection; unanswered requests fail with a <see cref="StreamingClientException"/>. The server keeps the sessions open.</summary>
    public async ValueTask DisposeAsync()
    {
        _outgoing.Writer.TryComplete();
        try
        {
            await _writer.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection was gone already.
        }

        ShutdownQuietly(SocketShutdown.Send);

        await _stop.CancelAsync().ConfigureAwait(false);
        _tcp.Dispose();
        await _reader.ConfigureAwait(false);
        _stop.Dispose();
    }

    private static ReplayFrame ReplayFrameOf(string session, ulong sequence, IReadOnlyList<TokenInput> inputs, StartState? from)
    {
        ReplayFrame frame;
        if (inputs.Count > 0 && inputs[0].IsId)
        {
            frame = ReplayFrame.OfIds(session, sequence, inputs.Select(t => t.TokenId).ToArray());
        }
        else
        {
            var width = inputs.Count == 0 ? 1 : inputs[0].Values.Length;
            var values = new float[inputs.Count * width];
            for (var t = 0; t < inputs.Count; t++)
            {
                if (inputs[t].IsId || inputs[t].Values.Length != width)
                {
                    throw new ArgumentException($"inputs[{t}] is {inputs[t]}; every step of a replay frame has the kind and width of the first ({width} values).", nameof(inputs));
                }

                inputs[t].Values.Span.CopyTo(values.AsSpan(t * width, width));
            }

            frame = ReplayFrame.OfVectors(session, sequence, inputs.Count, width, values);
        }

        return from is null ? frame : frame with { H0 = from.H0, C0 = from.C0 };
    }

    private static PendingRequest.Pending<object> Acknowledged(string session, FrameType type) =>
        PendingRequest.Of(frame => frame is AckFrame ack && ack.Acknowledged == type ? (object)ack : null);

    private Task<T> Send<T>(Func<ulong, Frame> create, PendingRequest.Pending<T> pending)
        where T : class => Send(create, pending, pending.Task);

    private ulong NextSequence() => (ulong)Interlocked.Increment(ref _sequence);

    private static StreamingClientException Unsendable(Exception e)
    {
        var code = e is ProtocolException p ? (ushort)p.Code : (ushort)SessionErrorCode.InvalidInput;
        return new StreamingClientException(code, "the request cannot be sent: " + e.Message, null, false, e);
    }

    private Task<T> Send<T>(Func<ulong, Frame> create, PendingRequest pending, Task<T> result)
    {
        if (_closed is { } closed)
        {
            return Task.FromException<T>(closed);
        }

        var sequence = NextSequence();
        byte[] bytes;
        try
        {
            bytes = _codec.Encode(create(sequence));
        }
        catch (Exception e) when (e is ProtocolException or ArgumentException)
        {
            return Task.FromException<T>(Unsendable(e));
        }

        _pending[sequence] = pending;
        if (!_outgoing.Writer.TryWrite(bytes))
        {
            _pending.TryRemove(sequence, out _);
            return Task.FromException<T>(_closed ?? new StreamingClientException(0, "the client is closed.", connectionLost: true));
        }

        // The reader may have failed everything between the check above and the registration.
        if (_closed is { } lost && _pending.TryRemove(sequence, out _))
        {
            pending.Fail(lost);
        }

        return result;
    }

    private async Task WriteLoopAsync()
    {
        var reader = _outgoing.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var bytes))
                {
                    await _output.WriteAsync(bytes, _stop.Token).ConfigureAwait(false);
                }

                await _output.FlushAsync(_stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
            Close(new StreamingClientException(0, "the connection failed while sending: " + e.Message, connectionLost: true, innerException: e));
        }
    }

    private async Task ReadLoopAsync()
    {
        ErrorFrame? farewell = null;
        try
        {
            while (await ReadFrameAsync(_input, _codec, _stop.Token).ConfigureAwait(false) is { } frame)
            {
                switch (frame)
                {
                    case ErrorFrame error when error.Sequence != 0 && _pending.TryRemove(error.Sequence, out var refused):
                        Refused(refused, error);
                        break;
                    case ErrorFrame error when error.EndsConnection:
                        // The server's last frame: closing our side at once lets the server close without a reset.
                        farewell = error;
                        Close(StreamingClientException.From(error, connectionLost: true));
                        ShutdownQuietly(SocketShutdown.Send);
                        break;
                    case ErrorFrame:
                        // A connection-level refusal that matches no request (a frame sent the wrong way): nothing waits for it.
                        break;
                    case PingFrame ping:
                        _outgoing.Writer.TryWrite(_codec.Encode(new PongFrame(ping.Nonce)));
                        break;
                    case PongFrame pong:
                        if (_pending.TryRemove(pong.Nonce, out var pinged))
                        {
                            pinged.Accept(pong);
                        }

                        break;
                    case StatusFrame status:
                        if (_pending.TryRemove(status.Nonce, out var asked))
                        {
                            asked.Accept(status);
                        }

                        break;
                    case SessionFrame reply when _pending.TryGetValue(reply.Sequence, out var request):
                        if (request.Accept(reply))
                        {
                            _pending.TryRemove(reply.Sequence, out _);
                            Answered(request, applied: true);
                        }

                        break;
                    default:
                        // A reply nothing waits for, or a frame only clients send (a StatusRequest, a Token): a client
                        // sends no Error frames, so it ignores it.
                        break;
                }
            }

            Close(farewell is null
                ? new StreamingClientException(0, "the server closed the connection.", connectionLost: true)
                : StreamingClientException.From(farewell, connectionLost: true));

            ShutdownQuietly(SocketShutdown.Both);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or SocketException or ProtocolException)
        {
            Close(farewell is not null
                ? StreamingClientException.From(farewell, connectionLost: true)
                : e is ProtocolException p
                    ? new StreamingClientException((ushort)p.Code, "the server sent a frame this client cannot read: " + p.Message, connectionLost: true, innerException: e)
                    : new StreamingClientException(0, "the connection failed: " + e.Message, connectionLost: true, innerException: e));
        }
    }

    private void ShutdownQuietly(SocketShutdown how)
    {
        try
        {
            _socket.Shutdown(how);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed: nothing to do.
        }
    }

    private void Close(StreamingClientException reason)
    {
        Interlocked.CompareExchange(ref _closed, reason, null);
        _outgoing.Writer.TryComplete();
        _retries?.Close(_closed);
        foreach (var sequence in _pending.Keys)
        {
            if (_pending.TryRemove(sequence, out var request))
            {
                request.Fail(_closed);
            }
        }
    }

    /// <summary>Reads one whole frame, or null at a clean end of the stream between frames.</summary>
    private static async Task<Frame?> ReadFrameAsync(Stream stream, FrameCodec codec, CancellationToken cancellationToken)
    {
        var prefix = new byte[FrameCodec.LengthFieldBytes];
        var got = await stream.ReadAtLeastAsync(prefix, prefix.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (got == 0)
        {
            return null;
        }

        if (got < prefix.Length)
        {
            throw new ProtocolException(ProtocolErrorCode.TruncatedFrame, $"the connection ended after {got} byte(s) of a length prefix.");
        }

        var length = codec.PeekFrameLength(new ReadOnlySequence<byte>(prefix))!.Value;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            prefix.CopyTo(buffer, 0);
            await stream.ReadExactlyAsync(buffer.AsMemory(prefix.Length, length - prefix.Length), cancellationToken).ConfigureAwait(false);
            return codec.Decode(buffer.AsSpan(0, length));
        }
        catch (EndOfStreamException e)
        {
            throw new ProtocolException(ProtocolErrorCode.TruncatedFrame, "the connection ended inside a frame: " + e.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
