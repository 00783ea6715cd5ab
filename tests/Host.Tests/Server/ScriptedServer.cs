using System.Net;
using System.Net.Sockets;
using Streaming.Client.Protocol;
using Streaming.TestSupport;

namespace Host.Tests.Server;

/// <summary>
/// A one-connection server that completes the handshake and answers every later frame with the bytes a test's script
/// returns for it: the misbehaving (or old, or not ready) server, for testing clients.
/// </summary>
internal sealed class ScriptedServer : IAsyncDisposable
{
    private static readonly FrameCodec Codec = new();
    private readonly TcpListener _listener;

    private ScriptedServer(TcpListener listener, Func<Frame, IEnumerable<byte[]>> script)
    {
        _listener = listener;
        Completion = RunAsync(script);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Completes when the client has closed the connection (or the server was disposed).</summary>
    public Task Completion { get; }

    public static ScriptedServer Start(Func<Frame, IEnumerable<byte[]>> script)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new ScriptedServer(listener, script);
    }

    /// <summary>The encoding of a well-formed frame, for scripts.</summary>
    public static byte[] Encode(Frame frame) => Codec.Encode(frame);

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await Completion;
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            // The test ended before the client connected, or the client reset the connection.
        }
    }

    private async Task RunAsync(Func<Frame, IEnumerable<byte[]>> script)
    {
        using var tcp = await _listener.AcceptTcpClientAsync();
        var stream = tcp.GetStream();
        Assert.IsType<HelloFrame>(await ReadAsync(stream));
        await stream.WriteAsync(Encode(new WelcomeFrame(1, "scripted", TokenKind.Vectors, 3, 5, ProtocolLimits.Default)));
        while (await ReadAsync(stream) is { } frame)
        {
            foreach (var bytes in script(frame))
            {
                await stream.WriteAsync(bytes);
            }
        }
    }

    /// <summary>The next frame, or null when the client has closed the connection.</summary>
    private static Task<Frame?> ReadAsync(NetworkStream stream) => FrameReading.ReadFrameAsync(stream, Codec);
}
