namespace Streaming.Client;

/// <summary>How a <see cref="StreamingClient"/> behaves beyond the protocol's own rules. Every setting has a default.</summary>
public sealed record StreamingClientOptions
{
    /// <summary>The defaults: requests refused StoreFailed are retried as <see cref="Client.StoreFailedRetry.Default"/> says.</summary>
    public static StreamingClientOptions Default { get; } = new();

    /// <summary>
    /// How requests the server refuses <see cref="Protocol.SessionErrorCode.StoreFailed"/> are retried (default
    /// <see cref="Client.StoreFailedRetry.Default"/>: on, giving up after 60 s); null never retries them, and such a
    /// refusal fails its call at once. On by default because StoreFailed is the one refusal the protocol tells every client
    /// to retry, and retrying it is always safe: the refused request was not applied (a Close refused StoreFailed had
    /// closed the session, and its retry deletes the stored copy), and a resent token with a position that had been
    /// applied after all is answered with its original output.
    /// </summary>
    public StoreFailedRetry? StoreFailedRetry { get; init; } = Client.StoreFailedRetry.Default;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    internal void Validate() => StoreFailedRetry?.Validate();
}
