using System.Net;
using System.Net.Sockets;
using Streaming.Client.Protocol;
using Streaming.TestSupport;

namespace Client.Tests;

/// <summary>
/// A one-connection server whose sessions live in a store the test fails on purpose, request by request: each session
/// request is refused StoreFailed while <see cref="Refuse"/> says so, otherwise applied as the protocol says (positions,
/// DuplicateToken with the kept output, PositionAhead). Token outputs are one float, the token's position, so a test
/// sees where each token was applied; <see cref="Applied"/> lists what was applied, in order. It answers the frames of a
/// connection in the order it reads them, as the server does per session.
/// </summary>
internal sealed class StoreServer : IAsyncDisposable
{
    private static readonly FrameCodec Codec = new();
    private readonly TcpListener _listener;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _positions = new(StringComparer.Ordinal);
    private readonly List<string> _applied = [];
    private readonly List<SessionFrame> _received = [];
    private Func<SessionFrame, bool> _refuse = _ => false;
    private int _holdFirst;

    private StoreServer()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Completion = RunAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public Task Completion { get; }

    /// <summary>What was applied, in order: "open s", "token s@p" (p the position it was applied at), "close s".</summary>
    public IReadOnlyList<string> Applied
    {
        get
        {
            lock (_gate)
            {
                return _applied.ToArray();
            }
        }
    }

    /// <summary>Every session frame received, resends included.</summary>
    public IReadOnlyList<SessionFrame> Received
    {
        get
        {
            lock (_gate)
            {
                return _received.ToArray();
            }
        }
    }

    public static StoreServer Start() => new();

    /// <summary>From now on, a session request for which <paramref name="refuse"/> is true is refused StoreFailed.</summary>
    public void Refuse(Func<SessionFrame, bool> refuse)
    {
        lock (_gate)
        {
            _refuse = refuse;
        }
    }

    /// <summary>The store is down (true: every session request is refused StoreFailed) or up.</summary>
    public void StoreDown(bool down) => Refuse(_ => down);

    /// <summary>
    /// The first <paramref name="frames"/> session frames are answered only once all of them have arrived, so that they
    /// are on the wire together, as a client's pipelined requests are when the first refusal reaches it.
    /// </summary>
    public void HoldFirst(int frames) => _holdFirst = frames;

    /// <summary>A session open at <paramref name="position"/>, as if its tokens had been applied before (their outputs kept).</summary>
    public void Holds(string session, long position)
    {
        lock (_gate)
        {
            _positions[session] = position;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await Completion;
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            // The client reset the connection, or never connected.
        }
    }

    private async Task RunAsync()
    {
        using var tcp = await _listener.AcceptTcpClientAsync();
        var stream = tcp.GetStream();
        Assert.IsType<HelloFrame>(await ReadAsync(stream));
        await stream.WriteAsync(Codec.Encode(new WelcomeFrame(1, "store", TokenKind.Ids, 10, 1, ProtocolLimits.Default)));
        var held = new List<SessionFrame>();
        while (await ReadAsync(stream) is { } frame)
        {
            if (frame is PingFrame ping)
            {
                await stream.WriteAsync(Codec.Encode(new PongFrame(ping.Nonce)));
            }
            else if (frame is SessionFrame request)
            {
                held.Add(request);
                if (held.Count < _holdFirst)
                {
                    continue;
                }

                _holdFirst = 0;
                foreach (var waiting in held)
                {
                    await stream.WriteAsync(Codec.Encode(Answer(waiting)));
                }

                held.Clear();
            }
        }
    }

    private Frame Answer(SessionFrame request)
    {
        lock (_gate)
        {
            _received.Add(request);
            if (_refuse(request))
            {
                return new ErrorFrame(request.Session, request.Sequence, (ushort)SessionErrorCode.StoreFailed,
                    $"session '{request.Session}' could not be loaded: the test's store is down");
            }

            var open = _positions.TryGetValue(request.Session, out var position);
            switch (request)
            {
                case OpenFrame when open:
                    return new ErrorFrame(request.Session, request.Sequence, (ushort)SessionErrorCode.SessionAlreadyOpen, "already open");
                case OpenFrame:
                    _positions[request.Session] = 0;
                    _applied.Add($"open {request.Session}");
                    return new AckFrame(request.Session, request.Sequence, FrameType.Open);
                case CloseFrame when open:
                    _positions.Remove(request.Session);
                    _applied.Add($"close {request.Session}");
                    return new AckFrame(request.Session, request.Sequence, FrameType.Close);
                case TokenFrame token when open:
                    return Apply(token, position);
                default:
                    return new ErrorFrame(request.Session, request.Sequence, (ushort)SessionErrorCode.UnknownSession, "not open");
            }
        }
    }

    private Frame Apply(TokenFrame token, long position)
    {
        if (token.Position is { } at && at < position)
        {
            return new ErrorFrame(token.Session, token.Sequence, (ushort)SessionErrorCode.DuplicateToken, "applied already")
            {
                Position = position,
                Output = new[] { (float)at },
            };
        }

        if (token.Position is { } ahead && ahead > position)
        {
            return new ErrorFrame(token.Session, token.Sequence, (ushort)SessionErrorCode.PositionAhead, "ahead") { Position = position };
        }

        _positions[token.Session] = position + 1;
        _applied.Add($"token {token.Session}@{position}");
        return new OutputFrame(token.Session, token.Sequence, position, new[] { (float)position });
    }

    private static Task<Frame?> ReadAsync(NetworkStream stream) => FrameReading.ReadFrameAsync(stream, Codec);
}
