using System.Net.Sockets;
using Streaming.Client.Protocol;
using Streaming.TestSupport;

namespace Host.Tests.Server;

/// <summary>A bare TCP connection that writes whatever bytes a test gives it and reads frames back: the misbehaving client.</summary>
internal sealed class RawConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly FrameCodec _codec = new();

    private RawConnection(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawConnection> ConnectAsync(int port, bool hello = true)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        var connection = new RawConnection(tcp);
        if (hello)
        {
            await connection.SendAsync(HelloFrame.Current);
            Assert.IsType<WelcomeFrame>(await connection.ReadAsync());
        }

        return connection;
    }

    /// <summary>
    /// Whether reading the server's last frame (an Error that ends the connection) closes our sending side, as a
    /// well-behaved client does (default true); false plays a client that keeps its side open.
    /// </summary>
    public bool ClosesAfterLastFrame { get; set; } = true;

    public Task SendAsync(Frame frame) => SendAsync(_codec.Encode(frame));

    public async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

    /// <summary>Ends the sending side (the server sees the end of its input) and keeps reading.</summary>
    public void ShutdownSend() => _tcp.Client.Shutdown(SocketShutdown.Send);

    /// <summary>The next frame, or null when the server has closed the connection.</summary>
    public async Task<Frame?> ReadAsync()
    {
        try
        {
            if (await FrameReading.ReadFrameAsync(_stream, _codec) is not { } decoded)
            {
                return null;
            }

            if (decoded is ErrorFrame { EndsConnection: true } && ClosesAfterLastFrame && _tcp.Client.Connected)
            {
                // The server's last frame: close our side as a well-behaved client does, so the server closes at once.
                _tcp.Client.Shutdown(SocketShutdown.Send);
            }

            return decoded;
        }
        catch (IOException)
        {
            // A reset after the server closed is the same end of the connection.
            return null;
        }
    }

    public async Task<ErrorFrame> ReadErrorAsync() => Assert.IsType<ErrorFrame>(await ReadAsync());

    /// <summary>Reads frames until the server closes the connection; returns them.</summary>
    public async Task<List<Frame>> ReadToEndAsync()
    {
        var frames = new List<Frame>();
        while (await ReadAsync() is { } frame)
        {
            frames.Add(frame);
        }

        return frames;
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
