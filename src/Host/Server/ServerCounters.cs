namespace Streaming.Host.Server;

/// <summary>The server's counters, updated by every connection with interlocked operations and read as <see cref="ServerStatistics"/>.</summary>
internal sealed class ServerCounters
{
    private readonly long[] _errorsByCode = new long[ushort.MaxValue + 1];
    private long _accepted;
    private long _open;
    private long _framesReceived;
    private long _framesSent;
    private long _pending;
    private long _peakPendingPerConnection;
    private long _pendingBytes;
    private long _peakPendingBytesPerConnection;
    private long _refused;
    private long _acceptFailures;
    private long _readPauses;

    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _accepted);
        Interlocked.Increment(ref _open);
    }

    public void ConnectionClosed() => Interlocked.Decrement(ref _open);

    public void ConnectionRefused() => Interlocked.Increment(ref _refused);

    public void AcceptFailed() => Interlocked.Increment(ref _acceptFailures);

    public void ReadPaused() => Interlocked.Increment(ref _readPauses);

    public void FrameReceived() => Interlocked.Increment(ref _framesReceived);

    public void FramesSent(int count) => Interlocked.Add(ref _framesSent, count);

    public void ErrorSent(ushort code) => Interlocked.Increment(ref _errorsByCode[code]);

    /// <summary>Adds <paramref name="delta"/> to the pending items of all connections, and records one connection's new count as a peak.</summary>
    public void PendingChanged(long delta, int connectionPending)
    {
        Interlocked.Add(ref _pending, delta);
        long peak;
        while (connectionPending > (peak = Interlocked.Read(ref _peakPendingPerConnection)))
        {
            if (Interlocked.CompareExchange(ref _peakPendingPerConnection, connectionPending, peak) == peak)
            {
                break;
            }
        }
    }

    /// <summary>Adds <paramref name="delta"/> to the pending bytes of all connections, and records one connection's new count as a peak.</summary>
    public void PendingBytesChanged(long delta, long connectionBytes)
    {
        Interlocked.Add(ref _pendingBytes, delta);
        long peak;
        while (connectionBytes > (peak = Interlocked.Read(ref _peakPendingBytesPerConnection)))
        {
            if (Interlocked.CompareExchange(ref _peakPendingBytesPerConnection, connectionBytes, peak) == peak)
            {
                break;
            }
        }
    }

    public ServerStatistics Read()
    {
        var errors = new Dictionary<ushort, long>();
        for (var code = 0; code < _errorsByCode.Length; code++)
        {
            var count = Interlocked.Read(ref _errorsByCode[code]);
            if (count > 0)
            {
                errors[(ushort)code] = count;
            }
        }

        return new ServerStatistics(
            Interlocked.Read(ref _accepted),
            (int)Interlocked.Read(ref _open),
            Interlocked.Read(ref _framesReceived),
            Interlocked.Read(ref _framesSent),
            Interlocked.Read(ref _pending),
            (int)Interlocked.Read(ref _peakPendingPerConnection),
            errors)
        {
            PendingBytes = Interlocked.Read(ref _pendingBytes),
            PeakPendingBytesPerConnection = Interlocked.Read(ref _peakPendingBytesPerConnection),
            ConnectionsRefused = Interlocked.Read(ref _refused),
            AcceptFailures = Interlocked.Read(ref _acceptFailures),
            ReadPauses = Interlocked.Read(ref _readPauses),
        };
    }
}
