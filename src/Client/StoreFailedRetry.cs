namespace Streaming.Client;

/// <summary>
/// How a <see cref="StreamingClient"/> retries the requests its server refused
/// <see cref="Protocol.SessionErrorCode.StoreFailed"/> (12: the server's snapshot store could not load, save or delete the
/// session; nothing else was wrong, and nothing was applied). docs/protocol.md, "Retrying StoreFailed", specifies it:
/// the refused request and the session's later requests are resent in their order, after a back-off that starts at
/// <see cref="FirstDelay"/> and doubles up to <see cref="MaxDelay"/>, each delay shortened by a random part of up to
/// <see cref="Jitter"/> so that many clients do not come back at once; after <see cref="GiveUpAfter"/> without progress
/// the session's requests fail with the last StoreFailed the server sent.
/// </summary>
public sealed record StoreFailedRetry
{
    /// <summary>The protocol's recommendation: 100 ms doubling to 5 s, up to 50% jitter, giving up after 60 s.</summary>
    public static StoreFailedRetry Default { get; } = new();

    /// <summary>The wait before the first resend (default 100 ms).</summary>
    public TimeSpan FirstDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between two resends (default 5 s); each wait doubles the one before up to this.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The largest fraction of each wait taken off at random, 0 to 1 (default 0.5: a wait of d lasts between d/2 and d).</summary>
    public double Jitter { get; init; } = 0.5;

    /// <summary>
    /// How long a session may go without progress before the client stops resending its requests (default 60 s),
    /// counted from the first StoreFailed since the session last had a request answered: the requests the client holds
    /// for the session then fail with the last StoreFailed, saying so. <see cref="TimeSpan.Zero"/> never resends.
    /// </summary>
    public TimeSpan GiveUpAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The wait before resend number <paramref name="attempt"/> (from 1): <see cref="FirstDelay"/> x 2^(attempt-1), at most
    /// <see cref="MaxDelay"/>, less <paramref name="random"/> (0 to 1) x <see cref="Jitter"/> of it.
    /// </summary>
    internal TimeSpan Delay(int attempt, double random)
    {
        var doubled = FirstDelay.Ticks * Math.Pow(2, Math.Min(attempt - 1, 62));
        var ticks = Math.Min(doubled, MaxDelay.Ticks);
        return TimeSpan.FromTicks((long)(ticks * (1 - (Jitter * random))));
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    internal void Validate()
    {
        Require(FirstDelay > TimeSpan.Zero, $"FirstDelay is {FirstDelay}; expected a positive duration.");
        Require(MaxDelay >= FirstDelay, $"MaxDelay ({MaxDelay}) is shorter than FirstDelay ({FirstDelay}); expected at least FirstDelay.");
        Require(Jitter is >= 0 and <= 1, $"Jitter is {Jitter}; expected a fraction from 0 to 1.");
        Require(GiveUpAfter >= TimeSpan.Zero, $"GiveUpAfter is {GiveUpAfter}; expected zero (never resend) or a positive duration.");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException("StoreFailedRetry: " + message);
        }
    }
}
