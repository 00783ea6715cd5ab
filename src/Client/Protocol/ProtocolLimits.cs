namespace Streaming.Client.Protocol;

/// <summary>
/// The limits a server enforces on each connection; it announces them in its Welcome frame.
/// Defaults: 1 MiB frames, 1024 sessions per connection, 256 tokens in flight per session,
/// 5 minutes idle timeout.
/// </summary>
public sealed record ProtocolLimits
{
    /// <summary>The smallest allowed <see cref="MaxFrameBytes"/>: room for any Error, Hello or Welcome frame with a short message.</summary>
    public const int MinFrameBytes = 1024;

    /// <summary>The largest allowed <see cref="MaxFrameBytes"/> (1 GiB).</summary>
    public const int MaxAllowedFrameBytes = 1 << 30;

    /// <summary>The defaults.</summary>
    public static ProtocolLimits Default { get; } = new();

    /// <summary>
    /// The largest frame, in bytes, counting its 4-byte length prefix; both directions. Exactly the
    /// <c>maximumFrameLength</c> of Akka's <c>Framing.LengthField</c>. Default 1 MiB.
    /// </summary>
    public int MaxFrameBytes { get; init; } = 1 << 20;

    /// <summary>Sessions one connection may have open at once. Default 1024.</summary>
    public int MaxSessionsPerConnection { get; init; } = 1024;

    /// <summary>Token and Replay frames of one session received but not yet answered (a replay counts as one: its size is bounded by the frame size). Default 256.</summary>
    public int MaxTokensInFlightPerSession { get; init; } = 256;

    /// <summary>A connection that sends nothing for this long is closed; zero means never. Whole milliseconds on the wire. Default 5 minutes.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Checks every limit.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is out of range; the message names it, its value and the range.</exception>
    public void Validate()
    {
        if (Problem() is { } problem)
        {
            throw new ArgumentOutOfRangeException(problem.Setting, problem.Message);
        }
    }

    /// <summary>The first limit out of range and a message naming its value and range, or null when all are valid.</summary>
    internal (string Setting, string Message)? Problem()
    {
        if (MaxFrameBytes is < MinFrameBytes or > MaxAllowedFrameBytes)
        {
            return (nameof(MaxFrameBytes), $"{nameof(MaxFrameBytes)} is {MaxFrameBytes}; expected {MinFrameBytes} to {MaxAllowedFrameBytes} bytes.");
        }

        if (MaxSessionsPerConnection < 1)
        {
            return (nameof(MaxSessionsPerConnection), $"{nameof(MaxSessionsPerConnection)} is {MaxSessionsPerConnection}; expected at least 1.");
        }

        if (MaxTokensInFlightPerSession < 1)
        {
            return (nameof(MaxTokensInFlightPerSession), $"{nameof(MaxTokensInFlightPerSession)} is {MaxTokensInFlightPerSession}; expected at least 1.");
        }

        if (IdleTimeout < TimeSpan.Zero || IdleTimeout.TotalMilliseconds > uint.MaxValue)
        {
            return (nameof(IdleTimeout), $"{nameof(IdleTimeout)} is {IdleTimeout}; expected zero (never) up to {uint.MaxValue} ms.");
        }

        return null;
    }
}
